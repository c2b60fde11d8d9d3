"""Score many leads in partitions: contiguous lead_id ranges, one after another.

Each partition's features are built, predicted, written to a temporary Parquet part and dropped
before the next, so memory follows `score.partition_leads`, not the number of leads. The
result is the one-pass result row for row:

- every score of a lead depends only on that lead's features, and those only on the lead's
  own rows, except the buying-group count (`colleagues_engaged_*`). For it each partition also
  gets its leads' active colleagues outside the range: their lead rows (for the account they
  belong to) and one stand-in activity each (inside the window, not a negative type), which is
  all `active_leads` asks of a colleague. Their own features are built and dropped with the
  partition (they are not keys);
- reason codes go to the top `reasons.max_leads` leads per group over all partitions: each
  partition keeps its own top candidates (a global top lead is always in its partition's top),
  and TreeSHAP runs once at the end on the global selection;
- mean score, PSI and counts are computed on the whole group's scores, in lead order;
- ranges are contiguous in lead_id order, so the parts concatenated are sorted by
  (lead_id, product_group) like the one-pass frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from leadctl.config.scoring import FeaturesConfig, PointsModelConfig, ScoreConfig
from leadctl.features import engagement as E
from leadctl.features.fit import account_keys
from leadctl.features.snapshots import UTC_DT, Tables, cutoff
from leadctl.features.spec import Feature
from leadctl.io.parquet_append import write_parquet_stream
from leadctl.io.parts import parts_dir
from leadctl.models import points as P
from leadctl.models.store import LoadedModel
from leadctl.stages import score as S
from leadctl.stages.lead_ranges import cut_ranges

log = logging.getLogger("leadctl.score")

# The stand-in activity of a colleague outside the partition (never a key, never a feature).
_STAND_IN = "(colleague outside the partition)"
_ACTIVITY_COLUMNS = ["lead_id", "activity_type", "occurred_at", "product_group", "asset_id"]


def partition_bounds(leads: pl.LazyFrame, size: int) -> list[tuple[str, str]] | None:
    """(first, last) lead_id of each range of at most `size` distinct leads, in order; None
    when the leads fit in one (or have null ids, which only the one-pass path keeps)."""
    if leads.select(pl.len()).collect().item() <= size:
        return None  # no more distinct ids than rows (read from the Parquet footer)
    ids = leads.select("lead_id").unique().sort("lead_id", nulls_last=True).collect()["lead_id"]
    return cut_ranges(ids, size)


@dataclass
class Colleagues:
    """Every lead with an account, and those active in the buying-group window."""

    accounts: pl.DataFrame  # lead_id, account_key (non-null)
    active: pl.DataFrame  # lead_id, account_key of the active ones


def colleagues(tables: Tables, as_of: date, features: FeaturesConfig) -> Colleagues | None:
    if not features.buying_group:
        return None
    acct = (
        account_keys(tables.leads, tables.accounts)
        .select("lead_id", "account_key")
        .filter(pl.col("account_key").is_not_null())
        .collect(engine="streaming")
    )
    active = (
        E.active_leads(tables.activities, [cutoff(as_of)], features)
        .select("lead_id")
        .unique()
        .collect(engine="streaming")
    )
    return Colleagues(acct, acct.join(active, on="lead_id", how="semi"))


def _in(bounds: tuple[str, str]) -> pl.Expr:
    return pl.col("lead_id").is_between(pl.lit(bounds[0]), pl.lit(bounds[1]), closed="both")


def partition_tables(
    tables: Tables,
    bounds: tuple[str, str],
    known: Colleagues | None,
    as_of: date,
    features: FeaturesConfig,
) -> tuple[Tables, pl.LazyFrame, pl.LazyFrame]:
    """(tables for the partition, its leads, its own activities)."""
    inside = _in(bounds)
    leads = tables.leads.filter(inside)
    own = tables.activities.select(_ACTIVITY_COLUMNS).filter(inside)
    if known is None:
        return replace(tables, leads=leads, activities=own), leads.select("lead_id"), own
    accounts = known.accounts.filter(inside).select("account_key").unique()
    outside = known.active.filter(~_in(bounds)).join(accounts, on="account_key", how="semi")[
        "lead_id"
    ]
    stand_in = _STAND_IN
    while stand_in in features.negative_activity_types:
        stand_in += "_"
    schema = own.collect_schema()
    stand_ins = pl.DataFrame({"lead_id": outside}).select(
        pl.col("lead_id").cast(schema["lead_id"]),
        pl.lit(stand_in).cast(schema["activity_type"]).alias("activity_type"),
        # Just before the snapshot: inside every window and the lookback.
        pl.lit(cutoff(as_of) - timedelta(microseconds=1), dtype=UTC_DT)
        .cast(schema["occurred_at"])
        .alias("occurred_at"),
        pl.lit(None, dtype=schema["product_group"]).alias("product_group"),
        pl.lit(None, dtype=schema["asset_id"]).alias("asset_id"),
    )
    with_colleagues = pl.concat(
        [
            leads,
            tables.leads.join(pl.DataFrame({"lead_id": outside}).lazy(), on="lead_id", how="semi"),
        ]
    )
    activities = pl.concat([own, stand_ins.lazy()])
    return (
        replace(tables, leads=with_colleagues, activities=activities),
        leads.select("lead_id"),
        own,
    )


@dataclass
class _Group:
    """One group's results over the partitions so far."""

    kind: str
    version: str
    scores: list[np.ndarray] = field(default_factory=list)  # rounded, as written
    propensity: list[np.ndarray] = field(default_factory=list)  # unrounded (PSI)
    candidates: list[pl.DataFrame] = field(default_factory=list)  # rows that may get reasons
    rank: list[np.ndarray] = field(default_factory=list)  # what they are ranked on


@dataclass
class PartitionedScores:
    groups: dict[str, dict[str, Any]]
    leads: int
    rows: int


_EMPTY = pl.lit([], dtype=pl.List(pl.String))


def _score_partition(
    data: S.Scorable,
    groups: list[str],
    models: dict[str, LoadedModel],
    points: dict[str, PointsModelConfig | None],
    cfg: ScoreConfig,
    features: FeaturesConfig,
    acc: dict[str, _Group],
) -> pl.DataFrame:
    """The partition's score rows (no reasons yet); candidates and stats go to `acc`."""
    typed = []
    for group in groups:
        frame = S._group_frame(data, group)
        none = pl.DataFrame({"_": np.zeros(frame.height, dtype=np.int8)}).with_columns(
            reasons_for=_EMPTY, reasons_against=_EMPTY
        )
        rf, ra = none["reasons_for"], none["reasons_against"]
        if group in models:
            model = models[group]
            probs, scaled = S.predict_ml(frame, model, cfg)
            rows = S._select_for_reasons(scaled["propensity"], frame["lead_id"], cfg)
            out = S.ml_frame(frame, model, probs, scaled, rf, ra)
            g = acc.setdefault(group, _Group("lightgbm", model.version))
            g.propensity.append(probs["propensity"])
            g.candidates.append(frame[rows])
            g.rank.append(scaled["propensity"][rows])
        else:
            pm = points.get(group)
            if pm is None:
                raise S.no_model_error(group)
            scored = S.points_frame(frame, data, group, pm, None)
            rank = scored["score"].to_numpy()
            rows = S._select_for_reasons(rank, scored["lead_id"], cfg, points=True)
            out = S.points_out(scored, P.version(pm), rf, ra)
            g = acc.setdefault(group, _Group("points", P.version(pm)))
            g.candidates.append(scored[rows])
            g.rank.append(rank[rows])
        g.scores.append(out["score"].to_numpy())
        typed.append(
            (
                group,
                out.with_columns(product_group=pl.lit(group))
                .select(S.SCORE_COLUMNS)
                .cast(pl.Schema(S.SCORE_SCHEMA)),
            )
        )
    return S._by_lead_and_group(typed, data.base["lead_id"])


def _reasons(
    acc: dict[str, _Group],
    named: S.Scorable,
    models: dict[str, LoadedModel],
    points: dict[str, PointsModelConfig | None],
    cfg: ScoreConfig,
    features: FeaturesConfig,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """(lead_id, product_group, reasons_for, reasons_against) for the global top per group."""
    frames = []
    counts = {}
    phrases = features.activity_phrases
    for group, g in acc.items():
        cand = pl.concat(g.candidates, how="vertical_relaxed") if g.candidates else None
        if cand is None or cand.height == 0:
            counts[group] = 0
            continue
        rank = np.concatenate(g.rank)
        rows = S._select_for_reasons(rank, cand["lead_id"], cfg, points=g.kind == "points")
        counts[group] = len(rows)
        if len(rows) == 0:
            continue
        picked = cand[rows]
        every = np.arange(picked.height)
        if g.kind == "lightgbm":
            contrib, words = S.ml_reason_inputs(picked, models[group], cfg, features, phrases)
            rf, ra = S._attach_reasons(picked, every, contrib, words, cfg)
        else:
            pm = points[group]
            assert pm is not None
            contrib = picked.select(P.attribute_ids(pm)).to_numpy().astype(np.float64)
            words = S.points_phrases(named, group, pm, features, phrases)
            rf, ra = S._attach_reasons(picked, every, contrib, words, S.points_reasons_cfg(cfg))
        frames.append(
            pl.DataFrame(
                {
                    "lead_id": picked["lead_id"],
                    "product_group": [group] * picked.height,
                    "_rf": rf,
                    "_ra": ra,
                }
            )
        )
    if not frames:
        schema = {
            "lead_id": pl.String(),
            "product_group": pl.String(),
            "_rf": pl.List(pl.String()),
            "_ra": pl.List(pl.String()),
        }
        return pl.DataFrame(schema=schema), counts
    return pl.concat(frames), counts


def _final_rows(parts: list[Path], reasons: pl.DataFrame) -> Iterator[pl.DataFrame]:
    schema = pl.Schema(S.SCORE_SCHEMA)
    for path in parts:
        part = pl.read_parquet(path)
        lo, hi = part["lead_id"][0], part["lead_id"][-1]
        mine = reasons.filter(pl.col("lead_id").is_between(pl.lit(lo), pl.lit(hi), closed="both"))
        if mine.height:
            part = (
                part.join(mine, on=["lead_id", "product_group"], how="left", maintain_order="left")
                .with_columns(
                    reasons_for=pl.col("_rf").fill_null(pl.col("reasons_for")),
                    reasons_against=pl.col("_ra").fill_null(pl.col("reasons_against")),
                )
                .select(S.SCORE_COLUMNS)
                .cast(schema)
            )
        yield part


def score_partitioned(
    tables: Tables,
    groups: list[str],
    as_of: date,
    features: FeaturesConfig,
    models: dict[str, LoadedModel],
    points: dict[str, PointsModelConfig | None],
    cfg: ScoreConfig,
    bounds: list[tuple[str, str]],
    output: Path,
    *,
    recycled_stage: str = "Recycled",
    disqualified_stage: str = "Disqualified",
) -> PartitionedScores:
    """Score every lead × group partition by partition and write `output` (scores.parquet)."""
    schema = tables.leads.collect_schema()
    for model in models.values():
        S.check_model(model, features, schema)
    known = colleagues(tables, as_of, features)
    acc: dict[str, _Group] = {}
    parts: list[Path] = []
    leads = rows = 0
    defs: list[Feature] = []
    with parts_dir(output) as work:
        for i, b in enumerate(bounds):
            ptables, keys, own = partition_tables(tables, b, known, as_of, features)
            data = S.prepare(
                ptables,
                groups,
                as_of,
                features,
                models,
                recycled_stage=recycled_stage,
                disqualified_stage=disqualified_stage,
                key_leads=keys,
                event_activities=own,
            )
            scores = _score_partition(data, groups, models, points, cfg, features, acc)
            path = work / f"part-{i:05d}.parquet"
            scores.write_parquet(path, compression="lz4", statistics=False)
            parts.append(path)
            leads += data.base.height
            rows += scores.height
            log.info(
                "scored partition %d of %d: %d leads, %d rows",
                i + 1,
                len(bounds),
                data.base.height,
                scores.height,
            )
            defs = data.defs
            del data, scores
        # points_phrases reads only the feature definitions.
        named = S.Scorable(pl.DataFrame(), pl.DataFrame(), pl.LazyFrame(), pl.LazyFrame(), defs)
        reasons, counts = _reasons(acc, named, models, points, cfg, features)
        summary: dict[str, dict[str, Any]] = {}
        for group in groups:
            g = acc[group]
            score = np.concatenate(g.scores)
            if g.kind == "lightgbm":
                info = S.ml_summary(models[group], np.concatenate(g.propensity), counts[group])
                info["warnings"] = []
            else:
                info = S.points_summary(g.version, counts[group])
                info["warnings"] = [S.points_warning(group, g.version)]
            info.update(S.group_stats(score, info, cfg))
            summary[group] = info
            log.info("scored group %s: %d leads with %s", group, len(score), g.kind)
        write_parquet_stream(_final_rows(parts, reasons), pl.Schema(S.SCORE_SCHEMA), output)
    return PartitionedScores(summary, leads, rows)
