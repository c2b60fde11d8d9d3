"""`leadctl run`: the whole night in one command, under a lock, with a manifest."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

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
from leadctl.errors import InputError
from leadctl.io.writers import write_json
from leadctl.lock import run_lock
from leadctl.logs import is_quiet
from leadctl.pipeline import build_manifest, run_pipeline, stage_renderer

log = logging.getLogger("leadctl.run")


class Retrain(StrEnum):
    auto = "auto"
    always = "always"
    never = "never"


def _render(manifest: dict[str, Any], run_dir: str) -> None:
    # Stage renderers print their own summary's warnings; validate has no renderer here, so
    # its warnings (a header-only export, a missing optional column) are printed in its place.
    listed = {str(w) for s in manifest["stages"].values() for w in (s.get("warnings") or [])}
    for name in manifest["stage_order"]:
        summary = manifest["stages"][name]
        if "skipped" in summary:
            console.print(f"[dim]{name}: skipped ({summary['skipped']})[/]")
            continue
        if name == "validate":
            print_warnings([w for w in manifest["warnings"] if w not in listed])
        renderer = stage_renderer(name) if name != "validate" else None
        if renderer is not None:
            renderer(summary)
    table = Table(title=f"Night of {manifest['as_of']}", title_justify="left")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for name in manifest["stage_order"]:
        table.add_row(name, f"{manifest['durations_seconds'][name]:.2f}")
    console.print(table)
    if manifest["warnings"]:
        console.print(
            f"[yellow]{len(manifest['warnings'])} warning(s)[/] (listed above and in manifest.json)"
        )
    console.print(
        f"Outputs: {run_dir}  (manifest.json lists every file and count)", highlight=False
    )


@app.command()
@handle_errors
def run(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    retrain: Annotated[
        Retrain,
        typer.Option(help="auto: train when a model is missing, old or drifting; always; never."),
    ] = Retrain.auto,
    json_out: JsonOpt = False,
) -> None:
    """The whole night: validate, train (if needed), score, rate, verify, assign, expire, report.

    Writes everything into <out>/<as-of>/ plus manifest.json. Exit codes: 0 ok, 2 config error,
    3 input error, 4 data-quality threshold breached, 5 another run holds the lock, 6 model error,
    1 internal error.
    """
    ws = workspace(config, as_of, out, input_dir)
    show_progress = console.is_terminal and not json_out and not is_quiet()
    with run_lock(ws.cfg.output.dir, label=f"as-of {ws.as_of}"):
        # A manifest says "this night is complete": an earlier run's must not outlive a re-run
        # that fails or is killed half-way through rewriting the night's files.
        manifest_path = ws.output("manifest.json")
        try:
            manifest_path.unlink(missing_ok=True)
        except OSError as exc:
            raise InputError(
                f"cannot replace {manifest_path}: {exc.strerror or exc}; make {ws.run_dir} "
                "writable or choose another output directory (output.dir / --out)"
            ) from None
        if show_progress:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("starting", total=None)

                def on_stage(name: str) -> None:
                    progress.update(task, description=f"{name}")

                runs, warnings = run_pipeline(ws, retrain=retrain.value, on_stage=on_stage)
        else:
            runs, warnings = run_pipeline(
                ws, retrain=retrain.value, on_stage=lambda name: log.info("stage %s", name)
            )
        manifest = build_manifest(ws, runs, warnings)
        write_json(manifest, ws.output("manifest.json"))
    if json_out:
        print_json(manifest)
    elif not is_quiet():
        _render(manifest, str(ws.run_dir))
