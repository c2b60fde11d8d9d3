"""The benchmark harness (bench/): config, measuring, agreement checks, profiles and budgets.

The harness itself runs for minutes on a million leads; these tests check its pieces on tiny
inputs. The pandas baseline test runs only where the `bench` extra is installed.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml

from bench import report as R
from bench.dataset import GROUPS, Dataset, bench_config, write_config
from bench.features import compare, run_polars
from bench.measure import run_child
from bench.run import labelled_rows
from leadctl.config import parse_config
from leadctl.config.scoring import FeaturesConfig

ROOT = Path(__file__).resolve().parents[2]


def test_leadctl_never_imports_pandas() -> None:
    pattern = re.compile(r"^\s*(import pandas|from pandas)", re.MULTILINE)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "leadctl").rglob("*.py")
        if pattern.search(p.read_text())
    ]
    assert offenders == []


def test_bench_config_points_at_parquet_exports_with_three_groups(tmp_path: Path) -> None:
    default = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text())
    data = bench_config(default)
    assert data["product_groups"] == GROUPS
    assert {Path(t["path"]).suffix for t in data["inputs"]["tables"].values()} == {".parquet"}
    teams = {t["name"]: t for t in data["assign"]["teams"]}
    assert teams["Security EMEA"]["product_groups"] == ["Security"]
    assert teams["Security EMEA"]["regions"] == ["EMEA"]
    ds = Dataset(10, 1, tmp_path / "leads10-seed1")
    ds.root.mkdir()
    cfg = parse_config(
        yaml.safe_load(write_config(ds, ["validate", "score"]).read_text()), source=ds.config
    )
    assert cfg.inputs.tables["activities"].path == ds.exports / "activities.parquet"
    assert cfg.output.models == ds.models
    assert cfg.run.stages == ["validate", "score"]


def test_run_child_measures_time_memory_and_output() -> None:
    m = run_child(
        [sys.executable, "-c", "import sys; b = bytearray(60_000_000); print('hi'); sys.exit(3)"]
    )
    assert m.returncode == 3
    assert m.stdout.strip() == "hi"
    assert m.peak_rss > 60_000_000
    assert m.seconds > 0


def test_run_child_kills_a_process_over_the_memory_limit() -> None:
    code = (
        "import time; b = bytearray(300_000_000); b[::4096] = b'x' * len(b[::4096]); time.sleep(20)"
    )
    m = run_child([sys.executable, "-c", code], rss_limit=100_000_000)
    assert m.returncode == -9
    assert "more than 0.1 GB resident" in m.stderr
    assert m.seconds < 15


def test_labelled_rows_sums_group_counts() -> None:
    summary = {
        "groups": {"A": {"rows": 10, "positives": 2}, "B": {"rows": 5, "positives": 1}},
        "rows": 99,
    }
    assert labelled_rows(summary) == 15
    assert labelled_rows({"status": "ok"}) is None


def test_compare_reports_value_and_null_differences(tmp_path: Path) -> None:
    a = pl.DataFrame({"lead_id": ["1", "2"], "x": [1.0, None], "y": [0.0, 1.0]})
    b = pl.DataFrame({"lead_id": ["2", "1"], "x": [2.0, 1.5], "y": [1.0, 0.0]})
    a.write_parquet(tmp_path / "a.parquet")
    b.write_parquet(tmp_path / "b.parquet")
    out = compare(tmp_path / "a.parquet", tmp_path / "b.parquet", ["lead_id"])
    assert out["null_mismatches"] == {"x": 1}
    assert out["max_abs_diff"] == {"x": 0.5, "y": 0.0}


def test_hot_spots_charge_library_time_to_the_innermost_leadctl_frame(tmp_path: Path) -> None:
    def frame(fn: str, path: str, t: float, *children: dict) -> dict:
        return {
            "function": fn,
            "file_path": path,
            "line_no": 1,
            "time": t,
            "children": list(children),
        }

    tree = frame(
        "run", "/x/leadctl/pipeline.py", 10.0,
        frame("score", "/x/leadctl/stages/score.py", 8.0,
              frame("predict", "/venv/site-packages/lightgbm/basic.py", 6.0),
              frame("encode", "/x/leadctl/features/spec.py", 2.0,
                    frame("select", "/venv/site-packages/polars/frame.py", 2.0))),
        frame("collect", "/venv/site-packages/polars/frame.py", 1.5),
    )  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"duration": 10.0, "root_frame": tree}))
    spots = {h["function"]: h["seconds"] for h in R.hot_spots(path)}
    assert spots == {"score": 6.0, "encode": 2.0, "run": 2.0}


def _result(run_s: float, rss: float, floor_s: float, speedup: float | None = 5.0) -> dict:
    ok = {"returncode": 0, "cpu_seconds": 1.0, "load_before": 0.1}
    features = {}
    if speedup:
        detail = {"base_rows": 1, "group_rows": 3, "features": 9, "read_seconds": 0.5}
        features = {
            "speedup": speedup,
            "polars": {"seconds": 2.0, "peak_rss": 1, "detail": {**detail, "seconds": 1.0}},
            "pandas": {"seconds": 2.0, "peak_rss": 1, "detail": {**detail, "seconds": speedup}},
            "agreement": {"base": {"rows": [1, 1], "max_abs_diff": {"x": 0.0}}},
        }
    return {
        "leads": 1_000_000,
        "seed": 42,
        "as_of": "2026-11-20",
        "run": {**ok, "seconds": run_s, "peak_rss": rss, "durations": {"score": 5.0}},
        "floor": {**ok, "seconds": floor_s, "peak_rss": 1},
        "stages": [
            {"name": "train", "available": True, **ok, "seconds": 100.0, "peak_rss": 1, "rows": 10}
        ],
        "features": features,
    }


def test_budgets_are_judged_from_the_numbers() -> None:
    verdicts = {b: v for b, _, v, _ in R.budgets([_result(50.0, 3e9, 30.0)])}
    assert verdicts["1 M / 20 M: `run` wall time <= 60 s"] == "met"
    assert verdicts["1 M / 20 M: `run` peak RSS <= 4 GB"] == "met"
    assert verdicts["1 M / 20 M: `run` <= 2x the floor"] == "met"
    assert verdicts["`train` on 1 M labelled snapshot rows <= 3 min"] == "met"
    assert verdicts["engagement features >= 4x faster than pandas"] == "met"
    assert verdicts["10 M / 200 M: `run` completes, peak RSS <= 12 GB"] == "not measured"
    verdicts = {b: v for b, _, v, _ in R.budgets([_result(70.0, 5e9, 30.0, speedup=3.0)])}
    assert verdicts["1 M / 20 M: `run` wall time <= 60 s"] == "not met"
    assert verdicts["1 M / 20 M: `run` peak RSS <= 4 GB"] == "not met"
    assert verdicts["1 M / 20 M: `run` <= 2x the floor"] == "not met"
    assert verdicts["engagement features >= 4x faster than pandas"] == "not met"


def test_markdown_lists_machine_budgets_and_sizes(tmp_path: Path) -> None:
    target = tmp_path / "results.md"
    R.write_markdown([_result(50.0, 3e9, 30.0)], target)
    text = target.read_text()
    assert "## Budgets" in text
    assert "## 1,000,000 leads" in text
    assert "`run` / floor = **" not in text  # no floor detail, no ratio sentence


def _tiny_canonical(folder: Path) -> Path:
    utc = pl.Datetime("us", "UTC")
    t = lambda d, h=0: datetime(2026, 11, d, h, tzinfo=UTC)  # noqa: E731
    pl.DataFrame(
        {
            "lead_id": ["L1", "L2", "L3"],
            "created_at": [t(1), t(2), datetime(2025, 1, 1, tzinfo=UTC)],
            "email": ["a@acme.com", "b@acme.com", None],
            "account_id": [None, None, "A9"],
        },
        schema_overrides={"created_at": utc},
    ).write_parquet(folder / "leads.parquet")
    pl.DataFrame({"account_id": ["A1", "A9"], "domain": ["acme.com", "nine.io"]}).write_parquet(
        folder / "accounts.parquet"
    )
    pl.DataFrame(
        {
            "lead_id": ["L1", "L1", "L1", "L2", "L2", "L3"],
            "activity_type": [
                "Open Email",
                "Request Demo",
                "Unsubscribe Email",
                "Open Email",
                "Visit Webpage",
                "Open Email",
            ],
            "occurred_at": [t(19, 10), t(18), t(10), t(19, 23), t(5), t(21)],
            "product_group": [None, "Cloud", None, "Analytics", "Cloud", None],
            "asset_id": ["n1", None, None, "n1", "p2", "n3"],
        },
        schema_overrides={"occurred_at": utc},
    ).write_parquet(folder / "activities.parquet")
    pl.DataFrame(
        {
            "opportunity_id": ["O1", "O2"],
            "lead_id": [None, "L3"],
            "account_id": ["A1", None],
            "created_at": [t(3), t(25)],
        },
        schema_overrides={"created_at": utc},
    ).write_parquet(folder / "opportunities.parquet")
    pl.DataFrame(
        {
            "lead_id": ["L1", "L2", "L2"],
            "product_group": ["Cloud", None, "Analytics"],
            "stage": ["Recycled", "Disqualified", "MQL"],
            "changed_at": [t(2), t(3), t(4)],
        },
        schema_overrides={"changed_at": utc},
    ).write_parquet(folder / "stage_history.parquet")
    return folder


def test_pandas_baseline_builds_the_same_engagement_features(tmp_path: Path) -> None:
    pytest.importorskip("pandas")
    from bench.features import run_pandas, write_account_keys

    canonical = _tiny_canonical(tmp_path)
    acct = tmp_path / "account_keys.parquet"
    write_account_keys(canonical, acct)
    cfg = FeaturesConfig()
    args = (
        canonical,
        acct,
        ["Analytics", "Cloud"],
        date(2026, 11, 20),
        cfg,
        "Recycled",
        "Disqualified",
    )
    _, pol_base, pol_group = run_polars(*args)
    _, pd_base, pd_group = run_pandas(*args)
    for name, (a, b) in {"base": (pol_base, pd_base), "group": (pol_group, pd_group)}.items():
        a.write_parquet(tmp_path / f"a_{name}.parquet")
        b.write_parquet(tmp_path / f"b_{name}.parquet")
    base = compare(
        tmp_path / "a_base.parquet", tmp_path / "b_base.parquet", ["lead_id", "snapshot_at"]
    )
    group = compare(
        tmp_path / "a_group.parquet",
        tmp_path / "b_group.parquet",
        ["lead_id", "product_group", "snapshot_at"],
    )
    for result in (base, group):
        assert result["columns_only_in_one"] == []
        assert result["null_mismatches"] == {}
        assert max(result["max_abs_diff"].values()) < 1e-9
    assert base["rows"] == [3, 3] and group["rows"] == [6, 6]
    # the values are non-trivial: L1 has one prior opportunity through its e-mail domain's account
    row = pol_base.filter(pl.col("lead_id") == "L1").row(0, named=True)
    assert row["prior_opportunities"] == 1.0
    assert row["negative_signals"] == 1.0
    assert row["colleagues_engaged_90d"] == 1.0


def test_markdown_says_where_a_night_between_retrains_got_its_models(tmp_path: Path) -> None:
    target = tmp_path / "results.md"
    res = _result(50.0, 3e9, 30.0)
    res["models_from"] = "bench/data/leads1000000-seed42/models"
    R.write_markdown([res], target)
    assert "Models: copied from `bench/data/leads1000000-seed42/models` before `run`" in (
        target.read_text()
    )


def test_floor_ratio_uses_the_floors_timed_read_and_prediction_not_its_feature_build() -> None:
    res = _result(60.0, 3e9, 90.0)  # the floor process ran 90 s, building real features first
    res["floor"]["detail"] = {
        "read_seconds": 2.0,
        "predict_seconds": 18.0,
        "seconds": 20.0,
        "models": 9,
        "rows": 1_000_000,
        "rows_kind": "real features",
    }
    assert R.floor_ratio(res) == pytest.approx(3.0)
    verdicts = {b: v for b, _, v, _ in R.budgets([res])}
    assert verdicts["1 M / 20 M: `run` <= 2x the floor"] == "not met"


def test_floor_predicts_on_random_rows_and_says_so_without_a_night(tmp_path: Path) -> None:
    from bench.floor import predict_all

    out = predict_all(tmp_path / "no-models", ["Cloud"], 10, 1)
    assert out["rows_kind"] == "synthetic" and out["models"] == 0


def test_floor_reads_every_row_of_large_exports_in_slices(tmp_path: Path, monkeypatch) -> None:
    import bench.floor as F

    pl.DataFrame({"id": range(1000), "v": ["x"] * 1000}).write_parquet(tmp_path / "a.parquet")
    pl.DataFrame({"lead_id": ["L1", "L2"]}).write_parquet(tmp_path / "leads.parquet")
    monkeypatch.setattr(F, "READ_SLICE_ROWS", 300)
    rows, leads = F.read_inputs(
        {"activities": tmp_path / "a.parquet", "leads": tmp_path / "leads.parquet"}
    )
    assert rows == {"activities": 1000, "leads": 2} and leads == 2
