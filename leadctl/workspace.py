"""Where one night's files live, and lazy access to the canonical tables and stage outputs.

Stages never touch paths; the CLI asks the workspace for frames and hands them to the stages.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from leadctl.config import LeadctlConfig
from leadctl.errors import InputError
from leadctl.io.ingest import TableReport, ingest_all
from leadctl.io.writers import write_json
from leadctl.schemas import TABLES, empty_frame

_FINGERPRINT = "_ingest.json"


@dataclass
class Workspace:
    """One config and one as-of date: the run directory and everything read into it."""

    cfg: LeadctlConfig
    as_of: date
    reports: dict[str, TableReport] = field(default_factory=dict)

    @property
    def run_dir(self) -> Path:
        return self.cfg.output.run_dir(self.as_of)

    @property
    def canonical_dir(self) -> Path:
        return self.run_dir / "canonical"

    @property
    def rejects_dir(self) -> Path:
        return self.run_dir / "rejects"

    @property
    def models_dir(self) -> Path:
        return self.cfg.output.models

    @property
    def state_dir(self) -> Path:
        return self.cfg.output.state

    def output(self, name: str) -> Path:
        """Path of a stage output file in the run directory."""
        return self.run_dir / name

    def _fingerprint(self) -> str:
        """Identifies the exports (path, size, mtime) and the inputs config they were read with."""
        parts = [json.dumps(self.cfg.inputs.model_dump(mode="json"), sort_keys=True)]
        for name, table in sorted(self.cfg.inputs.tables.items()):
            try:
                paths = sorted(table.path.rglob("*")) if table.path.is_dir() else [table.path]
                for p in paths:
                    st = p.stat()
                    parts.append(f"{name}:{p}:{st.st_size}:{st.st_mtime_ns}")
            except OSError:
                parts.append(f"{name}:{table.path}:missing")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def ingest(self, *, force: bool = False) -> dict[str, TableReport]:
        """Map every export into canonical Parquet, unless the same exports were read already."""
        marker = self.canonical_dir / _FINGERPRINT
        fingerprint = self._fingerprint()
        if not force and marker.is_file():
            saved = json.loads(marker.read_text())
            if saved.get("fingerprint") == fingerprint:
                self.reports = {k: TableReport(**v) for k, v in saved["reports"].items()}
                return self.reports
        escape = self.cfg.output.escape_formulas
        self.reports = ingest_all(
            self.cfg.inputs, self.canonical_dir, self.rejects_dir, escape=escape
        )
        payload = {
            "fingerprint": fingerprint,
            "reports": {k: vars(v) for k, v in self.reports.items()},
        }
        write_json(payload, marker)
        return self.reports

    def table(self, name: str) -> pl.LazyFrame:
        """Canonical table `name` as a lazy scan (empty, with its columns, when not configured)."""
        if name not in TABLES:
            raise KeyError(name)
        if name not in self.cfg.inputs.tables:
            return empty_frame(name).lazy()
        if not self.reports:
            self.ingest()
        return pl.scan_parquet(self.canonical_dir / f"{name}.parquet")

    def product_groups(self) -> list[str]:
        """The configured product groups, else those seen in opportunities and activities."""
        if self.cfg.product_groups:
            return list(self.cfg.product_groups)
        seen: set[str] = set()
        for name in ("opportunities", "activities"):
            frame = self.table(name).select(pl.col("product_group").drop_nulls().unique()).collect()
            seen.update(frame["product_group"].to_list())
        return sorted(seen) or ["all"]

    def read_output(self, name: str, *, produced_by: str) -> pl.LazyFrame:
        """A previous stage's Parquet output; a clear error says which command makes it."""
        path = self.output(name)
        if not path.is_file():
            raise InputError(
                f"{path} does not exist: run `leadctl {produced_by} --as-of {self.as_of}` first "
                f"(or `leadctl run`, which runs every stage)"
            )
        return pl.scan_parquet(path)
