"""The nightly pipeline's decisions: when to (re)train, including retraining on drift."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import polars as pl
import pytest

from leadctl import pipeline
from leadctl.config import LeadctlConfig
from leadctl.pipeline import StageRun, drifted_groups, training_reason


def _ws(tmp_path: Path, **run: Any) -> SimpleNamespace:
    cfg = LeadctlConfig.model_validate({"product_groups": ["A", "B"], "run": run})
    return SimpleNamespace(
        cfg=cfg,
        as_of=date(2026, 11, 20),
        models_dir=tmp_path,
        canonical_dir=tmp_path / "canonical",
        product_groups=lambda: ["A", "B"],
    )


def _card(tmp_path: Path, group: str, trained: str) -> None:
    (tmp_path / group).mkdir(parents=True, exist_ok=True)
    (tmp_path / group / "card.json").write_text(json.dumps({"trained_as_of": trained}))


def test_training_reason_missing_old_unreadable_and_current(tmp_path: Path) -> None:
    ws = _ws(tmp_path, retrain_interval_days=30)
    assert training_reason(ws, "auto") == "no model for product group A"
    _card(tmp_path, "A", "2026-11-01")
    _card(tmp_path, "B", "2026-10-01")
    assert training_reason(ws, "auto") == ("model for B trained 2026-10-01 is older than 30 days")
    _card(tmp_path, "B", "2026-11-19")
    assert training_reason(ws, "auto") is None
    assert training_reason(ws, "always") == "--retrain always"
    (tmp_path / "A" / "card.json").write_text("{not json")
    assert training_reason(ws, "auto") == "model card for A is unreadable"
    assert training_reason(ws, "never") is None


def test_drifted_groups_uses_the_threshold_and_the_switch(tmp_path: Path) -> None:
    summary = {"groups": {"A": {"propensity_psi": 0.31}, "B": {"propensity_psi": 0.1}}}
    assert drifted_groups(_ws(tmp_path, drift_psi_threshold=0.25), summary) == {"A": 0.31}
    assert drifted_groups(_ws(tmp_path, drift_psi_threshold=0.4), summary) == {}
    assert drifted_groups(_ws(tmp_path, retrain_on_drift=False), summary) == {}


def test_drift_retrains_and_scores_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake(name: str) -> Any:
        def train(ws: Any, *, force: bool = False) -> dict[str, Any]:
            calls.append(f"train force={force}")
            return {"groups": {"A": {"status": "trained"}}}

        def score(ws: Any) -> dict[str, Any]:
            calls.append("score")
            return {"groups": {"A": {"propensity_psi": 0.02}}}

        return {"train": train, "score": score}[name]

    monkeypatch.setattr(pipeline, "stage_function", fake)
    runs = [StageRun("validate", 0.1), StageRun("train", 0.0, skipped="models are current")]
    drifting = {"groups": {"A": {"propensity_psi": 0.5}}}
    rescored = pipeline._retrain_on_drift(_ws(tmp_path), drifting, runs)
    assert calls == ["train force=True", "score"]
    assert rescored is not None and rescored["retrained_for_drift"] == {"A": 0.5}
    assert runs[1].skipped is None
    assert runs[1].summary["reason"] == "drift above 0.25: A (PSI 0.5)"
    calls.clear()
    steady = {"groups": {"A": {"propensity_psi": 0.05}}}
    assert pipeline._retrain_on_drift(_ws(tmp_path), steady, runs) is None
    assert calls == []


def test_stages_of_one_run_share_derived_frames(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rate and assign inside `run` reuse one computation (lifecycle.run_cache), and the cache
    is dropped when the run ends."""
    from leadctl.stages import lifecycle

    computed: list[str] = []

    def fake(name: str) -> Any:
        def stage(ws: Any) -> dict[str, Any]:
            value = lifecycle.shared("latest", lambda: computed.append(name) or len(computed))
            return {"value": value}

        return stage

    def ingest() -> dict[str, Any]:
        # What is derived before validate rewrites the canonical tables is not reused after.
        lifecycle.shared("latest", lambda: computed.append("validate") or len(computed))
        return {}

    monkeypatch.setattr(pipeline, "stage_function", fake)
    ws = _ws(tmp_path, stages=["validate", "rate", "assign"])
    ws.ingest = ingest
    runs, _ = pipeline.run_pipeline(ws)
    assert computed == ["validate", "rate"]
    assert [r.summary["value"] for r in runs[1:]] == [2, 2]
    assert lifecycle._RUN_CACHE is None


def test_a_night_above_the_partition_size_shares_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where score and rate work in lead ranges to bound memory, no frame is held between
    stages: each stage computes its own."""
    from leadctl.stages import lifecycle

    computed: list[str] = []

    def fake(name: str) -> Any:
        def stage(ws: Any) -> dict[str, Any]:
            return {"value": lifecycle.shared("latest", lambda: computed.append(name) or 1)}

        return stage

    monkeypatch.setattr(pipeline, "stage_function", fake)
    ws = _ws(tmp_path, stages=["validate", "rate", "assign"])
    ws.ingest = dict
    ws.canonical_dir.mkdir()
    pl.DataFrame({"lead_id": ["L1", "L2", "L3"]}).write_parquet(ws.canonical_dir / "leads.parquet")
    ws.cfg.score.partition_leads = 3
    pipeline.run_pipeline(ws)
    assert computed == ["rate"]  # three leads fit in one range: shared

    computed.clear()
    ws.cfg.score.partition_leads = 2
    pipeline.run_pipeline(ws)
    assert computed == ["rate", "assign"]
