"""Assemble the feature frames for a set of (lead, product group, snapshot) keys.

Two lazy frames: `base` (one row per lead and snapshot: fit, lead-level engagement and custom
features) and `per_group` (one row per lead, group and snapshot: group-specific behaviour), so
scoring several groups does not copy the wide lead-level part once per group.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import polars as pl

from leadctl.config.scoring import FeaturesConfig
from leadctl.errors import ConfigError
from leadctl.features import engagement as E
from leadctl.features.fit import FIT_FEATURES, account_keys, fit_frame
from leadctl.features.snapshots import Tables

_MONEY_CHARS = r"[\s,$€£¥]"


@dataclass
class FeatureFrames:
    base: pl.LazyFrame  # lead_id, snapshot_at, account_key, title, features ...
    per_group: pl.LazyFrame  # lead_id, product_group, snapshot_at, group features ...
    # base sorted by (lead_id, snapshot_at), per_group by (product_group, lead_id, snapshot_at)
    ordered: bool = False

    def for_group(self, group: str) -> pl.LazyFrame:
        """Rows of one product group with every feature column (base + group-specific)."""
        pg = self.per_group.filter(pl.col("product_group") == group)
        return pg.join(self.base, on=E.KEYS, how="left").sort(["lead_id", "snapshot_at"])


def missing_custom_columns(leads_schema: pl.Schema, cfg: FeaturesConfig) -> list[str]:
    """Custom feature columns the leads table does not have."""
    return [c.column for c in cfg.custom if c.column not in leads_schema]


def check_custom(leads_schema: pl.Schema, cfg: FeaturesConfig) -> None:
    """Custom features must name existing leads columns and not clash with built-in names."""
    builtin = {n for n, _, _ in FIT_FEATURES} | {
        "lead_id",
        "snapshot_at",
        "product_group",
        "title",
        "account_key",
        "label",
    }
    clash = [
        c.column for c in cfg.custom if c.column in builtin or c.column.startswith(("n_", "pg_"))
    ]
    if clash:
        raise ConfigError(
            f"train.features.custom: {clash} clash with built-in feature names; map the export "
            "column to another name under inputs.tables.leads.extra_columns"
        )
    missing = missing_custom_columns(leads_schema, cfg)
    if missing:
        raise ConfigError(
            f"train.features.custom names {missing}, which the leads table does not have; declare "
            "them under inputs.tables.leads.extra_columns (name: ExportHeader)"
        )


def _custom_expr(name: str, kind: str, dtype: pl.DataType) -> pl.Expr:
    """A custom column as a feature: numbers from numeric or '1,200 $'-like text; else tidy text."""
    col = pl.col(f"__custom_{name}")
    if kind == "numeric":
        if dtype.is_numeric() or dtype == pl.Boolean:
            return col.cast(pl.Float64).alias(name)
        return (
            col.cast(pl.String)
            .str.replace_all(_MONEY_CHARS, "")
            .cast(pl.Float64, strict=False)
            .alias(name)
        )
    text = col.cast(pl.String).str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text).alias(name)


def _active(
    tables: Tables,
    acct: pl.LazyFrame,
    lead_keys: pl.LazyFrame,
    snapshots: list[datetime],
    cfg: FeaturesConfig,
) -> pl.LazyFrame:
    """Active leads for the buying-group count. With several snapshots (training) only the
    colleagues of the example leads are searched, so a sample does not scan everybody."""
    if len(snapshots) == 1:
        return E.active_leads(tables.activities, snapshots, cfg)
    accounts = (
        acct.join(lead_keys.select("lead_id").unique(), on="lead_id", how="semi")
        .select("account_key")
        .drop_nulls()
        .unique()
    )
    colleagues = acct.join(accounts, on="account_key", how="semi").select("lead_id")
    return E.active_leads(tables.activities, snapshots, cfg, among=colleagues)


_IDX = "__lead_idx"
_ID = "__lead_id"


def lead_index(leads: pl.LazyFrame, keys: pl.LazyFrame) -> pl.DataFrame:
    """(lead_id, __lead_idx): every lead id of the leads table and the keys, sorted, numbered
    0, 1, ... (UInt32). Numbers sort like the ids, so a frame sorted by number is sorted by id."""
    return (
        pl.concat([leads.select("lead_id"), keys.select("lead_id")])
        .unique()
        .drop_nulls()
        .sort("lead_id")
        .with_row_index(_IDX)
        .collect()
    )


def encode_ids(
    frame: pl.LazyFrame, index: pl.DataFrame, *, keep_unknown: bool = False
) -> pl.LazyFrame:
    """`frame` with lead_id replaced by its number from lead_index. Rows of leads the index
    does not know are dropped (they match no key), or with keep_unknown kept with a null id."""
    return (
        frame.join(index.lazy(), on="lead_id", how="left" if keep_unknown else "inner")
        .with_columns(pl.col(_IDX).alias("lead_id"))
        .drop(_IDX)
    )


def decode_ids(frame: pl.LazyFrame, index: pl.DataFrame) -> pl.LazyFrame:
    """Inverse of encode_ids: the numbered lead_id back to the id string (same row order)."""
    ids = index.lazy().rename({"lead_id": _ID})
    return (
        frame.join(ids, left_on="lead_id", right_on=_IDX, how="left", maintain_order="left")
        .with_columns(pl.col(_ID).alias("lead_id"))
        .drop(_ID)
    )


def _encoded(
    tables: Tables,
    keys: pl.LazyFrame,
    index: pl.DataFrame,
    snapshots: list[datetime],
    cfg: FeaturesConfig,
) -> tuple[Tables, pl.LazyFrame]:
    """The tables and keys with numbered lead ids. The activities some snapshot can see are
    numbered and materialised once (summary, distinct assets and active leads all read them)."""
    span = timedelta(days=max(cfg.lookback_days, *cfg.windows_days))
    seen = (
        tables.activities.select(
            "lead_id", "activity_type", "occurred_at", "product_group", "asset_id"
        )
        .filter(
            (pl.col("occurred_at") < max(snapshots))
            & (pl.col("occurred_at") >= min(snapshots) - span)
        )
        .with_columns(pl.col("activity_type", "product_group").cast(pl.Categorical))
    )
    activities = encode_ids(seen, index).collect(engine="streaming").lazy()
    encoded = replace(
        tables,
        leads=encode_ids(tables.leads, index),
        activities=activities,
        opportunities=encode_ids(tables.opportunities, index, keep_unknown=True),
        stage_history=encode_ids(tables.stage_history, index),
    )
    # Read by several joins: collected once (a few small columns per key).
    return encoded, encode_ids(keys, index).collect().lazy()


def _empty(frame: pl.LazyFrame) -> pl.LazyFrame:
    """No rows, same schema, and no reference to the data `frame` was built from."""
    return pl.DataFrame(schema=frame.collect_schema()).lazy()


def build_features(
    tables: Tables,
    keys: pl.LazyFrame,
    snapshots: list[datetime],
    types: list[str],
    cfg: FeaturesConfig,
    *,
    recycled_stage: str = "Recycled",
    disqualified_stage: str = "Disqualified",
    integer_keys: bool | None = None,
) -> FeatureFrames:
    """Features for `keys` (lead_id, product_group, snapshot_at), using only data before each
    snapshot. `types` is the activity vocabulary (from training, stored in the card).

    With `integer_keys` (default: for one snapshot, i.e. scoring every lead) lead ids are
    numbered first, every join and group_by runs on the numbers (smaller hash tables, and the
    activities are read once), and the frames come back sorted (`ordered`); same values as the
    string-keyed build. Training keeps the string keys: its activities span every snapshot."""
    leads_schema = tables.leads.collect_schema()
    check_custom(leads_schema, cfg)
    encode = len(snapshots) == 1 if integer_keys is None else integer_keys
    if encode:
        index = lead_index(tables.leads, keys)
        tables, keys = _encoded(tables, keys, index, snapshots, cfg)
    lead_keys = keys.select(E.KEYS).unique()
    if encode:
        # Read by the base plan and several engagement joins: made unique once (1 M of 3 M keys).
        lead_keys = lead_keys.collect().lazy()
    # Small (one row per lead) and read by several joins below: collected once.
    acct = account_keys(tables.leads, tables.accounts).collect().lazy()
    fit = fit_frame(tables.leads, tables.accounts, cfg, acct)
    events = E.point_in_time_events(tables.activities, lead_keys, snapshots, cfg.lookback_days)
    # Materialised once: the lead-level and the group-level features both read it, and it is
    # several times smaller than the activity table it summarises.
    codes = None
    if encode and len(snapshots) == 1:
        codes = E.summary_codes(tables.activities.collect())
    summary = E.type_summary(events, cfg, codes=codes, snapshot=snapshots[0])
    summary = summary.collect(engine="streaming").lazy()
    active = _active(tables, acct, lead_keys, snapshots, cfg) if cfg.buying_group else None
    assets = None
    if encode:
        # Everything that reads the materialised activities, collected now, so they are freed
        # before the (larger) feature frames are built.
        assets = E.distinct_assets(events, cfg).collect(engine="streaming").lazy()
        if active is not None:
            active = active.collect(engine="streaming").lazy()
        tables = replace(tables, activities=_empty(tables.activities))
        events = _empty(events)
    engagement = E.base_engagement(
        events,
        lead_keys,
        types,
        cfg,
        created=tables.leads.select("lead_id", "created_at"),
        account_keys=acct,
        opportunities=tables.opportunities,
        summary=summary,
        active=active,
        assets=assets,
        numbered=index.height if codes is not None else None,
        snapshot=snapshots[0],
    )
    custom = [_custom_expr(c.column, c.kind, leads_schema[c.column]) for c in cfg.custom]
    fit_names = [n for n, _, _ in FIT_FEATURES if n not in cfg.exclude]
    base = (
        lead_keys.join(fit, on="lead_id", how="left")
        .with_columns(custom)
        .join(engagement, on=E.KEYS, how="left")
        .select(
            *E.KEYS,
            "account_key",
            "title",
            *fit_names,
            *[c.column for c in cfg.custom],
            *[n for n in E.base_names(types, cfg) if n not in cfg.exclude],
        )
    )
    per_group = E.group_engagement(
        events,
        keys,
        cfg,
        stage_history=tables.stage_history,
        recycled_stage=recycled_stage,
        disqualified_stage=disqualified_stage,
        summary=summary,
        numbered=index.height if codes is not None else None,
        snapshot=snapshots[0],
    ).select(*E.GROUP_KEYS, *[n for n in E.group_names(cfg) if n not in cfg.exclude])
    if encode:
        # Sorted on the numbers (cheap), which sort like the ids; decoding keeps the order.
        # One snapshot: the lead number alone orders the rows (a one-column sort).
        base = decode_ids(base.sort(E.KEYS if codes is None else "lead_id"), index)
        if codes is None:  # the numbered group plan comes sorted already
            per_group = per_group.sort(["product_group", *E.KEYS])
        per_group = decode_ids(per_group, index)
    return FeatureFrames(base=base, per_group=per_group, ordered=encode)
