"""Lifecycle config: the stage waterfall, sales feedback reasons and expiration rules (expire)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class LifecycleConfig(StrictModel):
    """Section LifecycleConfig; see configs/default.yaml for every key."""


class ExpireConfig(StrictModel):
    """Section ExpireConfig; see configs/default.yaml for every key."""
