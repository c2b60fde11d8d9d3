"""Scoring config: how models are trained (train), applied (score), and the rule-based points fallback."""

from __future__ import annotations

from leadctl.config.base import StrictModel


class TrainConfig(StrictModel):
    """Section TrainConfig; see configs/default.yaml for every key."""


class ScoreConfig(StrictModel):
    """Section ScoreConfig; see configs/default.yaml for every key."""


class PointsConfig(StrictModel):
    """Section PointsConfig; see configs/default.yaml for every key."""
