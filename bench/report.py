"""Render the harness's JSON numbers as bench/results.md, with the budgets judged.

The numbers are rendered as measured; bench/analysis.md (written by hand from the profiles)
is appended as it is, so a rerun refreshes the numbers without losing the explanations.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
GB = 1e9
RUN_SECONDS = 60.0
RUN_RSS_1M = 4 * GB
RUN_RSS_10M = 12 * GB
FLOOR_RATIO = 2.0
TRAIN_SECONDS = 180.0
FEATURE_SPEEDUP = 4.0


# ------------------------------------------------------------------------------------ profiles


def _is_ours(frame: dict[str, Any]) -> bool:
    path = str(frame.get("file_path") or "")
    return "/leadctl/" in path and "/site-packages/" not in path


def hot_spots(json_file: Path, top: int = 15) -> list[dict[str, Any]]:
    """Time per leadctl function, counting what it spends in libraries it calls directly
    (polars collect, LightGBM, rapidfuzz ...) but not in other leadctl functions it calls.
    That is where a fix has to go: the innermost leadctl frame above the work."""
    data = json.loads(json_file.read_text())
    root = data.get("root_frame") or {}
    total = float(data.get("duration") or root.get("time") or 0.0)
    spent: dict[tuple[str, str, int], float] = {}

    def ours_below(node: dict[str, Any]) -> float:
        """Time of the nearest leadctl frames under `node` (not counting `node` itself)."""
        t = 0.0
        for child in node.get("children", []):
            t += child.get("time", 0.0) if _is_ours(child) else ours_below(child)
        return t

    def walk(node: dict[str, Any]) -> None:
        if _is_ours(node):
            path = str(node.get("file_path"))
            short = path[path.rfind("/leadctl/") + 1 :]
            key = (short, str(node.get("function")), int(node.get("line_no") or 0))
            spent[key] = spent.get(key, 0.0) + node.get("time", 0.0) - ours_below(node)
        for child in node.get("children", []):
            walk(child)

    walk(root)
    rows = sorted(spent.items(), key=lambda kv: -kv[1])[:top]
    return [
        {
            "file": f,
            "function": fn,
            "line": ln,
            "seconds": round(s, 2),
            "share": round(s / total, 3) if total else None,
        }
        for (f, fn, ln), s in rows
    ]


# ------------------------------------------------------------------------------------- budgets


def _fmt_gb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / GB:.2f} GB"


def _fmt_s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def _ok(entry: dict[str, Any] | None) -> bool:
    return bool(entry) and entry.get("returncode") == 0  # type: ignore[union-attr]


def floor_ratio(res: dict[str, Any]) -> float | None:
    run, floor = res.get("run"), res.get("floor")
    if not (_ok(run) and _ok(floor)):
        return None
    # The floor's own timed seconds (read + predict): its process also builds the real feature
    # matrices before the clock starts, which is not part of the floor.
    seconds = (floor.get("detail") or {}).get("seconds") or floor["seconds"]
    return run["seconds"] / seconds if seconds else None


def _stage(res: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((s for s in res.get("stages", []) if s.get("name") == name), None)


def _incomplete_run(res: dict[str, Any]) -> str | None:
    """Why the measured `run` is not the whole night (stages missing in the tree), or None."""
    run = res.get("run") or {}
    stages = run.get("stages_in_run")
    all_stages = ["validate", "train", "score", "rate", "verify", "assign", "expire", "report"]
    if stages and stages != all_stages:
        missing = [s for s in all_stages if s not in stages]
        return f"the tree had no {', '.join(missing)} stage when measured"
    return None


def budgets(results: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(budget, measured, verdict, why) for every budget of the issue."""
    by_n = {r["leads"]: r for r in results}
    rows: list[tuple[str, str, str, str]] = []
    one = by_n.get(1_000_000)
    if one is None:
        rows.append(("1 M leads budgets", "-", "not measured", "no 1 M run in bench/results/"))
    else:
        run = one.get("run")
        partial = _incomplete_run(one)
        if not _ok(run):
            why = f"`leadctl run` failed: {(run or {}).get('error', 'not run')}".replace("\n", " ")[
                :300
            ]
            for b in ("run <= 60 s", "run peak RSS <= 4 GB", "run <= 2x floor"):
                rows.append((f"1 M / 20 M: {b}", "-", "not met", why))
        else:
            extra = f"; {partial}" if partial else ""
            met = run["seconds"] <= RUN_SECONDS and not partial
            rows.append(
                (
                    "1 M / 20 M: `run` wall time <= 60 s",
                    _fmt_s(run["seconds"]),
                    "met" if met else "not met",
                    f"CPU {run['cpu_seconds']:.0f} s on 2 cores; "
                    f"load {run['load_before']} at start{extra}",
                )
            )
            met = run["peak_rss"] <= RUN_RSS_1M and not partial
            rows.append(
                (
                    "1 M / 20 M: `run` peak RSS <= 4 GB",
                    _fmt_gb(run["peak_rss"]),
                    "met" if met else "not met",
                    f"peak resident set of the `run` process{extra}",
                )
            )
            ratio = floor_ratio(one)
            floor = one.get("floor") or {}
            timed_floor = (floor.get("detail") or {}).get("seconds") or floor.get("seconds")
            met = ratio is not None and ratio <= FLOOR_RATIO and not partial
            rows.append(
                (
                    "1 M / 20 M: `run` <= 2x the floor",
                    f"{ratio:.2f}x" if ratio else "n/a",
                    "met" if met else "not met",
                    f"floor {_fmt_s(timed_floor)} (read inputs + raw LightGBM prediction){extra}",
                )
            )
        budget_set = one.get("train_budget") or {}
        train = budget_set.get("train") or _stage(one, "train")
        where = f" ({budget_set['leads']:,}-lead data set)" if budget_set.get("train") else ""
        if not train or not train.get("available"):
            rows.append(
                (
                    "`train` on 1 M labelled snapshot rows <= 3 min",
                    "-",
                    "not measured",
                    "the tree had no train stage when measured",
                )
            )
        elif not _ok(train):
            rows.append(
                (
                    "`train` on 1 M labelled snapshot rows <= 3 min",
                    "-",
                    "not met",
                    f"train failed: {train.get('error', '')}".replace("\n", " ")[:300],
                )
            )
        else:
            rows_n = train.get("rows")
            what = f"{rows_n:,} labelled rows" if rows_n else "labelled rows unknown"
            rows.append(
                (
                    "`train` on 1 M labelled snapshot rows <= 3 min",
                    _fmt_s(train["seconds"]),
                    "met" if train["seconds"] <= TRAIN_SECONDS else "not met",
                    f"{what}{where}; peak {_fmt_gb(train['peak_rss'])}",
                )
            )
        if _ok(run) and "score" in (run.get("durations") or {}):
            score_s = run["durations"]["score"]
            met = run["seconds"] <= RUN_SECONDS and not partial
            rows.append(
                (
                    "reason codes for routed leads fit inside the run budget",
                    _fmt_s(score_s),
                    "met" if met else "not met",
                    "score (with TreeSHAP reason codes) inside `run`; "
                    "the budget is the whole run's 60 s",
                )
            )
        else:
            rows.append(
                (
                    "reason codes for routed leads fit inside the run budget",
                    "-",
                    "not measured",
                    "no `run` with a score stage was measured",
                )
            )
        feats = one.get("features") or {}
        speed = feats.get("speedup")
        if speed is None:
            why = (feats.get("pandas") or {}).get("error") or feats.get("error") or "not measured"
            rows.append(
                (
                    "engagement features >= 4x faster than pandas",
                    "-",
                    "not measured",
                    str(why)[:300],
                )
            )
        else:
            agree = _agreement(feats)
            rows.append(
                (
                    "engagement features >= 4x faster than pandas",
                    f"{speed:.1f}x",
                    "met" if speed >= FEATURE_SPEEDUP else "not met",
                    f"leadctl {feats['polars']['detail']['seconds']:.1f} s vs pandas "
                    f"{feats['pandas']['detail']['seconds']:.1f} s; {agree}",
                )
            )
    big = by_n.get(10_000_000)
    if big is None:
        rows.append(
            (
                "10 M / 200 M: `run` completes, peak RSS <= 12 GB",
                "-",
                "not measured",
                "`make bench-large` was not run to completion on this machine (see below)",
            )
        )
    else:
        run = big.get("run")
        if _ok(run):
            rows.append(
                (
                    "10 M / 200 M: `run` completes, peak RSS <= 12 GB",
                    _fmt_gb(run["peak_rss"]),
                    "met" if run["peak_rss"] <= RUN_RSS_10M else "not met",
                    f"completed in {_fmt_s(run['seconds'])}",
                )
            )
        else:
            rows.append(
                (
                    "10 M / 200 M: `run` completes, peak RSS <= 12 GB",
                    "-",
                    "not met",
                    f"run failed: {(run or {}).get('error', 'not run')}".replace("\n", " ")[:300],
                )
            )
    return rows


def _agreement(feats: dict[str, Any]) -> str:
    agree = feats.get("agreement") or {}
    worst = 0.0
    problems = []
    for part in ("base", "group"):
        a = agree.get(part) or {}
        if a.get("rows") and a["rows"][0] != a["rows"][1]:
            problems.append(f"{part} rows differ {a['rows']}")
        if a.get("columns_only_in_one"):
            problems.append(f"{part} columns differ {a['columns_only_in_one']}")
        if a.get("null_mismatches"):
            problems.append(f"{part} nulls differ {a['null_mismatches']}")
        if a.get("key_mismatch"):
            problems.append(f"{part} keys differ")
        worst = max([worst, *a.get("max_abs_diff", {}).values()])
    if problems:
        return "RESULTS DIFFER: " + "; ".join(problems)
    return f"same values (largest difference {worst:.1e})"


# ------------------------------------------------------------------------------------ markdown


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def _status(entry: dict[str, Any]) -> str:
    if entry.get("available") is False:
        return "not available"
    if entry.get("returncode") == 0:
        return "ok"
    err = str(entry.get("error", "")).strip().splitlines()
    return f"FAILED (exit {entry.get('returncode')}): " + (err[-1][:160] if err else "")


def _measure_row(name: str, e: dict[str, Any]) -> list[str]:
    if e.get("available") is False:
        return [name, "-", "-", "-", "-", "-", "-", "not available"]
    rps = e.get("rows_per_second")
    return [
        name,
        f"{e['seconds']:.1f}",
        f"{e['cpu_seconds']:.1f}",
        _fmt_gb(e["peak_rss"]),
        f"{e['rows']:,}" if e.get("rows") else "-",
        f"{rps:,}" if rps else "-",
        str(e.get("load_before", "-")),
        _status(e).replace("|", "/"),
    ]


def _size_section(res: dict[str, Any]) -> list[str]:
    n = res["leads"]
    files = res.get("dataset", {}).get("files", {})
    lines = [f"## {n:,} leads (seed {res['seed']}, as of {res['as_of']})", ""]
    if files:
        listing = ", ".join(f"{k} {v:,}" for k, v in sorted(files.items()))
        gen = res["dataset"].get("generate_seconds")
        lines += [
            f"Exports (Parquet, `leadctl sample --leads {n} --product-groups 3 --format parquet`): "
            f"{listing}. Generated once in {gen:.0f} s, cached in bench/data/."
            if gen
            else listing,
            "",
        ]
    if res.get("models_from"):
        lines += [
            f"Models: copied from `{res['models_from']}` before `run` (a night between "
            "retrains; `run` does not train).",
            "",
        ]
    header = ["step", "wall s", "CPU s", "peak RSS", "rows", "rows/s", "load at start", "status"]
    budget_set = res.get("train_budget")
    if budget_set and budget_set.get("train"):
        lines += [
            f"### `train` budget: {budget_set['leads']:,}-lead data set "
            "(same generator and config)",
            "",
        ]
        lines += _table(
            header,
            [_measure_row(k, budget_set[k]) for k in ("validate", "train") if k in budget_set],
        )
        lines += [""]
    if res.get("stages"):
        lines += [
            f"### Each stage as its own process (measured {res.get('stages_measured_at', '?')})",
            "",
            "Rows: input rows for validate, labelled snapshot rows for train, lead x product group "
            "rows for the others.",
            "",
        ]
        lines += _table(header, [_measure_row(s["name"], s) for s in res["stages"]]) + [""]
        fell_back = [s for s in res["stages"] if s.get("fallback_models")]
        if fell_back:
            lines += [
                "`train` failed on this data set, so score, rate, ... and `run` below use the "
                "models trained on the smaller set "
                f"({fell_back[0]['fallback_models'].split('/bench/')[-1]}); "
                "a night between retrains runs exactly so.",
                "",
            ]
    run = res.get("run")
    if run:
        lines += [
            f"### The whole night: `leadctl run` (measured {res.get('run_measured_at', '?')})",
            "",
        ]
        rows = [_measure_row("run", run)]
        floor = res.get("floor")
        if floor:
            rows.append(_measure_row("floor", floor))
        lines += _table(header, rows) + [""]
        if run.get("stages_in_run"):
            lines += [f"Stages in this run: {', '.join(run['stages_in_run'])}."]
        if run.get("skipped"):
            lines += [
                "Skipped by `run`: "
                + "; ".join(f"{k} ({v})" for k, v in run["skipped"].items())
                + "."
            ]
        if run.get("durations"):
            lines += ["", "Seconds per stage inside `run` (from manifest.json):", ""]
            lines += _table(
                list(run["durations"]), [[f"{v:.1f}" for v in run["durations"].values()]]
            )
        lines += [""]
    floor = res.get("floor")
    if floor and floor.get("detail"):
        d = floor["detail"]
        ratio = floor_ratio(res)
        lines += [
            "### Floor",
            "",
            f"Reading every export once with polars: {d['read_seconds']:.1f} s; "
            "raw LightGBM prediction of "
            f"{d['models']} models on {d['rows']:,} rows each: {d['predict_seconds']:.1f} s; "
            f"total {d['seconds']:.1f} s."
            + (f" `run` / floor = **{ratio:.2f}x**." if ratio else ""),
            "",
        ]
        if d.get("rows_kind") == "real features":
            lines += [
                "The rows are the night's real feature matrices, built by the floor process "
                "with leadctl's scoring features before its clock starts (the `floor` row above "
                "is that whole process, build included; the ratio uses the timed read + "
                "prediction only).",
                "",
            ]
        elif d.get("rows_kind") == "synthetic":
            lines += [
                f"The rows are random ({d.get('why_synthetic', 'no real features')}): trees "
                "stop at shallower leaves on them, so this floor is lower than real prediction.",
                "",
            ]
        if d["models"] == 0:
            lines += ["No trained models were found, so the floor is the read alone.", ""]
    feats = res.get("features")
    if feats:
        lines += ["### Engagement features: leadctl (polars) vs plain pandas", ""]
        if feats.get("speedup"):
            p, b = feats["polars"], feats["pandas"]
            lines += _table(
                [
                    "engine",
                    "seconds (in-process)",
                    "process wall s",
                    "peak RSS",
                    "rows (lead, group)",
                ],
                [
                    [
                        "leadctl `features.engagement`",
                        f"{p['detail']['seconds']:.1f}",
                        f"{p['seconds']:.1f}",
                        _fmt_gb(p["peak_rss"]),
                        f"{p['detail']['base_rows']:,}, {p['detail']['group_rows']:,}",
                    ],
                    [
                        "pandas baseline (bench/pandas_baseline.py)",
                        f"{b['detail']['seconds']:.1f} (read {b['detail']['read_seconds']:.1f})",
                        f"{b['seconds']:.1f}",
                        _fmt_gb(b["peak_rss"]),
                        f"{b['detail']['base_rows']:,}, {b['detail']['group_rows']:,}",
                    ],
                ],
            )
            lines += [
                "",
                f"Speed-up **{feats['speedup']:.1f}x**; {_agreement(feats)} over "
                f"{p['detail']['features']} features.",
                "",
            ]
        else:
            lines += [
                f"Not measured: {feats.get('error') or (feats.get('pandas') or {}).get('error')}",
                "",
            ]
    prof = res.get("profile")
    if prof:
        lines += ["### Profile of `leadctl run` (pyinstrument)", ""]
        if prof.get("hot_spots"):
            lines += [
                f"Full call tree: `{prof['text']}` (bench/data, not committed). Time per leadctl "
                "function, counting the library work it calls directly (polars, LightGBM, ...) but "
                "not other leadctl functions:",
                "",
            ]
            lines += _table(
                ["function", "file:line", "seconds", "share of run"],
                [
                    [
                        f"`{h['function']}`",
                        f"{h['file']}:{h['line']}",
                        f"{h['seconds']:.1f}",
                        f"{h['share'] * 100:.0f} %" if h.get("share") is not None else "-",
                    ]
                    for h in prof["hot_spots"]
                ],
            ) + [""]
        else:
            lines += [f"Not profiled: {prof.get('error', 'no data')}".replace("\n", " "), ""]
    return lines


def write_markdown(results: list[dict[str, Any]], target: Path) -> None:
    results = sorted(results, key=lambda r: r["leads"])
    latest = results[-1]
    m = latest.get("machine", {})
    v = m.get("versions", {})
    lines = [
        "# Benchmark results",
        "",
        f"Rendered {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `python -m bench.run` "
        "(`make bench` for 1 M leads, `make bench-large` for 10 M); the numbers live in "
        "bench/results/*.json. Wall times are from a shared development machine: the load average "
        "at each start is given, and CPU seconds show the work regardless of contention.",
        "",
        "## Machine",
        "",
    ]
    lines += _table(
        ["cores", "memory", "CPU", "Python", "polars", "lightgbm", "pyarrow", "pandas", "OS"],
        [
            [
                str(m.get("cores")),
                _fmt_gb(m.get("memory_bytes")),
                str(m.get("cpu")),
                str(m.get("python")),
                str(v.get("polars")),
                str(v.get("lightgbm")),
                str(v.get("pyarrow")),
                str(v.get("pandas")),
                str(m.get("os")),
            ]
        ],
    )
    lines += ["", "## Budgets", ""]
    lines += _table(["budget", "measured", "verdict", "why"], [list(r) for r in budgets(results)])
    lines += [""]
    for res in results:
        lines += _size_section(res)
    if ANALYSIS.is_file():
        lines += [ANALYSIS.read_text(encoding="utf-8").rstrip(), ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
