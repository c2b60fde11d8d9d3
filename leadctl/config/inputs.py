"""Config for reading exports: where each table lives and how its columns map onto ours."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from leadctl.config.base import StrictModel

Encoding = Literal["auto", "utf-8", "utf-8-sig", "cp1252", "latin-1"]
ExtraType = Literal["string", "float", "int", "bool", "datetime"]


class ExtraColumn(StrictModel):
    """A column of the export that is not canonical but should be kept (e.g. a custom field)."""

    source: str
    type: ExtraType = "string"


class BooleanValues(StrictModel):
    """Which spellings mean true and false (compared case-insensitively, trimmed)."""

    true: list[str] = Field(default_factory=lambda: ["true", "yes", "y", "1", "t", "x"])
    false: list[str] = Field(default_factory=lambda: ["false", "no", "n", "0", "f", ""])


class TableConfig(StrictModel):
    """One export: its path and how to map it onto a canonical table."""

    path: Path
    format: Literal["auto", "csv", "parquet"] = "auto"
    encoding: Encoding = "auto"
    delimiter: str = ","
    timezone: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    booleans: BooleanValues = Field(default_factory=BooleanValues)
    datetime_formats: list[str] = Field(default_factory=list)
    date_formats: list[str] = Field(default_factory=list)
    extra_columns: dict[str, ExtraColumn] = Field(default_factory=dict)

    @field_validator("extra_columns", mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        """Allow `name: SourceHeader` as shorthand for `name: {source: SourceHeader}`."""
        if isinstance(value, dict):
            return {k: ({"source": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError("delimiter must be exactly one character")
        return value


class InputsConfig(StrictModel):
    """All exports leadctl reads, keyed by canonical table name."""

    dir: Path = Path(".")
    timezone: str = "UTC"
    max_reject_share: float = Field(default=0.05, ge=0.0, le=1.0)
    tables: dict[str, TableConfig] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_tables(self) -> InputsConfig:
        from leadctl.schemas import TABLES

        unknown = sorted(set(self.tables) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; canonical tables are {sorted(TABLES)}")
        return self
