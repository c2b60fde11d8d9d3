"""Lifecycle config: the stage waterfall, sales feedback reasons and expiration rules (expire)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from leadctl.config.base import StrictModel

DEFAULT_STAGES = [
    "Inquiry",
    "MQL",
    "MQL-Override",
    "SAL",
    "SQL",
    "Opportunity",
    "Won",
    "Lost",
    "Recycled",
    "Disqualified",
]
DEFAULT_TRANSITIONS = {
    "Inquiry": ["MQL", "MQL-Override", "Disqualified", "Recycled"],
    "MQL": ["SAL", "Recycled", "Disqualified", "MQL-Override"],
    "MQL-Override": ["SAL", "Recycled", "Disqualified", "MQL"],
    "SAL": ["SQL", "Recycled", "Disqualified", "Lost"],
    "SQL": ["Opportunity", "Recycled", "Disqualified", "Lost"],
    "Opportunity": ["Won", "Lost"],
    "Won": [],
    "Lost": ["Recycled"],
    "Recycled": ["MQL", "MQL-Override", "Disqualified", "Inquiry"],
    "Disqualified": ["Recycled"],
}

ReasonAction = Literal["recycle", "disqualify", "data_fix", "reassign", "suppress"]


class FeedbackReason(StrictModel):
    """A rejection / disqualification reason sales may log, and what leadctl does with it."""

    action: ReasonAction
    recycle_after_days: int = Field(default=0, ge=0)
    field_to_fix: str | None = None
    negative_label: bool = False


def _default_reasons() -> dict[str, FeedbackReason]:
    return {
        "Bad contact data": FeedbackReason(action="data_fix", field_to_fix="phone"),
        "Not a fit": FeedbackReason(action="disqualify", negative_label=True),
        "No budget": FeedbackReason(action="recycle", recycle_after_days=90),
        "Timing": FeedbackReason(action="recycle", recycle_after_days=60),
        "Competitor": FeedbackReason(action="suppress", negative_label=True),
        "Student": FeedbackReason(action="disqualify", negative_label=True),
        "Duplicate": FeedbackReason(action="disqualify"),
        "Already a customer": FeedbackReason(action="reassign"),
        "Expired - no activity": FeedbackReason(action="recycle"),
    }


class LifecycleConfig(StrictModel):
    """The demand waterfall: stages, allowed transitions, and what each group of stages means."""

    stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES))
    transitions: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_TRANSITIONS))
    initial_stage: str = "Inquiry"
    mql_stage: str = "MQL"
    override_stage: str = "MQL-Override"
    recycled_stage: str = "Recycled"
    disqualified_stage: str = "Disqualified"
    # Stages in which a rep works the lead: not re-MQLed, suppressed from marketing, expirable.
    active_sales_stages: list[str] = Field(default_factory=lambda: ["SAL", "SQL", "Opportunity"])
    # Stages that end the sales process (a reason is expected when sales sets them).
    closed_stages: list[str] = Field(
        default_factory=lambda: ["Won", "Lost", "Recycled", "Disqualified"]
    )
    reasons: dict[str, FeedbackReason] = Field(default_factory=_default_reasons)

    @model_validator(mode="after")
    def _consistent(self) -> LifecycleConfig:
        known = set(self.stages)
        named = {
            "initial_stage": [self.initial_stage],
            "mql_stage": [self.mql_stage],
            "override_stage": [self.override_stage],
            "recycled_stage": [self.recycled_stage],
            "disqualified_stage": [self.disqualified_stage],
            "active_sales_stages": self.active_sales_stages,
            "closed_stages": self.closed_stages,
        }
        for key, values in named.items():
            bad = [v for v in values if v not in known]
            if bad:
                raise ValueError(
                    f"lifecycle.{key} names unknown stage(s) {bad}; stages are {self.stages}"
                )
        for source, targets in self.transitions.items():
            bad = [s for s in [source, *targets] if s not in known]
            if bad:
                raise ValueError(f"lifecycle.transitions.{source} names unknown stage(s) {bad}")
        # A stage no transition leads to could only appear as an illegal transition.
        reached, frontier = {self.initial_stage}, [self.initial_stage]
        while frontier:
            for target in self.transitions.get(frontier.pop(), []):
                if target not in reached:
                    reached.add(target)
                    frontier.append(target)
        unreachable = [s for s in self.stages if s not in reached]
        if unreachable:
            raise ValueError(
                f"lifecycle.stages {unreachable} cannot be reached from initial_stage "
                f"{self.initial_stage!r} through lifecycle.transitions; add a transition into them"
            )
        return self
