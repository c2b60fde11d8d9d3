"""Expire config: disposition expiration, SLA and persistence breach handling (expire).

Stage names here refer to `lifecycle.stages`; they are checked against the lifecycle section by
`check_expire_config` when `expire` runs (a section cannot see its siblings while it validates).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from leadctl.config.base import StrictModel

if TYPE_CHECKING:
    from leadctl.config import LeadctlConfig
    from leadctl.config.lifecycle import LifecycleConfig


class StageRule(StrictModel):
    """When a lead in one stage counts as no longer worked (null switches a rule off).

    A lead expires on the night a count reaches its limit (days are whole days before as-of).
    """

    no_touch_days: int | None = Field(default=None, ge=1)
    max_days_in_stage: int | None = Field(default=None, ge=1)
    max_days_from_mql: int | None = Field(default=None, ge=1)


def _default_rules() -> dict[str, StageRule]:
    return {
        "MQL": StageRule(max_days_from_mql=180),
        "MQL-Override": StageRule(max_days_from_mql=180),
        "SAL": StageRule(no_touch_days=14, max_days_in_stage=120, max_days_from_mql=180),
        "SQL": StageRule(no_touch_days=45, max_days_in_stage=120, max_days_from_mql=180),
    }


class SlaConfig(StrictModel):
    """What happens to an assignment whose first touch missed its `sla_due_at`."""

    action: Literal["reassign", "escalate"] = "reassign"


class PersistenceConfig(StrictModel):
    """Persistence breaches: closed or rejected with fewer attempts than the tier asks for.

    Attempts per tier (and the days they must fall in) come from the assign section's SLA
    tier → pursuit plan; only what the pursuit plan does not say lives here.
    """

    min_channels: int = Field(default=2, ge=0)
    check_unassigned: bool = True
    stages: list[str] = Field(default_factory=lambda: ["Lost", "Recycled", "Disqualified"])
    exempt_reasons: list[str] = Field(default_factory=lambda: ["Duplicate", "Already a customer"])


class ZombieConfig(StrictModel):
    """A zombie: in a sales stage for long, with only token activity lately.

    Opportunity is left out by default: work on an opportunity is logged on the opportunity,
    not as touches on the lead.
    """

    stages: list[str] = Field(default_factory=lambda: ["SAL", "SQL"])
    min_days_in_stage: int = Field(default=60, ge=1)
    window_days: int = Field(default=30, ge=1)
    max_touches_in_window: int = Field(default=1, ge=0)


class SuppressionConfig(StrictModel):
    """Which leads the marketing platform must exclude from sends."""

    active_sales_stages: bool = True
    extra_stages: list[str] = Field(default_factory=list)
    suppress_reasons: bool = True


class FeedbackConfig(StrictModel):
    """Which closed stages do not need a logged reason."""

    reason_optional_stages: list[str] = Field(default_factory=lambda: ["Won"])


class ExpireConfig(StrictModel):
    """Section `expire:`; see configs/default.yaml for every key."""

    stage: str = "Recycled"
    reason: str = "Expired - no activity"
    rules: dict[str, StageRule] = Field(default_factory=_default_rules)
    touches_by: Literal["anyone", "owner"] = "anyone"
    lookback_days: int = Field(default=90, ge=0)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    persistence: PersistenceConfig = Field(default_factory=PersistenceConfig)
    zombies: ZombieConfig = Field(default_factory=ZombieConfig)
    suppression: SuppressionConfig = Field(default_factory=SuppressionConfig)
    feedback: FeedbackConfig = Field(default_factory=FeedbackConfig)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def check_expire_config(cfg: ExpireConfig, lifecycle: LifecycleConfig) -> list[str]:
    """Problems between `expire` and `lifecycle` (empty when they agree).

    Expiring must be a transition the waterfall allows, or tonight's stage updates would show
    up tomorrow as illegal transitions; the expiry reason must be a known reason, or tomorrow's
    feedback check would report leadctl's own updates.
    """
    known = set(lifecycle.stages)
    problems = []
    if cfg.stage not in known:
        problems.append(f"expire.stage {cfg.stage!r} is not in lifecycle.stages {lifecycle.stages}")
    for stage in cfg.rules:
        if stage not in known:
            problems.append(f"expire.rules.{stage}: {stage!r} is not in lifecycle.stages")
        elif cfg.stage not in lifecycle.transitions.get(stage, []):
            problems.append(
                f"expire.rules.{stage}: lifecycle.transitions.{stage} does not allow "
                f"{cfg.stage!r}; add it there or drop the rule"
            )
    reasons = {_norm(r) for r in lifecycle.reasons}
    if _norm(cfg.reason) not in reasons:
        problems.append(
            f"expire.reason {cfg.reason!r} is not one of lifecycle.reasons; add it there"
        )
    lists = {
        "expire.persistence.stages": cfg.persistence.stages,
        "expire.suppression.extra_stages": cfg.suppression.extra_stages,
        "expire.zombies.stages": cfg.zombies.stages,
        "expire.feedback.reason_optional_stages": cfg.feedback.reason_optional_stages,
    }
    for key, stages in lists.items():
        bad = [s for s in stages if s not in known]
        if bad:
            problems.append(f"{key} names unknown stage(s) {bad}; stages are {lifecycle.stages}")
    return problems


@dataclass(frozen=True)
class PersistenceRule:
    """The least pursuit one SLA tier needs before a lead may be rejected or closed."""

    min_attempts: int
    min_channels: int
    within_days: int | None = None  # attempts count up to this many days after the start


@dataclass(frozen=True)
class PersistenceCriteria:
    """Persistence criteria per SLA tier, and the tier of leads closed without an assignment."""

    tiers: dict[str, PersistenceRule]
    default_tier: str | None


def persistence_criteria(cfg: LeadctlConfig) -> PersistenceCriteria:
    """Persistence per SLA tier, from the assign section: tier → pursuit plan → min_attempts
    within within_days of the assignment; min_channels from expire.persistence, capped at the
    channels the plan uses. A tier without a pursuit plan asks for nothing.
    Leads closed with no assignment in the log take assign.default_tier (if check_unassigned).
    """
    assign, own = cfg.assign, cfg.expire.persistence
    tiers = {}
    for name, tier in assign.sla_tiers.items():
        plan = assign.pursuit_plans.get(tier.pursuit_plan) if tier.pursuit_plan else None
        if plan is None:
            tiers[name] = PersistenceRule(min_attempts=0, min_channels=0)
            continue
        channels = len({touch.channel for touch in plan.touches})
        tiers[name] = PersistenceRule(
            min_attempts=plan.min_attempts,
            min_channels=min(own.min_channels, channels),
            within_days=plan.within_days,
        )
    return PersistenceCriteria(
        tiers=tiers, default_tier=assign.default_tier if own.check_unassigned else None
    )
