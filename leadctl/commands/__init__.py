"""CLI commands, one module per command group; importing a module registers its commands."""

from leadctl.commands import (
    assign_cmd,
    config_cmd,
    expire_cmd,
    explain_cmd,
    init_cmd,
    rate_cmd,
    report_cmd,
    run_cmd,
    sample_cmd,
    score_cmd,
    train_cmd,
    validate_cmd,
    verify_cmd,
)

__all__ = [
    "assign_cmd",
    "config_cmd",
    "expire_cmd",
    "explain_cmd",
    "init_cmd",
    "rate_cmd",
    "report_cmd",
    "run_cmd",
    "sample_cmd",
    "score_cmd",
    "train_cmd",
    "validate_cmd",
    "verify_cmd",
]
