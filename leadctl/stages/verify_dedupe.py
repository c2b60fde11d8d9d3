"""Duplicate people among the leads that enter verify, and which record survives.

Two rows of the same product group are the same person when they share a normalised e-mail
(role addresses such as info@ excluded: different people share them), or a folded full name
plus the same matched account or the same company key. Sharing is transitive: A~B and B~C put
A, B and C in one group. The survivor of a group is the first lead in `dedupe.survivor_order`
(default: most recent activity, then most complete record, then earliest created, then lowest
lead_id); every other row fails with check `duplicate` and `duplicate_of` = the survivor's id.
"""

from __future__ import annotations

import polars as pl

from leadctl.config.verify import DedupeConfig

# Fields counted for "most complete": what a rep uses to work a lead.
COMPLETENESS_FIELDS = [
    "email_normalized",
    "phone_e164",
    "country_code",
    "state_code",
    "company_clean",
    "title_clean",
    "first_clean",
    "last_clean",
    "matched_account_id",
]

_ORDER = {
    # column, descending, nulls last
    "last_activity": ("last_activity", True),
    "completeness": ("completeness", True),
    "created_at": ("created_at", False),
    "lead_id": ("lead_id", False),
}


def survivor_rank(people: pl.DataFrame, cfg: DedupeConfig) -> pl.DataFrame:
    """One row per lead with `_rank`: 0 is the lead that survives any group it belongs to."""
    present = [f for f in COMPLETENESS_FIELDS if f in people.columns]
    ranked = people.select(
        "lead_id",
        "last_activity",
        "created_at",
        pl.sum_horizontal([pl.col(f).is_not_null().cast(pl.Int32) for f in present]).alias(
            "completeness"
        ),
    )
    cols = [_ORDER[k][0] for k in cfg.survivor_order]
    desc = [_ORDER[k][1] for k in cfg.survivor_order]
    return (
        ranked.sort(cols, descending=desc, nulls_last=True)
        .with_row_index("_rank")
        .select("lead_id", pl.col("_rank").cast(pl.Int64))
    )


def find_duplicates(rows: pl.DataFrame, people: pl.DataFrame, cfg: DedupeConfig) -> pl.DataFrame:
    """`duplicate_of` (null for survivors and singletons) per (lead_id, product_group).

    `rows` has lead_id, product_group and the key columns `dup_email`, `dup_name_account`,
    `dup_name_company` (null = no key); `people` one row per lead with the survivor-order
    columns. Groups are found by propagating the smallest rank along shared keys until stable:
    a loop over rounds (a handful), each a vectorised window min.
    """
    keys = []
    if cfg.by_email:
        keys.append("dup_email")
    if cfg.by_name_and_company:
        keys += ["dup_name_account", "dup_name_company"]
    ranks = survivor_rank(people, cfg)
    frame = rows.select("lead_id", "product_group", *keys).join(ranks, on="lead_id", how="left")
    frame = frame.with_columns(pl.col("_rank").alias("_label"))
    if keys:
        while True:
            before = frame["_label"]
            for key in keys:
                frame = frame.with_columns(
                    pl.when(pl.col(key).is_not_null())
                    .then(pl.col("_label").min().over("product_group", key))
                    .otherwise(pl.col("_label"))
                    .alias("_label")
                )
            if frame["_label"].equals(before):
                break
    survivors = frame.select(
        "product_group", pl.col("_rank").alias("_label"), pl.col("lead_id").alias("_survivor")
    )
    return (
        frame.join(survivors, on=["product_group", "_label"], how="left")
        .select(
            "lead_id",
            "product_group",
            pl.when(pl.col("_label") != pl.col("_rank"))
            .then(pl.col("_survivor"))
            .otherwise(None)
            .alias("duplicate_of"),
        )
        .sort("lead_id", "product_group")
    )
