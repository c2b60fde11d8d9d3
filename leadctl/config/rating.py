"""Rating config: cutoffs, the action matrix, hysteresis and override rules (rate)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class RateConfig(StrictModel):
    """Section RateConfig; see configs/default.yaml for every key."""
