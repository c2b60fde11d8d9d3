"""Training on the generated sample: quality, calibration, determinism, guards, the card."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import SAMPLE_AS_OF, write_config

from leadctl.config import load_config
from leadctl.features.snapshots import Tables
from leadctl.features.spec import Feature
from leadctl.stages import train as stage
from leadctl.workspace import Workspace

TABLES = ("leads", "accounts", "activities", "opportunities", "stage_history")


def _setup(sample_dir: Path, tmp: Path, **overrides):
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = load_config(write_config(tmp / "config.yaml", sample_dir, tmp / "out", **overrides))
    ws = Workspace(cfg, SAMPLE_AS_OF)
    tables = Tables(*(ws.table(n) for n in TABLES))
    return ws, tables


def _train(ws: Workspace, tables: Tables, groups=None):
    cfg = ws.cfg
    groups = groups or ws.product_groups()
    data = stage.prepare(tables, groups, ws.as_of, cfg.train)
    out = {}
    for g in groups:
        frame = stage.group_frame(data, g, cfg.points.for_group(g)).collect()
        out[g] = stage.train_group(
            frame, data, g, cfg.train, as_of=ws.as_of, points=cfg.points.for_group(g)
        )
    return data, out


@pytest.fixture(scope="module")
def trained(sample_exports: Path, tmp_path_factory: pytest.TempPathFactory):
    ws, tables = _setup(sample_exports, tmp_path_factory.mktemp("train"))
    data, results = _train(ws, tables)
    return ws, tables, data, results


@pytest.mark.slow
def test_propensity_beats_points_and_top_decile_converts(trained):
    _, _, _, results = trained
    for group, r in results.items():
        assert r.status == "trained", group
        prop = r.card["models"]["propensity"]["metrics"]
        points_auc = r.card["baseline_points"]["auc"]
        # Held-out (latest snapshots, test half): floors well below what the sample gives (~0.84).
        assert prop["auc"] >= 0.78, (group, prop["auc"])
        assert prop["auc"] >= points_auc + 0.03, (group, prop["auc"], points_auc)
        assert prop["top_decile_lift"] >= 3.0, (group, prop["top_decile_lift"])
        assert prop["top_decile_capture"] >= 0.3
        for kind in ("fit", "engagement"):
            assert r.card["models"][kind]["metrics"]["auc"] >= 0.65, (group, kind)


@pytest.mark.slow
def test_calibration_matches_observed_rates(trained):
    _, _, _, results = trained
    for group, r in results.items():
        metrics = r.card["models"]["propensity"]["metrics"]
        table = metrics["calibration"]
        assert sum(b["rows"] for b in table) == metrics["rows"]
        for b in table:
            # ~300 rows a bin, ~2.5 % base rate: 0.04 is ~3 standard errors in the top bin.
            assert abs(b["predicted"] - b["observed"]) <= 0.04, (group, b)
        predicted = sum(b["predicted"] * b["rows"] for b in table) / metrics["rows"]
        observed = metrics["positives"] / metrics["rows"]
        assert abs(predicted - observed) <= 0.01, (group, predicted, observed)
        assert [b["predicted"] for b in table] == sorted(b["predicted"] for b in table)


@pytest.mark.slow
def test_card_records_what_run_and_score_need(trained):
    ws, _, data, results = trained
    card = results["Analytics"].card
    assert card["status"] == "trained" and card["trained_as_of"] == "2026-11-20"
    assert card["split"]["kind"] == "time" and card["snapshot_dates"] == [
        d.isoformat() for d in data.dates
    ]
    assert (
        card["label"]["definition"]
        == "an opportunity for Analytics created within 90 days for the lead"
    )
    assert card["counts"]["positive_leads"] >= 120 and card["counts"]["labelled_leads"] >= 1000
    names = [f["name"] for f in card["features"]]
    assert {"seniority", "email_domain_type", "budget", "pg_decayed_engagement"} <= set(names)
    seniority = next(f for f in card["features"] if f["name"] == "seniority")
    assert seniority["kind"] == "categorical" and "VP" in seniority["categories"]
    assert set(card["distribution"]["features"]) == set(names)
    assert len(card["distribution"]["features"]["lead_age_days"]["edges"]) == 9
    assert set(card["distribution"]["scores"]) == {"fit", "engagement", "propensity"}
    assert set(card["versions"]) == {"leadctl", "lightgbm", "polars", "numpy"}
    assert 1 <= len(card["top_features"]) <= ws.cfg.train.top_features
    assert card["models"]["fit"]["features"] == [
        f for f in names if next(x for x in card["features"] if x["name"] == f)["group"] == "fit"
    ]
    json.dumps(card)  # JSON-able throughout
    cal = results["Analytics"].calibration
    assert (
        cal["propensity"]["calibrator"]["method"] == "isotonic"
        and len(cal["propensity"]["reference"]) == 1001
    )


@pytest.mark.slow
def test_two_trainings_give_identical_model_files(sample_exports, tmp_path):
    fast = {
        "snapshots": {"count": 6, "every_days": 30, "holdout": 2},
        "lightgbm": {"max_rounds": 60},
    }
    texts = []
    for run in ("a", "b"):
        ws, tables = _setup(sample_exports, tmp_path / run, train=fast)
        _, results = _train(ws, tables, groups=["Cloud"])
        texts.append(
            (
                results["Cloud"].models,
                json.dumps(results["Cloud"].card, sort_keys=True),
                json.dumps(results["Cloud"].calibration, sort_keys=True),
            )
        )
    assert texts[0] == texts[1]
    assert set(texts[0][0]) == {"fit", "engagement", "propensity"} and texts[0][0][
        "fit"
    ].startswith("tree")


@pytest.mark.slow
def test_too_few_labels_refuses_the_group(trained):
    ws, _, data, _ = trained
    cfg = ws.cfg.train.model_copy(deep=True)
    cfg.guards.min_positives = 100_000
    frame = stage.group_frame(data, "Cloud", None).collect()
    result = stage.train_group(frame, data, "Cloud", cfg, as_of=ws.as_of)
    assert result.status == "refused" and result.models == {}
    assert result.summary["model_kind"] == "points"
    assert "positive leads (need 100,000)" in result.summary["reason"]
    assert "the points model from the config will be used" in result.summary["warnings"][0]
    assert result.card["status"] == "refused"


@pytest.mark.slow
def test_injected_leaking_column_is_flagged_and_excluded(trained):
    ws, _, data, _ = trained
    frame = stage.group_frame(data, "Analytics", None).collect()
    rng = np.random.default_rng(0)
    frame = frame.with_columns(
        days_to_close=pl.when(pl.col("label")).then(pl.lit(20.0)).otherwise(pl.lit(200.0))
        + pl.Series(rng.uniform(0, 10, frame.height))
    )
    leak = Feature(
        "days_to_close",
        "numeric",
        "engagement",
        "Days to close",
        "number",
        source="custom",
        params={"column": "days_to_close"},
    )
    data_leak = stage.TrainingData(
        data.examples, data.frames, data.events, data.dates, data.types, [*data.defs, leak]
    )
    result = stage.train_group(frame, data_leak, "Analytics", ws.cfg.train, as_of=ws.as_of)
    assert result.summary["excluded"] == ["days_to_close"]
    assert "days_to_close" not in [f["name"] for f in result.card["features"]]
    assert result.card["excluded"][0]["feature"] == "days_to_close"
    assert any("days_to_close excluded: univariate AUC" in w for w in result.summary["warnings"])
    # Explicitly allowed, it is kept (and reported as kept).
    cfg = ws.cfg.train.model_copy(deep=True)
    cfg.guards.allow_features = ["days_to_close"]
    kept = stage.train_group(frame, data_leak, "Analytics", cfg, as_of=ws.as_of)
    assert "days_to_close" in [f["name"] for f in kept.card["features"]]
    assert kept.card["excluded"][0]["kept"] is True


@pytest.mark.slow
def test_lead_conversion_label_source(sample_exports, tmp_path):
    ws, tables = _setup(sample_exports, tmp_path, train={"label": {"source": "lead_conversion"}})
    data = stage.prepare(tables, ["Analytics"], ws.as_of, ws.cfg.train)
    examples = data.examples.collect()
    assert examples.height > 10_000 and 100 < examples["label"].sum() < examples.height / 5
    assert stage.label_definition(ws.cfg.train, "Analytics").startswith("the lead was converted")


@pytest.mark.slow
@pytest.mark.parametrize("n_leads", [12_000])
def test_larger_sample_recovers_the_signal(tmp_path, n_leads):
    """3,000 leads give ~75 held-out positives per group; 12,000 make the floors tighter."""
    from leadctl.sample import generate_sample

    generate_sample(
        tmp_path / "exports",
        n_leads=n_leads,
        seed=11,
        product_groups=2,
        export_date=date(2026, 11, 20),
    )
    ws, tables = _setup(tmp_path / "exports", tmp_path)
    _, results = _train(ws, tables)
    for group, r in results.items():
        prop = r.card["models"]["propensity"]["metrics"]
        assert prop["auc"] >= 0.82, (group, prop["auc"])
        assert prop["auc"] >= r.card["baseline_points"]["auc"] + 0.05, group
        assert prop["top_decile_lift"] >= 4.0, (group, prop["top_decile_lift"])
        for b in prop["calibration"]:
            assert abs(b["predicted"] - b["observed"]) <= 0.03, (group, b)


def test_sampling_keeps_whole_leads_and_the_base_rate():
    from datetime import UTC, datetime, timedelta

    from leadctl.config.scoring import TrainConfig

    snaps = [datetime(2026, m, 1, tzinfo=UTC) for m in (1, 2, 3)]
    leads = pl.DataFrame(
        {
            "lead_id": [f"L{i:04d}" for i in range(1000)],
            "created_at": [snaps[0] - timedelta(days=1)] * 1000,
        }
    ).lazy()
    kept = stage.sample_leads(leads, snaps, TrainConfig(max_training_rows=1000)).collect()
    assert kept.height == 334  # up to 3,000 rows a group: every 3rd lead
    assert kept["lead_id"].to_list()[:3] == ["L0000", "L0003", "L0006"]
    for limit in (3000, None):
        same = stage.sample_leads(leads, snaps, TrainConfig(max_training_rows=limit)).collect()
        assert same.height == 1000
