"""`leadctl explain LEAD_ID`: one lead's features, scores, contributions and reasons."""

from __future__ import annotations

from typing import Annotated, Any

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
    workspace,
)
from leadctl.commands.score_cmd import load_models, scorable
from leadctl.errors import ConfigError
from leadctl.stages import score as stage
from leadctl.workspace import Workspace


def run_explain(
    ws: Workspace, lead_id: str, *, group: str | None = None, top: int = 15
) -> dict[str, Any]:
    """The explanation of one lead for every product group (or one), as JSON-able data."""
    groups = ws.product_groups()
    if group is not None:
        if group not in groups:
            raise ConfigError(f"--group {group!r} is not a product group; groups are {groups}")
        groups = [group]
    models = load_models(ws, groups)
    data = scorable(ws, groups, models)
    cfg = ws.cfg
    result = stage.explain(
        data,
        lead_id,
        groups,
        models,
        {g: cfg.points.for_group(g) for g in groups},
        cfg.score,
        cfg.train.features,
    )
    for g in result["groups"].values():
        g["contributions"] = g["contributions"][:top]
    return {"as_of": ws.as_of.isoformat(), **result}


def _value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def render_explain(result: dict[str, Any]) -> None:
    for group, g in result["groups"].items():
        console.print(
            f"[bold]{escape(result['lead_id'])} · {escape(group)}[/]  score {g['score']:.1f}  "
            f"fit {g['fit_score']:.1f}  "
            f"engagement {g['engagement_score']:.1f}  propensity {g['propensity']:.3f}  "
            f"({g['model_kind']} {g['model_version']})",
            highlight=False,
        )
        table = Table(title=f"Drivers ({g['contribution_unit']})", title_justify="left")
        table.add_column("feature")
        table.add_column("value")
        table.add_column("contribution", justify="right")
        for item in g["contributions"]:
            c = item["contribution"]
            style = "green" if c > 0 else "red" if c < 0 else ""
            table.add_row(
                Text(item["label"]),
                Text(_value(item["value"])),
                f"[{style}]{c:+.3f}[/]" if style else f"{c:+.3f}",
            )
        console.print(table)
        for sign, style, texts in (
            ("+", "green", g["reasons_for"]),
            ("-", "red", g["reasons_against"]),
        ):
            for text in texts:
                console.print(Text.assemble("  ", (sign, style), " ", text), highlight=False)


@app.command()
@handle_errors
def explain(
    lead_id: Annotated[str, typer.Argument(help="The lead's id (as in the leads export).")],
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Only this product group.")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="How many drivers to list.")] = 15,
    json_out: JsonOpt = False,
) -> None:
    """Explain one lead: feature values, scores, each feature's contribution and the reasons."""
    ws = workspace(config, as_of, out, input_dir)
    result = run_explain(ws, lead_id, group=group, top=top)
    if json_out:
        print_json(result)
    else:
        render_explain(result)
