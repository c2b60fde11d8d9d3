"""Expire config: disposition expiration, SLA and persistence breach handling (expire)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class ExpireConfig(StrictModel):
    """Section ExpireConfig; see configs/default.yaml for every key."""
