"""The benchmark harness: `python -m bench.run --leads 1000000` (what `make bench` runs).

1. Generates the exports once with `leadctl sample` (cached in bench/data/, keyed by leads and
   seed) and writes a config for them next to the exports.
2. Runs every stage as its own process, in pipeline order into one output folder (validate,
   train, score, rate, verify, assign, expire, report), then the whole night as `leadctl run`
   into a fresh folder (models from step 2 are current, so `run` does not retrain). Each
   process: wall time, CPU time, peak RSS.
3. Measures the floor (bench/floor.py), the engagement-feature build of leadctl against the
   plain pandas baseline (bench/features.py, bench/pandas_baseline.py), and profiles `leadctl
   run` with pyinstrument.
4. Saves the numbers as JSON and renders bench/results.md (bench/report.py).

Stages this tree does not have yet are reported as "not available"; a stage that fails is
reported with its exit code and the end of its error output, and the harness goes on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report as R
from bench.dataset import DATA_DIR, ROOT, Dataset, dataset_for, generate, write_config
from bench.measure import Measurement
from bench.measure import run_child as _run_child

STAGES = ["validate", "train", "score", "rate", "verify", "assign", "expire", "report"]
PARTS = ["train", "stages", "run", "floor", "features", "profile"]
TRAIN_LEADS = 62_000  # with the default snapshots: about 1 M labelled snapshot rows
RESULTS_DIR = ROOT / "bench" / "results"
COMMITTED_SIZES = (1_000_000, 10_000_000)

_PROBE = """
import importlib, json
from leadctl.cli_common import app
import leadctl.cli  # noqa: F401  (registers the commands)
names = {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands}
runnable = []
for stage in %r:
    if stage == "validate":
        runnable.append(stage)
        continue
    try:
        module = importlib.import_module(f"leadctl.commands.{stage}_cmd")
    except ImportError:
        continue
    if hasattr(module, f"run_{stage}"):
        runnable.append(stage)
print(json.dumps({"commands": sorted(names), "runnable": runnable}))
"""


ISOLATE = ROOT / "bench" / "isolate"
REAL_FLOOR_MAX_LEADS = 1_000_000
RSS_LIMIT = {"bytes": 16 * 10**9}  # children holding more are killed (--max-rss-gb)


def run_child(cmd: list[str], **kwargs: Any) -> Measurement:
    """bench.measure.run_child with the harness's memory guard."""
    return _run_child(cmd, rss_limit=RSS_LIMIT["bytes"], **kwargs)


def leadctl_env() -> dict[str, str]:
    """The environment of measured leadctl processes: pandas hidden (bench/isolate)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ISOLATE), env.get("PYTHONPATH")) if p)
    return env


def log(message: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def leadctl(python: str, *args: str) -> list[str]:
    return [python, "-m", "leadctl", "--quiet", *args]


def available_stages(python: str) -> dict[str, list[str]]:
    """Which stage commands this tree registers, and which `leadctl run` can call."""
    m = run_child([python, "-c", _PROBE % (STAGES,)], cwd=ROOT, env=leadctl_env())
    if m.returncode != 0:
        log(f"cannot import leadctl's commands: {m.stderr.strip().splitlines()[-1:]}")
        return {"commands": [], "runnable": []}
    return json.loads(m.stdout)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _json_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def measured(m: Measurement, rows: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "returncode": m.returncode,
        "seconds": round(m.seconds, 3),
        "cpu_seconds": round(m.cpu_seconds, 3),
        "peak_rss": m.peak_rss,
        "load_before": round(m.load_before, 2),
        "rows": rows,
        "rows_per_second": round(rows / m.seconds) if rows and m.seconds > 0 else None,
    }
    if m.returncode != 0:
        out["error"] = _tail(m.stderr or m.stdout)
    return out


def _force(stage: str) -> list[str]:
    """`train` skips a group whose card records the same as-of, config and inputs: a benchmark
    must measure the training itself."""
    return ["--force"] if stage == "train" else []


def labelled_rows(summary: Any) -> int | None:
    """Training rows in a train summary: the sum of `rows` in each dict that has `positives`."""
    total = 0
    found = False

    def walk(node: Any) -> None:
        nonlocal total, found
        if isinstance(node, dict):
            if isinstance(node.get("rows"), int) and "positives" in node:
                total += node["rows"]
                found = True
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(summary)
    return total if found else None


def run_stages(
    ds: Dataset,
    python: str,
    as_of: str,
    avail: dict[str, list[str]],
    input_rows: int,
    groups: int,
    fallback_models: Path | None = None,
) -> list[dict[str, Any]]:
    """Each stage as its own process, in order, into <cache>/out (wiped first)."""
    out_dir = ds.root / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    results = []
    for stage in STAGES:
        entry: dict[str, Any] = {"name": stage}
        if stage not in avail["commands"]:
            entry["available"] = False
            results.append(entry)
            log(f"{stage}: not available in this tree")
            continue
        log(f"{stage} ...")
        m = run_child(
            leadctl(
                python, stage, "-c", str(ds.config), "--as-of", as_of, "--json", *_force(stage)
            ),
            cwd=ROOT,
            env=leadctl_env(),
        )
        summary = _json_or_none(m.stdout)
        rows: int | None = ds.leads * groups
        if stage == "validate":
            rows = input_rows
        elif stage == "train":
            rows = labelled_rows(summary)
        entry.update(available=True, **measured(m, rows))
        if stage == "train" and rows is not None:
            entry["rows_note"] = "labelled snapshot rows (all groups)"
        if stage == "train" and m.returncode != 0:
            used = _use_fallback_models(ds, fallback_models)
            if used:
                entry["fallback_models"] = used
                log(f"train failed: later stages use the models trained in {used}")
        results.append(entry)
        status = "ok" if m.returncode == 0 else f"FAILED (exit {m.returncode})"
        log(f"{stage}: {status} in {m.seconds:.1f} s, peak {m.peak_rss / 2**30:.2f} GiB")
    return results


def run_train_budget(leads: int, seed: int, python: str, as_of: str) -> dict[str, Any]:
    """`train` on a data set sized to about 1 M labelled snapshot rows (the issue's budget)."""
    ds = dataset_for(leads, seed)
    log(f"train budget: data set {ds.root.relative_to(ROOT)} ...")
    generate(ds, python)
    write_config(ds)
    shutil.rmtree(ds.root / "out", ignore_errors=True)
    shutil.rmtree(ds.models, ignore_errors=True)
    out: dict[str, Any] = {"leads": leads}
    for stage in ("validate", "train"):
        m = run_child(
            leadctl(
                python, stage, "-c", str(ds.config), "--as-of", as_of, "--json", *_force(stage)
            ),
            cwd=ROOT,
            env=leadctl_env(),
        )
        rows = labelled_rows(_json_or_none(m.stdout)) if stage == "train" else None
        out[stage] = {"name": stage, "available": True, **measured(m, rows)}
        log(f"train budget: {stage} exit {m.returncode} in {m.seconds:.1f} s, {rows or '-'} rows")
    out["models"] = str(ds.models)
    return out


def _use_fallback_models(ds: Dataset, fallback: Path | None) -> str | None:
    """After `train` failed on the full set: copy the train-budget set's models, so the night
    can still be measured with LightGBM models (as it would run between retrains)."""
    if fallback is None or not any(fallback.glob("*/card.json")):
        return None
    shutil.rmtree(ds.models, ignore_errors=True)
    shutil.copytree(fallback, ds.models)
    return str(fallback)


def run_night(
    ds: Dataset, python: str, as_of: str, name: str = "out_run"
) -> tuple[dict[str, Any], Measurement]:
    """The whole night: `leadctl run` into a fresh folder (models shared, so no retraining)."""
    out_dir = ds.root / name
    shutil.rmtree(out_dir, ignore_errors=True)
    log("run (the whole night) ...")
    m = run_child(
        leadctl(
            python, "run", "-c", str(ds.config), "--as-of", as_of, "--out", str(out_dir), "--json"
        ),
        cwd=ROOT,
        env=leadctl_env(),
    )
    entry = {"name": "run", **measured(m, ds.leads)}
    manifest = _json_or_none(m.stdout)
    if isinstance(manifest, dict):
        entry["durations"] = manifest.get("durations_seconds", {})
        entry["skipped"] = {
            k: v["skipped"]
            for k, v in manifest.get("stages", {}).items()
            if isinstance(v, dict) and "skipped" in v
        }
        score = manifest.get("stages", {}).get("score")
        if isinstance(score, dict):
            entry["score_summary"] = {
                k: v for k, v in score.items() if "reason" in k or k in ("rows", "groups")
            }
    status = "ok" if m.returncode == 0 else f"FAILED (exit {m.returncode})"
    log(f"run: {status} in {m.seconds:.1f} s, peak {m.peak_rss / 2**30:.2f} GiB")
    return entry, m


def run_floor(ds: Dataset, python: str, as_of: str) -> dict[str, Any]:
    log("floor (read inputs once + raw LightGBM prediction) ...")
    m = run_child(
        # Real feature matrices need the night's features in memory: up to 1 M leads. Larger
        # sets predict on random rows (the floor says so).
        [python, "-m", "bench.floor", "--config", str(ds.config)]
        + (["--as-of", as_of] if ds.leads <= REAL_FLOOR_MAX_LEADS else []),
        cwd=ROOT,
        env=leadctl_env(),
    )
    entry = {"name": "floor", **measured(m, ds.leads)}
    data = _json_or_none(m.stdout)
    if isinstance(data, dict):
        entry["detail"] = data
    log(f"floor: {entry['seconds']} s (read + predict), peak {m.peak_rss / 2**30:.2f} GiB")
    return entry


def run_features(ds: Dataset, python: str, as_of: str) -> dict[str, Any]:
    """leadctl's engagement features against the pandas baseline, on validate's canonical tables."""
    canonical = ds.root / "out" / as_of / "canonical"
    if not (canonical / "activities.parquet").is_file():
        return {"error": f"{canonical} has no canonical tables: run the stages part first"}
    work = ds.root / "features"
    shutil.rmtree(work, ignore_errors=True)
    common = [
        "--config",
        str(ds.config),
        "--canonical",
        str(canonical),
        "--work",
        str(work),
        "--as-of",
        as_of,
    ]
    prep = run_child(
        [python, "-m", "bench.features", "--engine", "account-keys", *common], cwd=ROOT
    )
    if prep.returncode != 0:
        return {"error": _tail(prep.stderr)}
    out: dict[str, Any] = {}
    for engine in ("polars", "pandas"):
        if engine == "pandas" and importlib.util.find_spec("pandas") is None:
            out[engine] = {"error": "pandas is not installed (pip install -e '.[bench]')"}
            continue
        log(f"features with {engine} ...")
        env = leadctl_env() if engine == "polars" else None
        m = run_child(
            [python, "-m", "bench.features", "--engine", engine, *common], cwd=ROOT, env=env
        )
        entry = measured(m, ds.leads)
        data = _json_or_none(m.stdout)
        if isinstance(data, dict):
            entry["detail"] = data
        out[engine] = entry
        log(f"features {engine}: {data.get('seconds') if isinstance(data, dict) else 'failed'} s")
    ok = all(isinstance(out[e].get("detail"), dict) for e in ("polars", "pandas"))
    if ok:
        from bench.features import compare

        out["agreement"] = {
            "base": compare(
                work / "polars_base.parquet",
                work / "pandas_base.parquet",
                ["lead_id", "snapshot_at"],
            ),
            "group": compare(
                work / "polars_group.parquet",
                work / "pandas_group.parquet",
                ["lead_id", "product_group", "snapshot_at"],
            ),
        }
        out["speedup"] = out["pandas"]["detail"]["seconds"] / out["polars"]["detail"]["seconds"]
    return out


def run_profile(ds: Dataset, python: str, as_of: str, n: int) -> dict[str, Any]:
    """pyinstrument over `leadctl run` (fresh folder); text tree + per-function attribution."""
    if importlib.util.find_spec("pyinstrument") is None:
        return {"error": "pyinstrument is not installed (pip install -e '.[bench]')"}
    profiles = ds.root / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    out_dir = ds.root / "out_profile"
    shutil.rmtree(out_dir, ignore_errors=True)
    session = profiles / f"run-{n}.pyisession"
    log("profiling run with pyinstrument ...")
    m = run_child(
        [
            python,
            "-m",
            "pyinstrument",
            "-r",
            "pyisession",
            "-o",
            str(session),
            "-m",
            "leadctl",
            "--quiet",
            "run",
            "-c",
            str(ds.config),
            "--as-of",
            as_of,
            "--out",
            str(out_dir),
            "--json",
        ],
        cwd=ROOT,
        env=leadctl_env(),
    )
    shutil.rmtree(out_dir, ignore_errors=True)
    if m.returncode != 0 or not session.is_file():
        return {"error": _tail(m.stderr), "returncode": m.returncode}
    text_file = profiles / f"run-{n}.txt"
    json_file = profiles / f"run-{n}.json"
    run_child(
        [
            python,
            "-m",
            "pyinstrument",
            "--load",
            str(session),
            "-r",
            "text",
            "--no-color",
            "--unicode",
            "-p",
            "processor_options.filter_threshold=0.005",
            "-o",
            str(text_file),
        ],
        cwd=ROOT,
    )
    run_child(
        [python, "-m", "pyinstrument", "--load", str(session), "-r", "json", "-o", str(json_file)],
        cwd=ROOT,
    )
    hot = R.hot_spots(json_file) if json_file.is_file() else []
    return {
        "seconds": round(m.seconds, 3),
        "text": str(text_file.relative_to(ROOT)),
        "hot_spots": hot,
    }


def machine() -> dict[str, Any]:
    import os
    import platform
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    cpu = "unknown"
    mem = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            p: ver(p)
            for p in ("leadctl", "polars", "lightgbm", "pyarrow", "numpy", "pandas", "pyinstrument")
        },
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def results_file(n: int, seed: int) -> Path:
    if n in COMMITTED_SIZES and seed == 42:
        return RESULTS_DIR / f"leads{n}.json"
    return DATA_DIR / f"results-leads{n}-seed{seed}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="leadctl benchmark harness (see bench/README.md)")
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-20")
    parser.add_argument(
        "--parts",
        default=",".join(PARTS),
        help=f"comma-separated subset of {','.join(PARTS)} (others keep earlier results)",
    )
    parser.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="where to render the results (default: bench/results.md for 1 M / 10 M "
        "leads, else next to the JSON in bench/data/)",
    )
    parser.add_argument(
        "--train-leads",
        type=int,
        default=TRAIN_LEADS,
        help="leads of the data set `train` is timed on (default: about 1 M labelled rows)",
    )
    parser.add_argument(
        "--models-from",
        type=int,
        default=None,
        help="copy the models of the data set with this many leads (same seed) before `run`, "
        "so the night is measured between retrains (bench-large uses the 1 M set's models)",
    )
    parser.add_argument(
        "--max-rss-gb",
        type=float,
        default=16.0,
        help="kill a measured process holding more memory than this (the machine is shared)",
    )
    args = parser.parse_args(argv)
    RSS_LIMIT["bytes"] = int(args.max_rss_gb * 1e9)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; choose from {PARTS}")
    python = sys.executable
    ds = dataset_for(args.leads, args.seed)
    store = results_file(args.leads, args.seed)
    previous = json.loads(store.read_text()) if store.is_file() else {}
    result: dict[str, Any] = {
        **previous,
        "leads": args.leads,
        "seed": args.seed,
        "as_of": args.as_of,
    }
    result["machine"] = machine()

    log(f"data set {ds.root.relative_to(ROOT)} ...")
    gen = generate(ds, python)
    info = ds.info()
    result["dataset"] = {**info, "generated_now": gen is not None}
    input_rows = sum(info.get("files", {}).values())
    avail = available_stages(python)
    runnable = [s for s in STAGES if s in avail["runnable"]]
    result["available"] = avail
    write_config(ds, None if runnable == STAGES else runnable)
    groups = 3

    started = datetime.now(UTC).isoformat(timespec="seconds")
    if "train" in parts and "train" in avail["commands"]:
        result["train_budget"] = run_train_budget(args.train_leads, args.seed, python, args.as_of)
    fallback = (result.get("train_budget") or {}).get("models")
    if "stages" in parts:
        result["stages"] = run_stages(
            ds, python, args.as_of, avail, input_rows, groups, Path(fallback) if fallback else None
        )
        result["stages_measured_at"] = started
    if args.models_from is not None:
        source = dataset_for(args.models_from, args.seed).models
        copied = _use_fallback_models(ds, source) if source != ds.models else None
        result["models_from"] = str(Path(copied).relative_to(ROOT)) if copied else None
        log(f"models: {result['models_from'] or 'none copied (not found); run trains them'}")
    if "run" in parts:
        entry, _ = run_night(ds, python, args.as_of)
        entry["stages_in_run"] = runnable
        result["run"] = entry
        result["run_measured_at"] = started
    if "floor" in parts:
        result["floor"] = run_floor(ds, python, args.as_of)
    if "features" in parts:
        result["features"] = run_features(ds, python, args.as_of)
    if "profile" in parts:
        result["profile"] = run_profile(ds, python, args.as_of, args.leads)
    result["finished"] = datetime.now(UTC).isoformat(timespec="seconds")

    store.parent.mkdir(parents=True, exist_ok=True)
    store.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    log(f"numbers saved to {store.relative_to(ROOT)}")
    if args.markdown is not None:
        target = args.markdown
    elif store.parent == RESULTS_DIR:
        target = ROOT / "bench" / "results.md"
    else:
        target = store.with_suffix(".md")
    sources = sorted(RESULTS_DIR.glob("leads*.json")) if store.parent == RESULTS_DIR else [store]
    R.write_markdown([json.loads(p.read_text()) for p in sources], target)
    log(f"results written to {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
    return 0


if __name__ == "__main__":
    t0 = time.perf_counter()
    code = main()
    log(f"done in {time.perf_counter() - t0:.0f} s")
    raise SystemExit(code)
