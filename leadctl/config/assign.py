"""Assignment config: routing rules, distribution, SLA tiers and pursuit plans (assign)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class AssignConfig(StrictModel):
    """Section AssignConfig; see configs/default.yaml for every key."""
