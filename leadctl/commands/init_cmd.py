"""`leadctl init`: propose a column mapping from an export's header."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from leadctl.cli_common import JsonOpt, app, err_console, handle_errors, print_json
from leadctl.config.inputs import TableConfig
from leadctl.errors import ConfigError
from leadctl.io.guess import guess_mapping, render_yaml
from leadctl.io.readers import open_source
from leadctl.schemas import TABLES


@app.command()
@handle_errors
def init(
    from_file: Annotated[Path, typer.Option("--from", help="An export file (CSV or Parquet).")],
    table: Annotated[str, typer.Option("--table", help=f"Canonical table: {', '.join(TABLES)}.")],
    json_out: JsonOpt = False,
) -> None:
    """Print a ready-to-paste `inputs.tables` block guessed from the export's header.

    Knows Salesforce, HubSpot and Marketo field names; marks what it could not map.
    """
    if table not in TABLES:
        raise ConfigError(f"--table must be one of {', '.join(TABLES)}, not {table!r}")
    source = open_source(TableConfig(path=from_file.resolve()), table)
    guess = guess_mapping(source.header, table)
    if json_out:
        print_json(vars(guess))
        return
    sys.stdout.write(render_yaml(guess, from_file.name))
    if guess.unmapped_required:
        err_console.print(
            f"could not map required column(s): {', '.join(guess.unmapped_required)}",
            highlight=False,
        )
