"""`leadctl train`: fit, engagement and propensity models per product group, with model cards.

The shell around leadctl.stages.train: reads canonical tables through the Workspace, trains each
group, writes `<models_dir>/<group>/{fit,engagement,propensity}.txt`, `calibration.json` and
`card.json`, and prints what was learned (or why a group was refused).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import polars as pl
import typer
from rich.markup import escape
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
from leadctl.config import config_hash
from leadctl.errors import ModelError
from leadctl.features.snapshots import Tables
from leadctl.logs import is_quiet
from leadctl.models.store import read_card, save_group
from leadctl.pipeline import file_sha256
from leadctl.stages import train as stage
from leadctl.workspace import Workspace

log = logging.getLogger("leadctl.train")
TABLES = ("leads", "accounts", "activities", "opportunities", "stage_history")


def tables_of(ws: Workspace) -> Tables:
    """The canonical tables features and labels read (lazy scans)."""
    return Tables(*(ws.table(name) for name in TABLES))


def input_hashes(ws: Workspace) -> dict[str, str | None]:
    """Content hashes of the canonical tables a model was trained on (recorded in its card)."""
    out: dict[str, str | None] = {}
    for name in TABLES:
        ws.table(name)  # makes sure the canonical files exist
        path = ws.canonical_dir / f"{name}.parquet"
        out[name] = file_sha256(path) if path.exists() else None
    return out


def _unchanged(
    card: dict[str, Any] | None, ws: Workspace, chash: str, hashes: dict[str, str | None]
) -> bool:
    """The group's card records this very training (same as-of, config and inputs)."""
    return bool(
        card
        and card.get("trained_as_of") == ws.as_of.isoformat()
        and card.get("config_hash") == chash
        and card.get("input_hashes") == hashes
    )


def _card_or_none(ws: Workspace, group: str) -> dict[str, Any] | None:
    """The group's card; an unreadable one (a crash mid-copy, a bad edit) is trained over."""
    try:
        return read_card(ws.models_dir, group)
    except ModelError:
        return None


def run_train(ws: Workspace, *, force: bool = False) -> dict[str, Any]:
    """Train every product group; write models and cards. Returns a JSON-able summary.

    Training is deterministic, so a group whose card already records this as-of, config and
    input hashes is skipped unless `force`.
    """
    cfg = ws.cfg
    groups = ws.product_groups()
    tables = tables_of(ws)
    chash = config_hash(cfg)
    hashes = input_hashes(ws)
    data = stage.prepare(
        tables,
        groups,
        ws.as_of,
        cfg.train,
        recycled_stage=cfg.lifecycle.recycled_stage,
        disqualified_stage=cfg.lifecycle.disqualified_stage,
    )
    summary: dict[str, Any] = {
        "as_of": ws.as_of.isoformat(),
        "models_dir": str(ws.models_dir),
        "config_hash": chash,
        "snapshot_dates": [d.isoformat() for d in data.dates],
        "rows_in": {
            name: int(tables.__dict__[name].select(pl.len()).collect().item()) for name in TABLES
        },
        "groups": {},
        "warnings": [],
    }
    for group in groups:
        if not force and _unchanged(_card_or_none(ws, group), ws, chash, hashes):
            summary["groups"][group] = {
                "status": "unchanged",
                "model_kind": "lightgbm",
                "warnings": [],
            }
            continue
        points = cfg.points.for_group(group)
        frame = stage.group_frame(data, group, points).collect()
        result = stage.train_group(frame, data, group, cfg.train, as_of=ws.as_of, points=points)
        result.card.update(config_hash=chash, input_hashes=hashes)
        files = save_group(
            ws.models_dir, group, result.status, result.models, result.calibration, result.card
        )
        summary["groups"][group] = {
            **result.summary,
            "label": result.card["label"]["definition"],
            "files": [str(p) for p in files],
        }
        summary["warnings"].extend(result.summary.get("warnings", []))
        log.info("trained group %s: %s", group, result.status)
    summary["rows_out"] = sum(g.get("rows", 0) for g in summary["groups"].values())
    return summary


def _fmt(value: Any, pattern: str = "{:.3f}") -> str:
    return "-" if value is None else pattern.format(value)


def render_train(summary: dict[str, Any]) -> None:
    """The rich summary: one row per group, then top features, exclusions and warnings."""
    table = Table(
        title=f"Models trained as of {summary['as_of']} ({summary['models_dir']})",
        title_justify="left",
    )
    for col in (
        "group",
        "status",
        "rows",
        "positives",
        "leads",
        "split",
        "AUC fit",
        "AUC eng.",
        "AUC prop.",
        "AUC points",
        "top-10% lift",
        "top-10% capture",
    ):
        table.add_column(col, justify="left" if col in ("group", "status", "split") else "right")
    for group, g in summary["groups"].items():
        m = g.get("metrics", {})
        prop = m.get("propensity", {})
        table.add_row(
            Text(group),
            g["status"],
            _fmt(g.get("rows"), "{:,}"),
            _fmt(g.get("positive_leads"), "{:,}"),
            _fmt(g.get("labelled_leads"), "{:,}"),
            g.get("split", "-"),
            _fmt(m.get("fit", {}).get("auc")),
            _fmt(m.get("engagement", {}).get("auc")),
            _fmt(prop.get("auc")),
            _fmt(g.get("points_auc")),
            _fmt(prop.get("top_decile_lift"), "{:.1f}×"),
            _fmt(prop.get("top_decile_capture"), "{:.0%}"),
        )
    console.print(table)
    for group, g in summary["groups"].items():
        # Group names, columns and categories come from the data: never read as rich markup.
        if g.get("label"):
            console.print(f"[bold]{escape(group)}[/] label: {escape(g['label'])}", highlight=False)
        if g.get("top_features"):
            console.print(
                f"  top features: {escape(', '.join(g['top_features']))}", highlight=False
            )
        if g.get("excluded"):
            console.print(
                f"  [yellow]excluded (leakage):[/] {escape(', '.join(g['excluded']))}",
                highlight=False,
            )
        if g["status"] == "refused":
            console.print(
                f"  [yellow]refused:[/] {escape(g['reason'])}; scoring uses the points model",
                highlight=False,
            )
    print_warnings(summary.get("warnings", []))


@app.command()
@handle_errors
def train(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Retrain even if nothing changed.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Train fit, engagement and propensity models per product group on point-in-time snapshots.

    Writes <models_dir>/<group>/{fit,engagement,propensity}.txt, calibration.json and card.json.
    A group with too few labels is refused (the points model is used for it). Exit 2 on a config
    error, 3 on an input error, 6 on a model error.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_train(ws, force=force)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        render_train(summary)


__all__ = ["run_train", "render_train", "tables_of", "train"]
