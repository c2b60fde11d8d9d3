"""One exception hierarchy for the core; only the CLI turns these into messages and exit codes.

Exit codes (documented in the README):
  0 ok, 1 internal error, 2 usage or config error, 3 input error (file, column, format),
  4 data-quality threshold breached, 5 another run holds the lock, 6 model error.
"""

from __future__ import annotations


class LeadctlError(Exception):
    """Base class: a user-facing problem with a message that says what to do."""

    exit_code = 1
    kind = "internal"


class ConfigError(LeadctlError):
    """The config file is missing, malformed or contradicts itself."""

    exit_code = 2
    kind = "config"


class InputError(LeadctlError):
    """An input file is missing, unreadable or lacks a required column."""

    exit_code = 3
    kind = "input"


class DataQualityError(LeadctlError):
    """Too many rows were rejected to trust the night's outputs."""

    exit_code = 4
    kind = "data-quality"


class LockHeldError(LeadctlError):
    """Another run is writing into the same output directory."""

    exit_code = 5
    kind = "lock"


class ModelError(LeadctlError):
    """A model is missing, or was trained on features that do not match the data."""

    exit_code = 6
    kind = "model"


EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "internal": LeadctlError.exit_code,
    ConfigError.kind: ConfigError.exit_code,
    InputError.kind: InputError.exit_code,
    DataQualityError.kind: DataQualityError.exit_code,
    LockHeldError.kind: LockHeldError.exit_code,
    ModelError.kind: ModelError.exit_code,
}
