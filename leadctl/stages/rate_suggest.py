"""`rate --suggest`: cutoffs whose new MQLs per day fit what the sales teams can take.

Capacity side: active reps (not out of office) serving a product group, their open-lead
capacity minus their current open load, turned into a daily intake (a fixed number of leads
per rep per working day, or a share of the free slots), spread evenly over the groups a rep
serves. Demand side: tonight's rating run repeated with share cutoffs scaled by each factor;
the new MQLs it would create are the day's intake, their summed propensity the expected
conversions. Nothing is written: the user copies the cutoffs they like into the config.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.rating import Cutoffs, RateConfig, SuggestConfig
from leadctl.stages.rate import decide, grade


def daily_capacity(
    reps: pl.LazyFrame, load: pl.LazyFrame, groups: list[str], cfg: SuggestConfig, as_of: date
) -> pl.DataFrame:
    """Per product group: reps, capacity, open leads, free slots and new leads per day."""
    today = pl.lit(as_of)
    away = (pl.col("out_of_office_from") <= today) & (pl.col("out_of_office_to") >= today)
    cleaned = (
        pl.col("product_groups")
        .str.split(";")
        .list.eval(pl.element().str.strip_chars().str.to_lowercase())
        .list.eval(pl.element().filter(pl.element() != ""))
    )
    reps_ = reps.filter(pl.col("active").fill_null(True) & ~away.fill_null(False)).select(
        pl.col("rep_id").cast(pl.String),
        pl.col("capacity")
        .cast(pl.Int64, strict=False)
        .fill_null(cfg.default_capacity)
        .alias("_cap"),
        cleaned.alias("_serves"),
    )
    group_frame = pl.LazyFrame({"product_group": groups}, schema={"product_group": pl.String})
    served = reps_.join(group_frame, how="cross").filter(
        pl.col("_serves").list.len().fill_null(0).eq(0)
        | pl.col("_serves")
        .list.contains(pl.col("product_group").str.to_lowercase())
        .fill_null(False)
    )
    served = served.join(load, on="rep_id", how="left").with_columns(
        pl.col("open_leads").fill_null(0),
        pl.len().over("rep_id").alias("_n_groups"),
    )
    free = (pl.col("_cap") - pl.col("open_leads")).clip(lower_bound=0).cast(pl.Float64)
    if cfg.leads_per_rep_per_day is not None:
        intake = pl.min_horizontal(pl.lit(cfg.leads_per_rep_per_day), free)
    else:
        intake = free * cfg.daily_capacity_share
    per_day = intake * cfg.working_days_per_week / 7 / pl.col("_n_groups")
    share = 1.0 / pl.col("_n_groups")
    totals = (
        served.with_columns(free.alias("_free"), per_day.alias("_per_day"))
        .group_by("product_group")
        .agg(
            pl.len().alias("reps"),
            (pl.col("_cap") * share).sum().alias("capacity"),
            (pl.col("open_leads") * share).sum().alias("open_leads"),
            (pl.col("_free") * share).sum().alias("free_slots"),
            pl.col("_per_day").sum().alias("new_leads_per_day"),
        )
    )
    return (
        group_frame.join(totals, on="product_group", how="left")
        .with_columns(
            pl.col("reps").fill_null(0).cast(pl.Int64),
            *[
                pl.col(c).fill_null(0.0).round(2)
                for c in ("capacity", "open_leads", "free_slots", "new_leads_per_day")
            ],
        )
        .sort("product_group")
        .collect()
    )


@dataclass
class Trial:
    """One set of cutoffs tried on tonight's data."""

    new_mqls: int  # including those sent by override rules
    new_override_mqls: int  # the same under every candidate: overrides ignore cutoffs
    expected_conversions: float
    fit_cutoffs: list[float | None]  # effective minimum scores for A, B, C
    engagement_cutoffs: list[float | None]  # and for 1, 2, 3
    fit_shares: list[float]  # share of the group's scored leads in A, B, C
    engagement_shares: list[float]
    factor: float | None = None
    delta_new_mqls: int = 0
    delta_conversions: float = 0.0
    fits: bool = False
    searched: bool = False  # found by bisection: the loosest shares that still fit


def _evaluate(
    rows: pl.LazyFrame, cfg: RateConfig, lifecycle: LifecycleConfig, as_of: date
) -> Trial:
    """New MQLs, expected conversions and effective score cutoffs of one candidate config."""
    decided = decide(grade(rows, cfg), cfg, lifecycle, as_of)
    out = (
        decided.select(
            pl.col("is_new_mql").sum().alias("new_mqls"),
            (pl.col("is_new_mql") & pl.col("override_rule").is_not_null()).sum().alias("new_ov"),
            pl.col("propensity").filter(pl.col("is_new_mql")).fill_null(0.0).sum().alias("conv"),
            *[pl.col(f"_fthr{i}").first().alias(f"f{i}") for i in range(3)],
            *[pl.col(f"_ethr{i}").first().alias(f"e{i}") for i in range(3)],
            *[(pl.col("fit_grade") <= g).sum().alias(f"nf{i}") for i, g in enumerate("ABC")],
            *[(pl.col("engagement_grade") <= i + 1).sum().alias(f"ne{i}") for i in range(3)],
            pl.col("fit_score").count().alias("n_fit"),
            pl.col("engagement_score").count().alias("n_eng"),
        )
        .collect()
        .row(0, named=True)
    )

    def cut(value: float | None) -> float | None:
        return None if value is None else round(float(value), 2)

    def shares(prefix: str, n: int) -> list[float]:
        cum = [out[f"{prefix}{i}"] / n if n else 0.0 for i in range(3)]
        return [round(c - p, 4) for c, p in zip(cum, [0.0, *cum[:2]], strict=True)]

    return Trial(
        new_mqls=int(out["new_mqls"] or 0),
        new_override_mqls=int(out["new_ov"] or 0),
        expected_conversions=round(float(out["conv"] or 0.0), 2),
        fit_cutoffs=[cut(out[f"f{i}"]) for i in range(3)],
        engagement_cutoffs=[cut(out[f"e{i}"]) for i in range(3)],
        fit_shares=shares("nf", out["n_fit"]),
        engagement_shares=shares("ne", out["n_eng"]),
    )


def _scaled(shares: list[float], factor: float) -> list[float]:
    """Shares times factor, kept within a total of 1 (rounded down to 4 decimals)."""
    scaled = [s * factor for s in shares]
    total = sum(scaled)
    if total > 1:
        scaled = [s / total for s in scaled]
    return [math.floor(s * 10_000) / 10_000 for s in scaled]


_SEARCH_STEPS = 10  # bisection steps for the largest factor that fits (precision ~ 1/1000)


@dataclass
class _GroupSearch:
    """One product group's rows and what its candidates are measured against."""

    rows: pl.LazyFrame
    cfg: RateConfig
    lifecycle: LifecycleConfig
    as_of: date
    group: str
    limit: float
    current: Trial
    base_fit: list[float]
    base_eng: list[float]

    def attempt(self, factor: float, searched: bool = False) -> Trial:
        """Rate the group with the base shares times `factor`."""
        cand = Cutoffs(
            method="share",
            fit=_scaled(self.base_fit, factor),
            engagement=_scaled(self.base_eng, factor),
        )
        groups = {**self.cfg.group_cutoffs, self.group: cand}
        result = _evaluate(
            self.rows,
            self.cfg.model_copy(update={"group_cutoffs": groups}),
            self.lifecycle,
            self.as_of,
        )
        result.factor, result.searched = round(factor, 4), searched
        result.fit_shares, result.engagement_shares = list(cand.fit), list(cand.engagement)
        result.delta_new_mqls = result.new_mqls - self.current.new_mqls
        result.delta_conversions = round(
            result.expected_conversions - self.current.expected_conversions, 2
        )
        result.fits = result.new_mqls <= self.limit
        return result

    def candidates(self, factors: list[float]) -> list[Trial]:
        """Each factor, plus (searched) the largest factor that still fits, if it adds anything."""
        out = [self.attempt(f) for f in factors]
        fit = [c.factor for c in out if c.fits and c.factor is not None]
        over = [c.factor for c in out if not c.fits and c.factor is not None]
        if not over:
            return out
        lo, hi = max(fit, default=0.0), min(over)
        found = None
        for _ in range(_SEARCH_STEPS):
            mid = (lo + hi) / 2
            trial = self.attempt(mid, searched=True)
            if trial.fits:
                lo, found = mid, trial
            else:
                hi = mid
        # Worth showing only if it sends more than the best grid candidate that fits.
        most = max((c.new_mqls for c in out if c.fits), default=0)
        if found is not None and found.new_mqls > most:
            out.append(found)
            out.sort(key=lambda c: c.factor or 0.0)
        return out


def suggest_cutoffs(
    prepared: pl.DataFrame,
    capacity: pl.DataFrame,
    cfg: RateConfig,
    lifecycle: LifecycleConfig,
    as_of: date,
) -> dict[str, dict[str, object]]:
    """Per group: the current cutoffs and each candidate, with new MQLs and conversions.

    Candidates are the current shares times each configured factor, plus (searched) the
    largest factor whose new MQLs still fit the capacity. The recommendation is the fitting
    candidate with the most expected conversions, else the tightest one.
    """
    out: dict[str, dict[str, object]] = {}
    per_day = dict(
        zip(
            capacity["product_group"].to_list(),
            capacity["new_leads_per_day"].to_list(),
            strict=True,
        )
    )
    for group in sorted(prepared["product_group"].drop_nulls().unique().to_list()):
        rows = prepared.filter(pl.col("product_group") == group).lazy()
        current = _evaluate(rows, cfg, lifecycle, as_of)
        limit = float(per_day.get(group, 0.0))
        current.fits = current.new_mqls <= limit
        mine = cfg.cutoffs_for(group)
        search = _GroupSearch(
            rows=rows,
            cfg=cfg,
            lifecycle=lifecycle,
            as_of=as_of,
            group=group,
            limit=limit,
            current=current,
            base_fit=list(mine.fit) if mine.method == "share" else current.fit_shares,
            base_eng=list(mine.engagement) if mine.method == "share" else current.engagement_shares,
        )
        candidates = search.candidates(cfg.suggest.factors)
        fitting = [c for c in candidates if c.fits]
        if fitting:
            best = max(fitting, key=lambda c: (c.expected_conversions, -c.new_mqls))
        else:
            best = min(candidates, key=lambda c: (c.new_mqls, c.factor or 0.0))
        out[group] = {
            "capacity_per_day": limit,
            "current": {"method": mine.method, **asdict(current)},
            "candidates": [asdict(c) for c in candidates],
            "recommended_factor": best.factor,
            "recommended_fits": best.fits,
        }
    return out
