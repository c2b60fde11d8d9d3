"""Report and nightly-run config (report, run)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class ReportConfig(StrictModel):
    """Section ReportConfig; see configs/default.yaml for every key."""


class RunConfig(StrictModel):
    """Section RunConfig; see configs/default.yaml for every key."""
