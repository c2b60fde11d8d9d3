"""Scoring config: training (train), applying models (score), the rule-based points fallback."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from leadctl.config.base import StrictModel

# ---------------------------------------------------------------------------------------- train


class LabelConfig(StrictModel):
    """What counts as a positive training example, and where the outcome comes from."""

    # opportunities: an opportunity for the product group; lead_conversion: IsConverted and
    # ConvertedDate on the lead; outcome_column: a yes/no column of a flat export (no dates needed).
    source: Literal["opportunities", "lead_conversion", "outcome_column"] = "opportunities"
    event: Literal["created", "won"] = "created"  # opportunities: created within H days, or won
    horizon_days: int = Field(default=90, ge=1)  # H: how long after the snapshot an outcome counts
    account_mode: bool = False  # an opportunity at the lead's account counts for the lead
    outcome_column: str | None = None  # leads column holding the outcome (source: outcome_column)

    @model_validator(mode="after")
    def _outcome_needs_column(self) -> LabelConfig:
        if self.source == "outcome_column" and not self.outcome_column:
            raise ValueError(
                "label.source 'outcome_column' needs label.outcome_column (a leads column)"
            )
        return self


class SnapshotsConfig(StrictModel):
    """Snapshot dates: leads as they looked when they would have been scored."""

    count: int = Field(default=12, ge=1)  # how many snapshot dates
    every_days: int = Field(default=30, ge=1)  # spacing between snapshots
    holdout: int = Field(
        default=3, ge=1
    )  # the latest snapshots held out for early stopping + calibration

    @model_validator(mode="after")
    def _holdout_fits(self) -> SnapshotsConfig:
        if self.count > 1 and self.holdout >= self.count:
            raise ValueError(
                f"snapshots.holdout ({self.holdout}) must be below snapshots.count ({self.count})"
            )
        return self


class CustomFeature(StrictModel):
    """A column of an export used as a feature as it is (custom field, BANT answer ...)."""

    column: str  # a leads column: canonical or declared under inputs.tables.leads.extra_columns
    kind: Literal["categorical", "numeric"] = "categorical"
    group: Literal["fit", "engagement"] = "fit"  # fit: profile; engagement: behaviour
    label: str | None = None  # how reason codes name it (default: the column name)


class FeaturesConfig(StrictModel):
    """How fit and engagement features are built (`score` needs the same settings, or a retrain)."""

    windows_days: list[int] = Field(default_factory=lambda: [7, 30, 90])
    half_life_days: float = Field(default=30.0, gt=0)  # exponentially decayed engagement
    lookback_days: int = Field(default=365, ge=1)  # activities older than this are ignored
    activity_types: list[str] = Field(default_factory=list)  # empty: every type seen in training
    max_activity_types: int = Field(default=30, ge=1)  # most frequent types kept when inferred
    activity_weights: dict[str, float] = Field(
        default_factory=dict
    )  # per type in decayed engagement
    negative_activity_types: list[str] = Field(
        default_factory=lambda: ["Unsubscribe Email", "Email Bounced", "Spam Complaint"]
    )
    activity_phrases: dict[str, str] = Field(default_factory=dict)  # reason wording per type
    size_band_edges: list[int] = Field(default_factory=lambda: [50, 200, 1000, 5000])
    revenue_band_edges: list[float] = Field(
        default_factory=lambda: [1_000_000.0, 10_000_000.0, 100_000_000.0, 1_000_000_000.0]
    )
    max_categories: int = Field(default=30, ge=2)  # rarer categories become "(other)"
    min_category_count: int = Field(default=10, ge=1)
    buying_group: bool = True  # engaged colleagues at the same account
    custom: list[CustomFeature] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)  # built-in feature names not to use

    @field_validator("windows_days")
    @classmethod
    def _windows(cls, value: list[int]) -> list[int]:
        if not value or any(w < 1 for w in value):
            raise ValueError("windows_days needs at least one window of 1 day or more")
        return sorted(set(value))

    @field_validator("size_band_edges", "revenue_band_edges")
    @classmethod
    def _increasing(cls, value: list[float]) -> list[float]:
        if any(b <= a for a, b in zip(value, value[1:], strict=False)):
            raise ValueError("band edges must be strictly increasing")
        return value

    @model_validator(mode="after")
    def _unique_custom(self) -> FeaturesConfig:
        columns = [c.column for c in self.custom]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise ValueError(f"features.custom declares {dupes} more than once")
        if max(self.windows_days) > self.lookback_days:
            raise ValueError("lookback_days must be at least the largest of windows_days")
        return self


class LightGBMConfig(StrictModel):
    """LightGBM settings; fixed seed and threads make the same data give the same model file."""

    num_leaves: int = Field(default=15, ge=2)
    learning_rate: float = Field(default=0.1, gt=0, le=1)
    max_rounds: int = Field(default=300, ge=1)
    early_stopping_rounds: int = Field(default=20, ge=1)
    # Held-out AUC gains smaller than this do not count: trees that barely help cost scoring time.
    early_stopping_min_delta: float = Field(default=0.0005, ge=0)
    min_child_samples: int = Field(default=40, ge=1)
    feature_fraction: float = Field(default=0.8, gt=0, le=1)
    lambda_l2: float = Field(default=1.0, ge=0)
    class_weight: Literal["balanced", "none"] = "balanced"
    # Training threads; 1 is fastest on a shared machine (OpenMP threads spin on busy cores).
    num_threads: int = Field(default=1, ge=1)
    seed: int = 42


class GuardsConfig(StrictModel):
    """When `train` refuses a group, and which features it refuses."""

    min_labelled_leads: int = Field(default=1000, ge=1)
    min_positives: int = Field(default=120, ge=1)
    leakage_auc: float = Field(default=0.95, gt=0.5, le=1.0)
    set_by_sales: list[str] = Field(
        default_factory=lambda: ["stage", "owner_id", "is_converted", "converted_at"]
    )
    allow_features: list[str] = Field(default_factory=list)  # kept even when flagged as leaking


class CalibrationConfig(StrictModel):
    """How raw model outputs become probabilities (stored as JSON data, never pickled)."""

    method: Literal["isotonic", "platt"] = "isotonic"
    bins: int = Field(default=10, ge=2)  # calibration table bins in the model card


class TrainConfig(StrictModel):
    """`leadctl train`: labels, snapshots, features, LightGBM, guards and calibration."""

    label: LabelConfig = Field(default_factory=LabelConfig)
    snapshots: SnapshotsConfig = Field(default_factory=SnapshotsConfig)
    features: FeaturesConfig = Field(default_factory=FeaturesConfig)
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)
    guards: GuardsConfig = Field(default_factory=GuardsConfig)
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    stratified_holdout_share: float = Field(default=0.3, gt=0, lt=1)  # fallback split, no dates
    top_features: int = Field(default=10, ge=1)  # listed in the card and the summary
    # Per group; above it whole leads are sampled (every k-th) before features are built.
    max_training_rows: int | None = Field(default=400_000, ge=1000)


# ---------------------------------------------------------------------------------------- score


class ReasonsConfig(StrictModel):
    """Which leads get reason codes (TreeSHAP costs time, so only the leads that matter)."""

    min_score: float = Field(default=80.0, ge=0, le=100)  # leads at or above this score
    min_points_score: float = Field(default=40.0, ge=0, le=100)  # the same for points-model scores
    max_leads: int = Field(default=5_000, ge=0)  # per product group, highest scores first
    top_n: int = Field(default=3, ge=1, le=10)  # drivers per direction
    min_contribution: float = Field(default=0.02, ge=0)  # ignore smaller contributions (log-odds)


class ScoreConfig(StrictModel):
    """`leadctl score`: scale, batching and reason codes."""

    scale: Literal["percentile", "probability"] = "percentile"
    num_threads: int = Field(default=2, ge=1)  # LightGBM prediction threads
    batch_size: int = Field(default=250_000, ge=1000)
    # More leads than this: features are built, predicted and dropped one lead_id range of this
    # size at a time (bounds memory; same scores as one pass).
    partition_leads: int = Field(default=1_500_000, ge=1)
    reasons: ReasonsConfig = Field(default_factory=ReasonsConfig)


# ---------------------------------------------------------------------------------------- points

Priority = int


def _check_priorities(values: dict, where: str) -> None:
    bad = {k: v for k, v in values.items() if not -10 <= v <= 10}
    if bad:
        raise ValueError(f"{where}: priorities must be between -10 and 10, got {bad}")


class DemographicAttribute(StrictModel):
    """A profile attribute: each choice (or numeric band) has a priority from -10 to 10."""

    feature: str  # a fit feature (seniority, industry, company_size, ...) or a custom column
    weight: float = Field(gt=0)  # % of the total score
    choices: dict[str, Priority] = Field(default_factory=dict)  # categorical value: priority
    at_least: dict[float, Priority] = Field(default_factory=dict)  # numeric: lower bound: priority
    other: Priority = 0  # a value not listed
    missing: Priority = 0  # no value
    label: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DemographicAttribute:
        if bool(self.choices) == bool(self.at_least):
            raise ValueError(
                f"attribute '{self.feature}': give either choices or at_least (not both)"
            )
        _check_priorities(
            {**self.choices, **self.at_least, "other": self.other, "missing": self.missing},
            f"attribute '{self.feature}'",
        )
        return self


class BehaviouralAttribute(StrictModel):
    """What a lead did: activities counted in a window or with decay; thresholds give priorities."""

    name: str  # shown in reason codes
    activity_types: list[str] = Field(min_length=1)
    weight: float = Field(gt=0)  # % of the total score
    at_least: dict[float, Priority]  # (decayed) count at least: priority
    window_days: int | None = Field(default=None, ge=1)
    half_life_days: float | None = Field(default=None, gt=0)
    product_group_only: bool = False  # count only activities tagged with the scored group

    @model_validator(mode="after")
    def _window_or_decay(self) -> BehaviouralAttribute:
        if (self.window_days is None) == (self.half_life_days is None):
            raise ValueError(
                f"behaviour '{self.name}': give exactly one of window_days or half_life_days"
            )
        if not self.at_least or any(k < 0 for k in self.at_least):
            raise ValueError(f"behaviour '{self.name}': at_least needs thresholds >= 0")
        _check_priorities(self.at_least, f"behaviour '{self.name}'")
        return self


class PointsModelConfig(StrictModel):
    """One points model: demographic <= 50 % of the weight, both sections together 100 %."""

    demographic: list[DemographicAttribute] = Field(default_factory=list)
    behavioural: list[BehaviouralAttribute] = Field(default_factory=list)

    @model_validator(mode="after")
    def _weights(self) -> PointsModelConfig:
        dem = sum(a.weight for a in self.demographic)
        beh = sum(a.weight for a in self.behavioural)
        if dem > 50 + 1e-9:
            raise ValueError(f"demographic weights add up to {dem:g} %; at most 50 % is allowed")
        if abs(dem + beh - 100) > 1e-6:
            raise ValueError(
                f"weights add up to {dem + beh:g} % (demographic {dem:g} + behavioural {beh:g}); "
                "they must add up to 100 %"
            )
        if not self.demographic or not self.behavioural:
            raise ValueError(
                "a points model needs at least one demographic and one behavioural attribute"
            )
        names = [a.name for a in self.behavioural]
        if len(set(names)) != len(names):
            raise ValueError("behavioural attribute names must be unique")
        return self


class PointsConfig(StrictModel):
    """Rule-based points models: the cold-start fallback for groups without a trained model."""

    default: PointsModelConfig | None = None  # used by every group without its own model
    groups: dict[str, PointsModelConfig] = Field(default_factory=dict)  # per product group

    def for_group(self, group: str) -> PointsModelConfig | None:
        return self.groups.get(group, self.default)
