"""Report and nightly-run config (report, run)."""

from __future__ import annotations

from pydantic import Field, field_validator

from leadctl.config.base import StrictModel

PIPELINE_STAGES = ("validate", "train", "score", "rate", "verify", "assign", "expire", "report")


class ReportConfig(StrictModel):
    """What the report compares and when it warns."""

    period_days: int = Field(
        default=30, ge=1
    )  # funnel / velocity period, compared with the one before
    conversion_window_days: int = Field(
        default=90, ge=1
    )  # how long after rating a conversion counts
    psi_warning: float = Field(default=0.2, gt=0)  # population stability index that flags drift
    stale_model_days: int = Field(default=90, ge=1)  # recommend retraining a model older than this
    top_share: float = Field(
        default=0.3, gt=0, le=1
    )  # "top 30 % of leads hold X % of opportunities"
    review_warning_days: int = Field(
        default=14, ge=0
    )  # override rules this close to review_by are flagged
    weeks: int = Field(default=8, ge=1)  # weeks in the weekly scorecard
    # The waterfall the funnel follows, in order; entries into lifecycle.override_stage count as
    # entries into lifecycle.mql_stage. The last stage is the win (excluded from rejections).
    funnel_stages: list[str] = Field(
        default_factory=lambda: ["Inquiry", "MQL", "SAL", "SQL", "Opportunity", "Won"], min_length=2
    )
    # Lead columns whose mix is compared (PSI) between the training population and new leads.
    drift_features: list[str] = Field(
        default_factory=lambda: ["lead_source", "industry", "country", "employees"]
    )
    bins: int = Field(default=10, ge=2, le=100)  # bins of gains, calibration and PSI
    # Rows of each table shown in the HTML (the table files hold every row).
    html_max_rows: int = Field(default=40, ge=1)


class RunConfig(StrictModel):
    """The nightly `leadctl run`: when to retrain, what stops the night."""

    retrain_interval_days: int = Field(default=30, ge=1)  # retrain models older than this
    retrain_on_drift: bool = True  # retrain when the score distribution drifted (PSI)
    drift_psi_threshold: float = Field(default=0.25, gt=0)
    # Stages `run` executes, in pipeline order; drop one to skip it (e.g. no assignment yet).
    stages: list[str] = Field(default_factory=lambda: list(PIPELINE_STAGES))

    @field_validator("stages")
    @classmethod
    def _known_in_order(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in PIPELINE_STAGES]
        if unknown:
            raise ValueError(f"unknown stage(s) {unknown}; stages are {list(PIPELINE_STAGES)}")
        if value != [s for s in PIPELINE_STAGES if s in value]:
            raise ValueError(f"stages must keep pipeline order {list(PIPELINE_STAGES)}")
        if "validate" not in value:
            raise ValueError("'validate' cannot be skipped: every stage reads what it ingests")
        return value
