"""Shared pieces of the config models: strict models and path resolution."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are validated once at load time."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_default=True)
