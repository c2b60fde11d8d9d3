"""`leadctl score`: fit, engagement, propensity and a 0-100 score per lead and product group.

The shell around leadctl.stages.score: loads each group's trained model (or falls back to the
points model from the config, and says so), scores every lead as of --as-of, and writes
`scores.parquet` into the run directory.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from leadctl.cli_common import (
    DEFAULT_CONFIG,
    AsOfOpt,
    ConfigOpt,
    InputDirOpt,
    JsonOpt,
    OutOpt,
    app,
    console,
    handle_errors,
    print_json,
    print_warnings,
    workspace,
)
from leadctl.commands.train_cmd import tables_of
from leadctl.io.writers import write_parquet
from leadctl.logs import is_quiet
from leadctl.models.store import LoadedModel, load_group
from leadctl.stages import score as stage
from leadctl.stages.score_partition import partition_bounds, score_partitioned
from leadctl.workspace import Workspace

log = logging.getLogger("leadctl.score")


def load_models(ws: Workspace, groups: list[str]) -> dict[str, LoadedModel]:
    """Trained models per group (groups never trained, or refused, are absent)."""
    out = {}
    for group in groups:
        model = load_group(ws.models_dir, group)
        if model is not None:
            out[group] = model
    return out


def scorable(ws: Workspace, groups: list[str], models: dict[str, LoadedModel]) -> stage.Scorable:
    """Features of every lead as of the run date, checked against the models."""
    cfg = ws.cfg
    return stage.prepare(
        tables_of(ws),
        groups,
        ws.as_of,
        cfg.train.features,
        models,
        recycled_stage=cfg.lifecycle.recycled_stage,
        disqualified_stage=cfg.lifecycle.disqualified_stage,
    )


def run_score(ws: Workspace) -> dict[str, Any]:
    """Score every lead × product group; write scores.parquet. Returns a JSON-able summary.

    More leads than score.partition_leads: scored one lead_id range at a time (same rows)."""
    cfg = ws.cfg
    groups = ws.product_groups()
    models = load_models(ws, groups)
    tables = tables_of(ws)
    bounds = partition_bounds(tables.leads, cfg.score.partition_leads) if groups else None
    if bounds is not None:
        log.info(
            "scoring in %d partitions of at most %d leads", len(bounds), cfg.score.partition_leads
        )
        parts = score_partitioned(
            tables,
            groups,
            ws.as_of,
            cfg.train.features,
            models,
            {g: cfg.points.for_group(g) for g in groups},
            cfg.score,
            bounds,
            ws.output("scores.parquet"),
            recycled_stage=cfg.lifecycle.recycled_stage,
            disqualified_stage=cfg.lifecycle.disqualified_stage,
        )
        return _summary(ws, ws.output("scores.parquet"), parts.leads, parts.rows, parts.groups)
    data = scorable(ws, groups, models)
    result = stage.score(
        data,
        groups,
        models,
        {g: cfg.points.for_group(g) for g in groups},
        cfg.score,
        cfg.train.features,
    )
    path = write_parquet(result.scores, ws.output("scores.parquet"))
    return _summary(ws, path, data.base.height, result.scores.height, result.groups)


def _summary(
    ws: Workspace, path: Path, leads: int, rows: int, groups: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    warnings = [w for g in groups.values() for w in g.get("warnings", [])]
    return {
        "as_of": ws.as_of.isoformat(),
        "output": str(path),
        "scale": ws.cfg.score.scale,
        "rows_in": {"leads": leads},
        "rows_out": rows,
        "groups": groups,
        "warnings": warnings,
    }


def render_score(summary: dict[str, Any]) -> None:
    """The rich summary: one row per group with the model used and the score distribution."""
    table = Table(
        title=f"Scores as of {summary['as_of']} ({summary['scale']} scale)", title_justify="left"
    )
    for col in (
        "group",
        "model",
        "version",
        "leads",
        "mean score",
        "at/above reasons cutoff",
        "with reasons",
        "propensity PSI",
    ):
        table.add_column(col, justify="left" if col in ("group", "model", "version") else "right")
    for group, g in summary["groups"].items():
        psi = g.get("propensity_psi")
        table.add_row(
            Text(group),
            g["model_kind"],
            g["model_version"],
            f"{g['rows']:,}",
            "-" if g.get("mean_score") is None else f"{g['mean_score']:.1f}",
            f"{g['at_or_above_min_score']:,} (>= {g['reasons_min_score']:g})",
            f"{g['reasons_for_rows']:,}",
            "-" if psi is None else f"{psi:.3f}",
        )
    console.print(table)
    print_warnings(summary.get("warnings", []), label="note")
    console.print(f"Wrote {summary['rows_out']:,} rows to {summary['output']}", highlight=False)


@app.command()
@handle_errors
def score(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Score every lead per product group as of --as-of and write scores.parquet.

    Uses each group's trained model; a group without one is scored with the points model from
    the config. Exits 6 when a model's features do not match the config and data (retrain).
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_score(ws)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_score(summary)
