"""`leadctl config check`: validate a config file and print the effective settings."""

from __future__ import annotations

import typer
import yaml

from leadctl.cli_common import (
    DEFAULT_CONFIG,
    ConfigOpt,
    JsonOpt,
    app,
    console,
    handle_errors,
    print_json,
)
from leadctl.config import config_hash, load_config

config_app = typer.Typer(help="Inspect and check the config file.", no_args_is_help=True)
app.add_typer(config_app, name="config")


@config_app.command("check")
@handle_errors
def check(config: ConfigOpt = DEFAULT_CONFIG, json_out: JsonOpt = False) -> None:
    """Validate the config (unknown keys suggest the closest valid one) and print it in full."""
    cfg = load_config(config)
    effective = cfg.model_dump(mode="json")
    if json_out:
        print_json({"config": str(config), "hash": config_hash(cfg), "effective": effective})
        return
    console.print(yaml.safe_dump(effective, sort_keys=False, allow_unicode=True), highlight=False)
    console.print(f"[green]OK[/] {config} (hash {config_hash(cfg)})", highlight=False)
