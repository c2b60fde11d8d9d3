"""Verify config: the data checks a lead must pass before it goes to a rep (verify)."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class VerifyConfig(StrictModel):
    """Section VerifyConfig; see configs/default.yaml for every key."""
