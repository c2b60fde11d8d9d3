"""Engagement (behaviour) features at a point in time, over the whole activity table at once.

Every (lead, snapshot) sees only activities, stage changes and opportunities strictly before the
snapshot; a few group_by aggregations build every count, recency and decayed sum together.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import numpy as np
import polars as pl

from leadctl.config.scoring import FeaturesConfig

KEYS = ["lead_id", "snapshot_at"]
# Decayed sums are added up as integers in units of 1e-9: float sums depend on the order rows
# arrive in (threads), integer sums do not, so outputs stay byte-identical run to run.
DECAY_UNIT = 1e9
GROUP_KEYS = ["lead_id", "product_group", "snapshot_at"]
_DAY_US = 86_400_000_000.0


def per(value: pl.Expr, divisor: float) -> pl.Expr:
    """`value / divisor` computed as a multiplication by the reciprocal, always.

    polars divides a column by a float constant as `x * (1 / c)`, except when the column arrives
    as a one-row chunk (streaming morsels, tiny groups), where it divides exactly: the last bit
    of a feature then depended on how the rows were split between threads. Writing the
    multiplication ourselves gives the same bits on every path (the usual path's bits).
    """
    return value * (1.0 / divisor)


def slug(text: str) -> str:
    """'Request Demo' → 'request_demo': a column-safe name for an activity type."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "type"


def activity_vocabulary(
    activities: pl.LazyFrame, cfg: FeaturesConfig, before: datetime
) -> list[str]:
    """The activity types that get their own features: the configured list, else the most
    frequent types seen before `before` (ties broken by name, so the choice is stable)."""
    if cfg.activity_types:
        return list(dict.fromkeys(cfg.activity_types))
    counts = (
        activities.filter(pl.col("occurred_at") < before)
        .group_by("activity_type")
        .agg(pl.len().alias("n"))
        .sort(["n", "activity_type"], descending=[True, False])
        .head(cfg.max_activity_types)
        .collect()
    )
    return sorted(counts["activity_type"].to_list())


def type_slugs(types: list[str]) -> dict[str, str]:
    """Activity type → unique slug (a numeric suffix separates types that slug alike)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for t in types:
        base = s = slug(t)
        k = 2
        while s in used:
            s = f"{base}_{k}"
            k += 1
        used.add(s)
        out[t] = s
    return out


def base_names(types: list[str], cfg: FeaturesConfig) -> list[str]:
    """Names of the lead-level engagement features, in a fixed order."""
    maxw = max(cfg.windows_days)
    names = []
    for s in type_slugs(types).values():
        names += [f"n_{s}_{w}d" for w in cfg.windows_days] + [f"days_since_{s}"]
    names += [
        "days_since_last_activity",
        "decayed_engagement",
        f"distinct_assets_{maxw}d",
        "negative_signals",
        "prior_opportunities",
        "lead_age_days",
    ]
    if cfg.buying_group:
        names.append(f"colleagues_engaged_{maxw}d")
    return names


def group_names(cfg: FeaturesConfig) -> list[str]:
    """Names of the product-group-specific engagement features."""
    return [f"pg_activities_{w}d" for w in cfg.windows_days] + [
        "pg_decayed_engagement",
        "pg_days_since_last",
        "pg_share",
        "times_recycled",
        "times_disqualified",
    ]


def point_in_time_events(
    activities: pl.LazyFrame, keys: pl.LazyFrame, snapshots: list[datetime], lookback_days: int
) -> pl.LazyFrame:
    """Activities each (lead, snapshot) could see: before the snapshot, within the lookback.

    One snapshot (scoring) is a plain filter; several (training) join the activities of each
    lead onto its snapshots, pre-filtered to the overall time range.
    """
    lookback = timedelta(days=lookback_days)
    acts = activities.select("lead_id", "activity_type", "occurred_at", "product_group", "asset_id")
    if len(snapshots) == 1:
        snap = snapshots[0]
        events = acts.filter(
            (pl.col("occurred_at") < snap) & (pl.col("occurred_at") >= snap - lookback)
        ).with_columns(snapshot_at=pl.lit(snap, dtype=pl.Datetime("us", "UTC")))
    else:
        events = (
            acts.filter(
                (pl.col("occurred_at") < max(snapshots))
                & (pl.col("occurred_at") >= min(snapshots) - lookback)
            )
            .join(keys.select(KEYS).unique(), on="lead_id", how="inner")
            .filter(
                (pl.col("occurred_at") < pl.col("snapshot_at"))
                & (pl.col("occurred_at") >= pl.col("snapshot_at") - lookback)
            )
        )
    return events.with_columns(
        age_days=(pl.col("snapshot_at") - pl.col("occurred_at"))
        .dt.total_microseconds()
        .pipe(per, _DAY_US),
        # Few distinct values: categoricals make the group_bys below about twice as fast.
        activity_type=pl.col("activity_type").cast(pl.Categorical),
        product_group=pl.col("product_group").cast(pl.Categorical),
    )


def _weights(cfg: FeaturesConfig) -> pl.Expr:
    """Per-event weight in the decayed engagement: configured, else 1 (negative types 0)."""
    weights = {t: 0.0 for t in cfg.negative_activity_types}
    weights.update(cfg.activity_weights)
    if not weights:
        return pl.lit(1.0)
    return pl.col("activity_type").replace_strict(weights, default=1.0, return_dtype=pl.Float64)


def decay_units(value: pl.Expr) -> pl.Expr:
    """A non-negative float as an integer count of DECAY_UNIT-ths (exact, order-free sums)."""
    return (value * DECAY_UNIT).round(0).cast(pl.Int64)


def type_summary(
    events: pl.LazyFrame,
    cfg: FeaturesConfig,
    *,
    codes: SummaryCodes | None = None,
    snapshot: datetime | None = None,
) -> pl.LazyFrame:
    """One pass over the events: per (lead, snapshot, activity type, product group) the count in
    each window, the count in the lookback, the youngest age and the decayed sum.

    Every count, recency and decayed feature (lead-level and group-level) is derived from this
    much smaller frame, so the activity table is aggregated once. With `codes` (summary_codes of
    the activities) and the one `snapshot` every event has, it groups on one packed integer key:
    same rows and values, in another order.
    """
    age = pl.col("age_days")
    aggs = [
        *[(age < w).sum().alias(f"_w{w}") for w in cfg.windows_days],
        pl.len().alias("_n"),
        age.min().alias("_min"),
        decay_units(0.5 ** per(age, cfg.half_life_days)).sum().alias("_decay"),
    ]
    if codes is None:
        grouped = events.group_by([*KEYS, "activity_type", "product_group"]).agg(*aggs)
        return grouped.with_columns(pl.col("activity_type", "product_group").cast(pl.String))
    # One snapshot, numbered leads: group on one packed integer, then unpack the key.
    key = pl.col(_PACKED)
    types, groups = codes
    return (
        events.with_columns(_packed_summary_key().alias(_PACKED))
        .group_by(_PACKED)
        .agg(*aggs)
        .select(
            (key // (1 << 32)).cast(pl.UInt32).alias("lead_id"),
            pl.lit(snapshot, dtype=pl.Datetime("us", "UTC")).alias("snapshot_at"),
            _unpack(key // (1 << 16) % (1 << 16), types).alias("activity_type"),
            _unpack(key % (1 << 16), groups).alias("product_group"),
            *[pl.col(a.meta.output_name()) for a in aggs],
        )
    )


_PACKED = "__summary_key"
# Categorical codes below this fit the packed summary key (16 bits each, one value for null).
PACK_CODE_LIMIT = 0xFFFF
SummaryCodes = tuple[dict[int, str], dict[int, str]]


def _packed_summary_key() -> pl.Expr:
    """(lead number, activity type code, product group code) as one UInt64.

    A group_by on one integer is about twice as fast as on the four key columns (the multi-key
    row encoding is what costs, not hashing). Valid only for numbered leads (u32), a single
    snapshot and categorical codes below PACK_CODE_LIMIT (see summary_codes)."""

    def code(name: str) -> pl.Expr:
        return pl.col(name).to_physical().cast(pl.UInt64).fill_null(PACK_CODE_LIMIT)

    lead = pl.col("lead_id").cast(pl.UInt64)
    return lead * (1 << 32) + code("activity_type") * (1 << 16) + code("product_group")


def _unpack(code: pl.Expr, names: dict[int, str]) -> pl.Expr:
    """A categorical code from the packed key back to its text (PACK_CODE_LIMIT: null)."""
    return code.replace_strict(names, default=None, return_dtype=pl.String)


def summary_codes(activities: pl.DataFrame) -> SummaryCodes | None:
    """code -> text of activity_type and product_group (Categorical columns), when the packed
    type_summary is exact for events of these activities: numbered (UInt32) lead ids and
    codes that fit 16 bits. None: use the plain four-key group_by."""
    if activities.schema["lead_id"] != pl.UInt32:
        return None
    out = []
    for name in ("activity_type", "product_group"):
        values = activities.select(pl.col(name).cast(pl.Categorical).unique().drop_nulls())
        frame = values.select(
            pl.col(name).to_physical().alias("code"), pl.col(name).cast(pl.String)
        )
        if frame.height and frame["code"].max() >= PACK_CODE_LIMIT:  # type: ignore[operator]
            return None
        out.append(dict(zip(frame["code"].to_list(), frame[name].to_list(), strict=True)))
    return out[0], out[1]


def distinct_assets(events: pl.LazyFrame, cfg: FeaturesConfig) -> pl.LazyFrame:
    """(lead_id, snapshot_at, distinct_assets_<maxw>d): distinct assets in the largest window."""
    maxw = max(cfg.windows_days)
    return (
        events.filter(pl.col("age_days") < maxw)
        .select(*KEYS, "asset_id")
        .drop_nulls()
        .unique()
        .group_by(KEYS)
        .agg(pl.len().alias(f"distinct_assets_{maxw}d"))
    )


def base_engagement(
    events: pl.LazyFrame,
    keys: pl.LazyFrame,
    types: list[str],
    cfg: FeaturesConfig,
    *,
    created: pl.LazyFrame,
    account_keys: pl.LazyFrame,
    opportunities: pl.LazyFrame,
    summary: pl.LazyFrame | None = None,
    active: pl.LazyFrame | None = None,
    assets: pl.LazyFrame | None = None,
    numbered: int | None = None,
    snapshot: datetime | None = None,
) -> pl.LazyFrame:
    """One row per (lead_id, snapshot_at) in keys with every lead-level engagement feature.

    `active` (see active_leads) is required when cfg.buying_group is on; `summary` and
    `assets` (type_summary, distinct_assets of `events`) may be passed precomputed.
    `numbered` (how many lead numbers there are) says lead ids are the numbers 0..numbered-1
    and every row has the one snapshot `snapshot`: the per-type columns are then scattered
    into dense arrays instead of flattened by a wide group_by (same values).
    """
    maxw = max(cfg.windows_days)
    summary = type_summary(events, cfg) if summary is None else summary
    wins = [f"_w{w}" for w in cfg.windows_days]
    by_type = summary.group_by([*KEYS, "activity_type"]).agg(
        *[pl.col(c).sum() for c in wins],
        pl.col("_n").sum(),
        pl.col("_min").min(),
        pl.col("_decay").sum(),
    )
    negative = pl.col("activity_type").is_in(cfg.negative_activity_types)
    flat: list[pl.Expr] = [
        pl.when(~negative).then(pl.col("_min")).alias("days_since_last_activity"),
        decay_units(per(_weights(cfg) * pl.col("_decay"), DECAY_UNIT)).alias("decayed_engagement"),
        pl.when(negative).then(pl.col("_n")).otherwise(0).alias("negative_signals"),
    ]
    summed = ["decayed_engagement", "negative_signals"]
    mins = ["days_since_last_activity"]
    dense = None
    if numbered is None:
        flat += _per_type_columns(types, cfg)
        summed += [n for n in base_names(types, cfg) if n.startswith("n_")]
        mins += [n for n in base_names(types, cfg) if n.startswith("days_since_") and n not in mins]
    else:
        dense = _dense_per_type(summary.collect(), types, cfg, numbered, snapshot)
    per_lead = (
        by_type.select(*KEYS, *flat)
        .group_by(KEYS)
        .agg(*[pl.col(c).sum() for c in summed], *[pl.col(c).min().floor() for c in mins])
    )
    if dense is not None:
        per_lead = per_lead.join(dense, on=KEYS, how="left")
    assets = distinct_assets(events, cfg) if assets is None else assets
    counts = [n for n in base_names(types, cfg) if n.startswith(("n_", "distinct_", "negative_"))]
    out = (
        keys.select(KEYS)
        .unique()
        .join(per_lead, on=KEYS, how="left")
        .join(assets, on=KEYS, how="left")
        .with_columns(
            pl.col(counts).fill_null(0),
            per(pl.col("decayed_engagement").fill_null(0), DECAY_UNIT).alias("decayed_engagement"),
        )
        .join(created, on="lead_id", how="left")
        .with_columns(
            lead_age_days=(
                (pl.col("snapshot_at") - pl.col("created_at"))
                .dt.total_microseconds()
                .pipe(per, _DAY_US)
            )
            .floor()
            .clip(lower_bound=0)
        )
        .drop("created_at")
    )
    out = out.join(
        _prior_opportunities(keys, account_keys, opportunities), on=KEYS, how="left"
    ).with_columns(pl.col("prior_opportunities").fill_null(0))
    if cfg.buying_group:
        if active is None:
            raise ValueError(
                "base_engagement needs `active` (active_leads) when buying_group is on"
            )
        out = out.join(
            _colleagues(active, keys, account_keys, cfg), on=KEYS, how="left"
        ).with_columns(pl.col(f"colleagues_engaged_{maxw}d").fill_null(0))
    names = base_names(types, cfg)
    return out.select(*KEYS, *[pl.col(n).cast(pl.Float64) for n in names])


def _per_type_columns(types: list[str], cfg: FeaturesConfig) -> list[pl.Expr]:
    """Per (lead, type) row of by_type: its window counts and recency under the type's own
    column names (0 / null under the other types'), to be summed / min'ed per lead."""
    out: list[pl.Expr] = []
    for t, s in type_slugs(types).items():
        is_t = pl.col("activity_type") == t
        out += [
            pl.when(is_t).then(pl.col(f"_w{w}")).otherwise(0).alias(f"n_{s}_{w}d")
            for w in cfg.windows_days
        ]
        out.append(pl.when(is_t).then(pl.col("_min")).alias(f"days_since_{s}"))
    return out


def _dense_per_type(
    summary: pl.DataFrame,
    types: list[str],
    cfg: FeaturesConfig,
    numbered: int,
    snapshot: datetime | None,
) -> pl.LazyFrame:
    """The per-type columns of _per_type_columns, summed / min'ed per lead, for numbered leads
    at one snapshot: each is a bincount (window counts) or minimum (recency) of that type's
    summary rows into an array indexed by lead number, instead of a 47-column when/then +
    group_by (~1-1.5 CPU s less at 1 M leads, numpy included). Counts are exact (integers
    far below 2**53); leads without a row get 0 counts and null recency, as the flattened
    frame's left join + fill_null gives them."""
    slugs = type_slugs(types)
    n_types = len(slugs)
    code = pl.col("activity_type").replace_strict(
        {t: i for i, t in enumerate(slugs)}, default=None, return_dtype=pl.Int64
    )
    # One flat cell per (type, lead): type-major, so each type's column is a contiguous slice.
    known = summary.select(
        cell=code * numbered + pl.col("lead_id"),
        age=pl.col("_min"),
        **{f"w{w}": pl.col(f"_w{w}").cast(pl.Float64) for w in cfg.windows_days},
    ).drop_nulls("cell")
    cells = known["cell"].to_numpy()
    size = n_types * numbered
    counts = {
        w: np.bincount(cells, known[f"w{w}"].to_numpy(), minlength=size) for w in cfg.windows_days
    }
    recency = np.full(size, np.inf)
    np.minimum.at(recency, cells, known["age"].to_numpy())
    recency = np.floor(recency)
    recency[np.isinf(recency)] = np.nan
    columns = [pl.Series("lead_id", np.arange(numbered), dtype=pl.UInt32)]
    for i, s in enumerate(slugs.values()):
        part = slice(i * numbered, (i + 1) * numbered)
        columns += [pl.Series(f"n_{s}_{w}d", counts[w][part]) for w in cfg.windows_days]
        columns.append(pl.Series(f"days_since_{s}", recency[part], nan_to_null=True))
    stamp = pl.lit(snapshot, dtype=pl.Datetime("us", "UTC")).alias("snapshot_at")
    return pl.DataFrame(columns).lazy().with_columns(stamp)


def _prior_opportunities(
    keys: pl.LazyFrame, account_keys: pl.LazyFrame, opportunities: pl.LazyFrame
) -> pl.LazyFrame:
    """Opportunities (any group) of the lead or its account created before the snapshot."""
    k = (
        keys.select(KEYS)
        .unique()
        .join(account_keys.select("lead_id", "account_key"), on="lead_id", how="left")
    )
    # Ids numbered (equal ids, equal numbers; null stays null), so the per-lead n_unique below
    # counts integers, not strings: the same count, cheaper on the account fan-out.
    opps = opportunities.select(
        pl.col("opportunity_id").rank("dense"), "lead_id", "account_id", "created_at"
    )
    by_lead = k.join(opps.filter(pl.col("lead_id").is_not_null()).drop("account_id"), on="lead_id")
    by_acc = k.filter(pl.col("account_key").is_not_null()).join(
        opps.drop("lead_id"), left_on="account_key", right_on="account_id"
    )
    cols = [*KEYS, "opportunity_id", "created_at"]
    both = pl.concat([by_lead.select(cols), by_acc.select(cols)])
    return (
        both.filter(pl.col("created_at") < pl.col("snapshot_at"))
        .group_by(KEYS)
        .agg(pl.col("opportunity_id").n_unique().alias("prior_opportunities"))
    )


def active_leads(
    activities: pl.LazyFrame,
    snapshots: list[datetime],
    cfg: FeaturesConfig,
    among: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """(lead_id, snapshot_at): every lead with positive activity in the largest window before a
    snapshot. Over all leads, not just the examples, so training counts colleagues the way
    scoring does (leads already in sales, or sampled out, still count as colleagues).
    `among` (lead_id) limits the search to the leads whose activity can matter.
    """
    span = timedelta(days=max(cfg.windows_days))
    acts = activities.filter(~pl.col("activity_type").is_in(cfg.negative_activity_types)).select(
        "lead_id", "occurred_at"
    )
    if among is not None:
        acts = acts.join(among, on="lead_id", how="semi")
    if len(snapshots) == 1:
        snap = snapshots[0]
        found = acts.filter(
            (pl.col("occurred_at") < snap) & (pl.col("occurred_at") >= snap - span)
        ).with_columns(snapshot_at=pl.lit(snap, dtype=pl.Datetime("us", "UTC")))
    else:
        snaps = pl.DataFrame(
            {"snapshot_at": sorted(snapshots)}, schema={"snapshot_at": pl.Datetime("us", "UTC")}
        ).lazy()
        found = acts.filter(
            (pl.col("occurred_at") < max(snapshots))
            & (pl.col("occurred_at") >= min(snapshots) - span)
        ).join_where(
            snaps,
            pl.col("occurred_at") < pl.col("snapshot_at"),
            pl.col("occurred_at") >= pl.col("snapshot_at") - span,
        )
    return found.select(KEYS).unique()


def _colleagues(
    active_leads: pl.LazyFrame,
    keys: pl.LazyFrame,
    account_keys: pl.LazyFrame,
    cfg: FeaturesConfig,
) -> pl.LazyFrame:
    """Other leads at the same account with positive activity in the largest window."""
    maxw = max(cfg.windows_days)
    active = active_leads.join(
        account_keys.select("lead_id", "account_key"), on="lead_id", how="inner"
    ).filter(pl.col("account_key").is_not_null())
    per_account = active.group_by(["account_key", "snapshot_at"]).agg(pl.len().alias("n_active"))
    return (
        keys.select(KEYS)
        .unique()
        .join(account_keys.select("lead_id", "account_key"), on="lead_id", how="left")
        .join(per_account, on=["account_key", "snapshot_at"], how="left")
        .join(active.select(KEYS).with_columns(me=pl.lit(1)), on=KEYS, how="left")
        .select(
            *KEYS,
            (pl.col("n_active").fill_null(0) - pl.col("me").fill_null(0)).alias(
                f"colleagues_engaged_{maxw}d"
            ),
        )
    )


def group_engagement(
    events: pl.LazyFrame,
    keys: pl.LazyFrame,
    cfg: FeaturesConfig,
    *,
    stage_history: pl.LazyFrame,
    recycled_stage: str,
    disqualified_stage: str,
    summary: pl.LazyFrame | None = None,
    numbered: int | None = None,
    snapshot: datetime | None = None,
) -> pl.LazyFrame:
    """One row per (lead_id, product_group, snapshot_at) in keys: group-specific behaviour.

    `numbered`, `snapshot`: as in base_engagement (lead numbers, one snapshot); every join and
    group_by then runs on one integer key per (lead, group) instead of three columns."""
    summary = type_summary(events, cfg) if summary is None else summary
    if numbered is not None:
        return _group_engagement_numbered(
            summary,
            keys,
            cfg,
            stage_history=stage_history,
            stages=(recycled_stage, disqualified_stage),
            numbered=numbered,
            snapshot=snapshot,
        )
    tagged = summary.filter(pl.col("product_group").is_not_null())
    per_group = tagged.group_by(GROUP_KEYS).agg(*_group_aggs(cfg))
    all_tagged = tagged.group_by(KEYS).agg(pl.col("_n").sum().alias("_tagged_all"))
    k = keys.select(GROUP_KEYS).unique()
    hist = stage_history.select("lead_id", "product_group", "stage", "changed_at").filter(
        pl.col("stage").is_in([recycled_stage, disqualified_stage])
    )
    hist_general = hist.filter(pl.col("product_group").is_null()).drop("product_group")
    hist_by_group = hist.filter(pl.col("product_group").is_not_null())
    cols = [*GROUP_KEYS, "stage", "changed_at"]
    stage_rows = pl.concat(
        [
            k.join(hist_by_group, on=["lead_id", "product_group"]).select(cols),
            k.join(hist_general, on="lead_id").select(cols),
        ]
    )
    stages = (
        stage_rows.filter(pl.col("changed_at") < pl.col("snapshot_at"))
        .group_by(GROUP_KEYS)
        .agg(
            (pl.col("stage") == recycled_stage).sum().alias("times_recycled"),
            (pl.col("stage") == disqualified_stage).sum().alias("times_disqualified"),
        )
    )
    counts = [f"pg_activities_{w}d" for w in cfg.windows_days] + [
        "times_recycled",
        "times_disqualified",
    ]
    out = (
        k.join(per_group, on=GROUP_KEYS, how="left")
        .join(all_tagged, on=KEYS, how="left")
        .join(stages, on=GROUP_KEYS, how="left")
        .with_columns(
            pl.col(counts).fill_null(0),
            per(pl.col("pg_decayed_engagement").fill_null(0), DECAY_UNIT).alias(
                "pg_decayed_engagement"
            ),
            pg_share=pl.col("_pg_all").fill_null(0) / pl.col("_tagged_all"),
        )
    )
    return out.select(*GROUP_KEYS, *[pl.col(n).cast(pl.Float64) for n in group_names(cfg)])


def _group_aggs(cfg: FeaturesConfig) -> list[pl.Expr]:
    """Per (lead, group): window counts, decayed units, recency and all tagged events."""
    return [
        *[pl.col(f"_w{w}").sum().alias(f"pg_activities_{w}d") for w in cfg.windows_days],
        decay_units(per(_weights(cfg) * pl.col("_decay"), DECAY_UNIT))
        .sum()
        .alias("pg_decayed_engagement"),
        pl.col("_min").min().floor().alias("pg_days_since_last"),
        pl.col("_n").sum().alias("_pg_all"),
    ]


_CELL = "__cell"


def _group_engagement_numbered(
    summary: pl.LazyFrame,
    keys: pl.LazyFrame,
    cfg: FeaturesConfig,
    *,
    stage_history: pl.LazyFrame,
    stages: tuple[str, str],
    numbered: int,
    snapshot: datetime | None,
) -> pl.LazyFrame:
    """group_engagement for numbered leads at one snapshot: (lead, group) is one UInt64 cell
    (group index x numbered + lead number), so the group_bys and the 3 M-row joins onto the
    keys run on one integer instead of (lead, group text, snapshot). Same aggregations and
    final expressions as the general plan, so the same values; rows come sorted by
    (product_group, lead_id)."""
    groups = keys.select(pl.col("product_group").unique().sort()).collect().to_series()
    index = {g: i for i, g in enumerate(groups.drop_nulls().to_list())}

    def cell() -> pl.Expr:
        code = pl.col("product_group").replace_strict(index, default=None, return_dtype=pl.UInt64)
        return (code * numbered + pl.col("lead_id").cast(pl.UInt64)).alias(_CELL)

    tagged = summary.filter(pl.col("product_group").is_not_null())
    per_group = tagged.select(cell(), *_summary_columns(cfg)).group_by(_CELL).agg(*_group_aggs(cfg))
    all_tagged = tagged.group_by("lead_id").agg(pl.col("_n").sum().alias("_tagged_all"))
    recycled, disqualified = stages
    hist = stage_history.filter(
        pl.col("stage").is_in([recycled, disqualified]) & (pl.col("changed_at") < snapshot)
    )
    counts = [
        (pl.col("stage") == recycled).sum().alias("_recycled"),
        (pl.col("stage") == disqualified).sum().alias("_disqualified"),
    ]
    # A stage change without a group counts for every group of the lead.
    by_group = hist.filter(pl.col("product_group").is_not_null()).select(cell(), "stage")
    by_group = by_group.drop_nulls(_CELL).group_by(_CELL).agg(counts)
    general = hist.filter(pl.col("product_group").is_null()).group_by("lead_id").agg(counts)
    window_counts = [f"pg_activities_{w}d" for w in cfg.windows_days]
    # The cell identifies the key (one snapshot); sorted on it, rows come in the
    # (product_group, lead_id) order the caller wants (groups are numbered in name order).
    k = keys.select(GROUP_KEYS).with_columns(cell()).unique(_CELL).sort(_CELL)
    out = (
        k.join(per_group, on=_CELL, how="left", maintain_order="left")
        .join(all_tagged, on="lead_id", how="left", maintain_order="left")
        .join(by_group, on=_CELL, how="left", maintain_order="left")
        .join(general, on="lead_id", how="left", suffix="_general", maintain_order="left")
        .with_columns(
            pl.col(window_counts).fill_null(0),
            times_recycled=pl.col("_recycled").fill_null(0)
            + pl.col("_recycled_general").fill_null(0),
            times_disqualified=pl.col("_disqualified").fill_null(0)
            + pl.col("_disqualified_general").fill_null(0),
            pg_decayed_engagement=per(pl.col("pg_decayed_engagement").fill_null(0), DECAY_UNIT),
            pg_share=pl.col("_pg_all").fill_null(0) / pl.col("_tagged_all"),
        )
    )
    return out.select(*GROUP_KEYS, *[pl.col(n).cast(pl.Float64) for n in group_names(cfg)])


def _summary_columns(cfg: FeaturesConfig) -> list[str]:
    """The aggregate columns of type_summary (with activity_type, which weights read)."""
    return ["activity_type", *[f"_w{w}" for w in cfg.windows_days], "_n", "_min", "_decay"]
