"""A plain pandas implementation of leadctl's engagement features, as the speed baseline.

Same features, same definitions as `leadctl.features.engagement` (base_engagement and
group_engagement) for one snapshot, which is what nightly scoring builds: every (lead, snapshot)
sees only activities strictly before the snapshot and within the lookback. Written the way a
pandas user would: boolean masks, groupby/agg, unstack and merges, default dtypes. The harness
checks that both give the same values before comparing their times.

Inputs are the canonical Parquet tables `leadctl validate` writes, plus (lead_id, account_key)
as leadctl resolves it (account matching is a fit-feature concern, so both sides are handed the
same mapping and only engagement is compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from leadctl.config.scoring import FeaturesConfig
from leadctl.features.engagement import base_names, group_names, type_slugs

DAY_US = 86_400_000_000.0


@dataclass
class PandasInputs:
    """The frames the baseline reads (canonical tables, only the columns it needs)."""

    leads: pd.DataFrame  # lead_id, created_at
    activities: pd.DataFrame  # lead_id, activity_type, occurred_at, product_group, asset_id
    opportunities: pd.DataFrame  # opportunity_id, lead_id, account_id, created_at
    stage_history: pd.DataFrame  # lead_id, product_group, stage, changed_at
    account_keys: pd.DataFrame  # lead_id, account_key


def read_inputs(canonical: Path, account_keys: Path) -> PandasInputs:
    """Read the canonical Parquet files with pandas (pyarrow engine, default dtypes)."""
    return PandasInputs(
        leads=pd.read_parquet(canonical / "leads.parquet", columns=["lead_id", "created_at"]),
        activities=pd.read_parquet(
            canonical / "activities.parquet",
            columns=["lead_id", "activity_type", "occurred_at", "product_group", "asset_id"],
        ),
        opportunities=pd.read_parquet(
            canonical / "opportunities.parquet",
            columns=["opportunity_id", "lead_id", "account_id", "created_at"],
        ),
        stage_history=pd.read_parquet(
            canonical / "stage_history.parquet",
            columns=["lead_id", "product_group", "stage", "changed_at"],
        ),
        account_keys=pd.read_parquet(account_keys, columns=["lead_id", "account_key"]),
    )


def _age_days(snapshot: pd.Timestamp, ts: pd.Series) -> pd.Series:
    return (snapshot - ts) / pd.Timedelta(microseconds=1) / DAY_US


def activity_vocabulary(
    activities: pd.DataFrame, cfg: FeaturesConfig, snapshot: pd.Timestamp
) -> list[str]:
    """The configured types, else the most frequent ones before the snapshot (ties by name)."""
    if cfg.activity_types:
        return list(dict.fromkeys(cfg.activity_types))
    counts = activities.loc[activities["occurred_at"] < snapshot, "activity_type"].value_counts()
    top = counts.reset_index().sort_values(["count", "activity_type"], ascending=[False, True])
    return sorted(top["activity_type"].head(cfg.max_activity_types).tolist())


def _weights(activity_type: pd.Series, cfg: FeaturesConfig) -> pd.Series:
    weights = {t: 0.0 for t in cfg.negative_activity_types}
    weights.update(cfg.activity_weights)
    if not weights:
        return pd.Series(1.0, index=activity_type.index)
    return activity_type.map(weights).astype("float64").fillna(1.0)


def events_at(
    activities: pd.DataFrame, snapshot: pd.Timestamp, cfg: FeaturesConfig
) -> pd.DataFrame:
    """Activities before the snapshot and within the lookback, with their age and decay weight."""
    lookback = pd.Timedelta(days=cfg.lookback_days)
    mask = (activities["occurred_at"] < snapshot) & (
        activities["occurred_at"] >= snapshot - lookback
    )
    ev = activities.loc[mask].copy()
    ev["age"] = _age_days(snapshot, ev["occurred_at"])
    ev["decayed"] = _weights(ev["activity_type"], cfg) * np.power(
        0.5, ev["age"] / cfg.half_life_days
    )
    ev["positive"] = ~ev["activity_type"].isin(cfg.negative_activity_types)
    return ev


def base_engagement(
    inputs: PandasInputs,
    ev: pd.DataFrame,
    types: list[str],
    cfg: FeaturesConfig,
    snapshot: pd.Timestamp,
) -> pd.DataFrame:
    """One row per lead: per-type counts and recency, recency, decay, assets, negatives,
    earlier opportunities, lead age and engaged colleagues."""
    maxw = max(cfg.windows_days)
    leads = inputs.leads[["lead_id"]].drop_duplicates()
    out = leads.set_index("lead_id")

    typed = ev[ev["activity_type"].isin(types)].copy()
    for w in cfg.windows_days:
        typed[f"in_{w}"] = (typed["age"] < w).astype("int64")
    per_type = (
        typed.groupby(["lead_id", "activity_type"])
        .agg(**{f"in_{w}": (f"in_{w}", "sum") for w in cfg.windows_days}, min_age=("age", "min"))
        .unstack("activity_type")
    )
    for t, s in type_slugs(types).items():
        for w in cfg.windows_days:
            col = per_type[(f"in_{w}", t)] if (f"in_{w}", t) in per_type.columns else None
            out[f"n_{s}_{w}d"] = col.reindex(out.index).fillna(0) if col is not None else 0
        col = per_type[("min_age", t)] if ("min_age", t) in per_type.columns else None
        out[f"days_since_{s}"] = np.floor(col.reindex(out.index)) if col is not None else np.nan

    by_lead = ev.groupby("lead_id")
    out["days_since_last_activity"] = np.floor(ev[ev["positive"]].groupby("lead_id")["age"].min())
    out["decayed_engagement"] = by_lead["decayed"].sum().reindex(out.index).fillna(0.0)
    recent_assets = ev[(ev["age"] < maxw) & ev["asset_id"].notna()]
    out[f"distinct_assets_{maxw}d"] = (
        recent_assets.groupby("lead_id")["asset_id"].nunique().reindex(out.index).fillna(0)
    )
    out["negative_signals"] = (
        ev[~ev["positive"]].groupby("lead_id").size().reindex(out.index).fillna(0)
    )
    out["prior_opportunities"] = _prior_opportunities(inputs, snapshot).reindex(out.index).fillna(0)
    created = inputs.leads.drop_duplicates("lead_id").set_index("lead_id")["created_at"]
    out["lead_age_days"] = np.floor(_age_days(snapshot, created.reindex(out.index))).clip(lower=0)
    if cfg.buying_group:
        out[f"colleagues_engaged_{maxw}d"] = (
            _colleagues(inputs, ev, maxw).reindex(out.index).fillna(0)
        )
    names = base_names(types, cfg)
    result = out[names].astype("float64").reset_index()
    result.insert(1, "snapshot_at", snapshot)
    return result


def _prior_opportunities(inputs: PandasInputs, snapshot: pd.Timestamp) -> pd.Series:
    """Distinct opportunities of the lead or its account created before the snapshot."""
    opps = inputs.opportunities[inputs.opportunities["created_at"] < snapshot]
    by_lead = opps.loc[opps["lead_id"].notna(), ["lead_id", "opportunity_id"]]
    acct = inputs.account_keys.dropna(subset=["account_key"])
    by_acc = acct.merge(
        opps[["account_id", "opportunity_id"]], left_on="account_key", right_on="account_id"
    )
    both = pd.concat([by_lead, by_acc[["lead_id", "opportunity_id"]]])
    return both.groupby("lead_id")["opportunity_id"].nunique()


def _colleagues(inputs: PandasInputs, ev: pd.DataFrame, maxw: int) -> pd.Series:
    """Other leads at the same account with positive activity in the largest window."""
    active_leads = ev.loc[ev["positive"] & (ev["age"] < maxw), "lead_id"].drop_duplicates()
    acct = inputs.account_keys.dropna(subset=["account_key"])
    active = acct[acct["lead_id"].isin(active_leads)]
    per_account = active.groupby("account_key").size()
    mine = inputs.account_keys.set_index("lead_id")["account_key"]
    n_active = mine.map(per_account).fillna(0)
    me = pd.Series(mine.index.isin(active["lead_id"]).astype("int64"), index=mine.index)
    return n_active - me


def group_engagement(
    inputs: PandasInputs,
    ev: pd.DataFrame,
    groups: list[str],
    cfg: FeaturesConfig,
    snapshot: pd.Timestamp,
    *,
    recycled_stage: str = "Recycled",
    disqualified_stage: str = "Disqualified",
) -> pd.DataFrame:
    """One row per lead and product group: group activity counts, decay, recency, share of the
    lead's tagged activity, and how often the lead was recycled or disqualified for the group."""
    leads = inputs.leads[["lead_id"]].drop_duplicates()
    keys = leads.merge(pd.DataFrame({"product_group": groups}), how="cross")
    tagged = ev[ev["product_group"].notna()].copy()
    for w in cfg.windows_days:
        tagged[f"in_{w}"] = (tagged["age"] < w).astype("int64")
    per_group = (
        tagged.groupby(["lead_id", "product_group"])
        .agg(
            **{f"pg_activities_{w}d": (f"in_{w}", "sum") for w in cfg.windows_days},
            pg_decayed_engagement=("decayed", "sum"),
            pg_days_since_last=("age", "min"),
            pg_all=("age", "size"),
        )
        .reset_index()
    )
    per_group["pg_days_since_last"] = np.floor(per_group["pg_days_since_last"])
    all_tagged = tagged.groupby("lead_id").size().rename("tagged_all").reset_index()

    hist = inputs.stage_history
    hist = hist[
        hist["stage"].isin([recycled_stage, disqualified_stage]) & (hist["changed_at"] < snapshot)
    ]
    by_group = hist[hist["product_group"].notna()]
    general = (
        hist[hist["product_group"].isna()]
        .drop(columns="product_group")
        .merge(pd.DataFrame({"product_group": groups}), how="cross")
    )
    rows = pd.concat([by_group, general])
    rows = rows.assign(
        times_recycled=(rows["stage"] == recycled_stage).astype("int64"),
        times_disqualified=(rows["stage"] == disqualified_stage).astype("int64"),
    )
    stages = (
        rows.groupby(["lead_id", "product_group"])[["times_recycled", "times_disqualified"]]
        .sum()
        .reset_index()
    )

    out = keys.merge(per_group, on=["lead_id", "product_group"], how="left")
    out = out.merge(all_tagged, on="lead_id", how="left")
    out = out.merge(stages, on=["lead_id", "product_group"], how="left")
    counts = [f"pg_activities_{w}d" for w in cfg.windows_days] + [
        "times_recycled",
        "times_disqualified",
    ]
    out[counts] = out[counts].fillna(0)
    out["pg_decayed_engagement"] = out["pg_decayed_engagement"].fillna(0.0)
    out["pg_share"] = out["pg_all"].fillna(0) / out["tagged_all"]
    names = group_names(cfg)
    result = out[["lead_id", "product_group", *names]].copy()
    result[names] = result[names].astype("float64")
    result.insert(2, "snapshot_at", snapshot)
    return result


def engagement_features(
    inputs: PandasInputs, groups: list[str], snapshot: datetime, cfg: FeaturesConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lead-level, group-level) engagement features for every lead at one snapshot."""
    snap = pd.Timestamp(snapshot)
    types = activity_vocabulary(inputs.activities, cfg, snap)
    ev = events_at(inputs.activities, snap, cfg)
    return base_engagement(inputs, ev, types, cfg, snap), group_engagement(
        inputs, ev, groups, cfg, snap
    )
