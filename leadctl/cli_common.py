"""What every command shares: the Typer app, consoles, common options and error handling.

Commands live in `leadctl/commands/`; each imports `app` from here and registers itself.
Only the CLI exits or prints; the core raises LeadctlError subclasses.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from leadctl.config import LeadctlConfig, load_config
from leadctl.errors import ConfigError, LeadctlError
from leadctl.workspace import Workspace

app = typer.Typer(
    name="leadctl",
    help="Nightly lead prioritisation: score, rate, verify, assign and expire leads, then report.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
console = Console()
err_console = Console(stderr=True)
log = logging.getLogger("leadctl")

DEFAULT_CONFIG = Path("configs/default.yaml")

ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Config file (YAML).", show_default=True)
]
AsOfOpt = Annotated[
    str,
    typer.Option(
        "--as-of",
        help="The date the run is for (YYYY-MM-DD). 'today' uses this machine's date.",
    ),
]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Output directory (overrides output.dir).")
]
InputDirOpt = Annotated[
    Path | None, typer.Option("--input-dir", "-i", help="Input directory (overrides inputs.dir).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the summary as JSON for scripts.")]

F = TypeVar("F", bound=Callable[..., Any])


def parse_as_of(value: str) -> date:
    """The run date; 'today' is resolved here, in the shell, never inside a stage."""
    if value == "today":
        return date.today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise ConfigError(f"--as-of must be a date like 2026-11-20, not {value!r}") from None


def load(config: Path, out: Path | None = None, input_dir: Path | None = None) -> LeadctlConfig:
    """Load the config and apply the command-line directory overrides."""
    cfg = load_config(config)
    if out is not None:
        cfg.output.dir = out.resolve()
    if input_dir is not None:
        base = input_dir.resolve()
        for table in cfg.inputs.tables.values():
            table.path = base / table.path.relative_to(cfg.inputs.dir)
        cfg.inputs.dir = base
    return cfg


def workspace(
    config: Path, as_of: str, out: Path | None = None, input_dir: Path | None = None
) -> Workspace:
    """The usual start of a stage command: config + overrides + as-of → a Workspace."""
    return Workspace(load(config, out, input_dir), parse_as_of(as_of))


def handle_errors(func: F) -> F:
    """Turn core errors into `Error: …` on stderr and the documented exit code; no tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except LeadctlError as exc:
            err_console.print(
                f"[bold red]Error:[/] {exc}", markup=True, highlight=False, soft_wrap=True
            )
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # the last line of defence: never a traceback with data in it
            log.debug("internal error", exc_info=True)
            err_console.print(
                f"Error: internal error ({type(exc).__name__}): {exc}. "
                "Please report it with the command you ran (rerun with --debug for a traceback).",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Machine-readable summary on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def print_warnings(warnings: list[str], *, label: str = "warning") -> None:
    """Each warning on its own yellow-labelled line (never markup-interpreted)."""
    for warning in warnings:
        console.print(f"[yellow]{label}:[/] ", end="")
        console.print(str(warning), highlight=False, markup=False)
