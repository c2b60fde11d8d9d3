"""The nightly pipeline: the same stage functions the subcommands call, chained in order.

Each stage's command module exposes `run_<stage>(ws) -> summary`; this module decides when to
retrain, times the stages and assembles the manifest. It does not print (the CLI does).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from leadctl import __version__
from leadctl.config import config_hash
from leadctl.memory import RELEASE_ABOVE_BYTES, release_memory
from leadctl.stages.lifecycle import clear_run_cache, run_cache, stop_sharing
from leadctl.workspace import Workspace

RetrainMode = str  # "auto" | "always" | "never"


@dataclass
class StageRun:
    """What one stage did in a run."""

    name: str
    seconds: float
    summary: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


def stage_function(name: str) -> Callable[..., dict[str, Any]]:
    """`run_<name>` from `leadctl.commands.<name>_cmd`."""
    module = importlib.import_module(f"leadctl.commands.{name}_cmd")
    return getattr(module, f"run_{name}")


def stage_renderer(name: str) -> Callable[[dict[str, Any]], None] | None:
    module = importlib.import_module(f"leadctl.commands.{name}_cmd")
    return getattr(module, f"render_{name}", None)


def training_reason(ws: Workspace, mode: RetrainMode) -> str | None:
    """Why models must be (re)trained tonight, or None to keep the current ones."""
    if mode == "never":
        return None
    if mode == "always":
        return "--retrain always"
    interval = ws.cfg.run.retrain_interval_days
    for group in ws.product_groups():
        card_path = ws.models_dir / group / "card.json"
        if not card_path.is_file():
            return f"no model for product group {group}"
        try:
            card = json.loads(card_path.read_text())
            trained = date.fromisoformat(str(card["trained_as_of"]))
        except (OSError, ValueError, KeyError):
            return f"model card for {group} is unreadable"
        if (ws.as_of - trained).days > interval:
            return f"model for {group} trained {trained} is older than {interval} days"
    return None


def file_sha256(path: Path) -> str:
    """Hash of a file (or of every file in a directory of parts), streamed."""
    digest = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for part in paths:
        with open(part, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
    return digest.hexdigest()


def build_manifest(ws: Workspace, runs: list[StageRun], warnings: list[str]) -> dict[str, Any]:
    """manifest.json: versions, hashes, row counts, per-stage summaries, warnings, durations."""
    inputs = {}
    for name, table in sorted(ws.cfg.inputs.tables.items()):
        report = ws.reports.get(name)
        inputs[name] = {
            "path": str(table.path),
            "sha256": file_sha256(table.path) if table.path.exists() else None,
            "rows_read": report.rows_read if report else None,
            "rows_valid": report.rows_valid if report else None,
            "rows_rejected": report.rows_rejected if report else None,
        }
    return {
        "leadctl_version": __version__,
        "as_of": ws.as_of.isoformat(),
        "config_hash": config_hash(ws.cfg),
        "inputs": inputs,
        "stage_order": [r.name for r in runs],  # JSON keys below are sorted; this is run order
        "stages": {r.name: ({"skipped": r.skipped} if r.skipped else r.summary) for r in runs},
        "warnings": warnings,
        # The only values that differ between two identical runs: wall-clock durations.
        "durations_seconds": {r.name: round(r.seconds, 3) for r in runs},
    }


def drifted_groups(ws: Workspace, score_summary: dict[str, Any]) -> dict[str, float]:
    """Groups whose propensity distribution moved past run.drift_psi_threshold since training."""
    if not ws.cfg.run.retrain_on_drift:
        return {}
    limit = ws.cfg.run.drift_psi_threshold
    out = {}
    for group, info in sorted(score_summary.get("groups", {}).items()):
        psi = info.get("propensity_psi") if isinstance(info, dict) else None
        if psi is not None and psi > limit:
            out[group] = round(float(psi), 4)
    return out


def _trained_tonight(runs: list[StageRun]) -> bool | None:
    """True if train ran tonight, False if it was skipped, None if it is not in the stages."""
    for run in runs:
        if run.name == "train":
            return run.skipped is None
    return None


def _retrain_on_drift(
    ws: Workspace, score_summary: dict[str, Any], runs: list[StageRun]
) -> dict[str, Any] | None:
    """Drift says the kept models no longer fit: train now and score again with the new ones."""
    drift = drifted_groups(ws, score_summary)
    if not drift:
        return None
    start = time.perf_counter()
    listed = ", ".join(f"{g} (PSI {v})" for g, v in drift.items())
    train_summary = stage_function("train")(ws, force=True)
    for run in runs:
        if run.name == "train":
            run.skipped = None
            run.seconds = time.perf_counter() - start
            run.summary = {"reason": f"drift above {ws.cfg.run.drift_psi_threshold}: {listed}"}
            run.summary.update(train_summary)
    rescored = stage_function("score")(ws)
    rescored["retrained_for_drift"] = drift
    return rescored


def run_pipeline(
    ws: Workspace,
    *,
    retrain: RetrainMode = "auto",
    on_stage: Callable[[str], None] | None = None,
) -> tuple[list[StageRun], list[str]]:
    """Run every configured stage in order; return what each did and the night's warnings.

    The stages share what they derive from the same canonical input and as-of (the latest
    stage rows of the history: rate and assign) through `lifecycle.run_cache`, dropped when
    the run ends.
    """
    with run_cache():
        return _run_stages(ws, retrain, on_stage)


def too_large_to_share(ws: Workspace) -> bool:
    """Above `score.partition_leads` leads, score and rate work in lead ranges to bound their
    memory; frames shared between stages would hold every lead's rows beside a stage (GBs at
    10 M leads), so such a night shares nothing and each stage computes its own."""
    path = ws.canonical_dir / "leads.parquet"
    if not path.is_file():
        return False
    leads = pl.scan_parquet(path).select(pl.len()).collect().item()
    return bool(leads > ws.cfg.score.partition_leads)


def _run_stages(
    ws: Workspace, retrain: RetrainMode, on_stage: Callable[[str], None] | None
) -> tuple[list[StageRun], list[str]]:
    from leadctl.commands.validate_cmd import check_reject_share

    runs: list[StageRun] = []
    warnings: list[str] = []
    for name in ws.cfg.run.stages:
        if on_stage:
            on_stage(name)
        start = time.perf_counter()
        if name != "validate" and too_large_to_share(ws):
            stop_sharing()
        if name == "validate":
            reports = ws.ingest()
            for report in reports.values():
                warnings.extend(report.warnings)
            check_reject_share(reports, ws.cfg.inputs.max_reject_share)
            summary: dict[str, Any] = {
                t: {
                    "rows_read": r.rows_read,
                    "rows_valid": r.rows_valid,
                    "rows_rejected": r.rows_rejected,
                }
                for t, r in reports.items()
            }
            runs.append(StageRun(name, time.perf_counter() - start, summary))
            clear_run_cache()  # the canonical tables may have been rewritten
            release_memory(if_rss_above=RELEASE_ABOVE_BYTES)
            continue
        if name == "train":
            reason = training_reason(ws, retrain)
            if reason is None:
                runs.append(StageRun(name, 0.0, skipped="models are current"))
                continue
            summary = stage_function("train")(ws, force=retrain == "always")
            summary = {"reason": reason, **summary}
        else:
            summary = stage_function(name)(ws)
            if name == "score" and _trained_tonight(runs) is False:
                summary = _retrain_on_drift(ws, summary, runs) or summary
        warnings.extend(str(w) for w in summary.get("warnings", []) if w)
        runs.append(StageRun(name, time.perf_counter() - start, summary))
        release_memory(
            if_rss_above=RELEASE_ABOVE_BYTES
        )  # the next stage starts from what this one really keeps, not its peak
    return runs, warnings
