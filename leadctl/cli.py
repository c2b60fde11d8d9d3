"""The leadctl command line: `leadctl --help` lists every command."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Annotated

import typer

import leadctl.commands  # noqa: F401  (registers the commands)
from leadctl import __version__
from leadctl.cli_common import app, console
from leadctl.logs import configure_logging


class LogFormat(StrEnum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        console.print(f"leadctl {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    log_format: Annotated[
        LogFormat, typer.Option("--log-format", help="Log lines as text or JSON (for cron).")
    ] = LogFormat.text,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only warnings and errors.")] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Debug logging (never prints PII).")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Decide every night which prospects sales should follow up, in what order and by whom."""
    level = logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
    configure_logging(level=level, fmt=log_format.value, quiet=quiet)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
