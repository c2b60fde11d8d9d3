"""Reason codes: the strongest drivers for and against a lead, in words a rep understands.

Contributions (LightGBM TreeSHAP, or a points model's attribute points) pick the drivers; the
wording comes from the feature's raw value ("Requested a demo 2 days ago", "Title: VP Finance",
"Free-mail address"). Everything is vectorised: a loop over features, never over leads.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import polars as pl
import pycountry

from leadctl.features.spec import Feature

EMAIL_PHRASES = {
    "corporate": "Corporate e-mail address",
    "free": "Free-mail address",
    "disposable": "Disposable e-mail address",
    "role": "Role address (info@, sales@ ...)",
    "education": "University / student e-mail address",
    "invalid": "Invalid e-mail address",
    "missing": "No e-mail address",
}


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    return {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


def merge_title(contrib: np.ndarray, features: list[Feature]) -> tuple[np.ndarray, list[Feature]]:
    """Seniority and function are both worded "Title: ..."; add their contributions into one
    driver so a title never shows up as a reason for and against at once."""
    title = [j for j, f in enumerate(features) if f.phrase == "title"]
    if len(title) < 2:
        return contrib, features
    keep = [j for j in range(len(features)) if j not in title[1:]]
    merged = contrib.copy()
    merged[:, title[0]] = contrib[:, title].sum(axis=1)
    return merged[:, keep], [features[j] for j in keep]


def _int(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _ago(days: pl.Expr) -> pl.Expr:
    return (
        pl.when(days <= 0)
        .then(pl.lit("today"))
        .when(days < 2)
        .then(pl.lit("yesterday"))
        .otherwise(pl.format("{} days ago", _int(days)))
    )


def _fmt(template: str, *args: pl.Expr | str) -> pl.Expr:
    return pl.format(template, *[pl.lit(a) if isinstance(a, str) else a for a in args])


def phrase(
    feature: Feature, *, group: str, activity_phrases: dict[str, str], lookback_days: int
) -> pl.Expr:
    """A String expression wording `feature`'s raw value (column of the same name).

    Evaluated where a boolean `_for` column says the driver's direction, so a small count that
    counts against a lead reads "Only 2 ...", and engagement reads "High ..." or "Low ...".
    """
    v = pl.col(feature.name)
    against = ~pl.col("_for")
    only = pl.when(against).then(pl.lit("Only ")).otherwise(pl.lit(""))
    p = feature.params
    kind = feature.phrase
    what = activity_phrases.get(p.get("type") or "", p.get("type") or "")
    out: pl.Expr
    if kind == "title":
        out = (
            pl.when(pl.col("title").is_not_null())
            .then(pl.format("Title: {}", pl.col("title")))
            .otherwise(pl.lit("No job title"))
        )
    elif kind == "email":
        out = v.cast(pl.String).replace_strict(
            EMAIL_PHRASES, default="E-mail address", return_dtype=pl.String
        )
    elif kind == "flag":
        out = (
            pl.when(v > 0.5)
            .then(pl.lit(p.get("yes", feature.label)))
            .otherwise(pl.lit(p.get("no", feature.label)))
        )
    elif kind == "count":
        out = (
            pl.when(v > 0)
            .then(_fmt("{} {}× in the last {} days", what, _int(v), str(p["window"])))
            .otherwise(_fmt("No “{}” in the last {} days", p["type"], str(p["window"])))
        )
    elif kind == "days_since" and p.get("type"):
        out = (
            pl.when(v.is_null())
            .then(_fmt("No “{}” in the last {} days", p["type"], str(lookback_days)))
            .otherwise(_fmt("{} {}", what, _ago(v)))
        )
    elif kind == "days_since":
        out = (
            pl.when(v.is_null())
            .then(pl.lit(f"No activity in the last {lookback_days} days"))
            .otherwise(_fmt("Last activity {}", _ago(v)))
        )
    elif kind in ("decayed", "pg_decayed"):
        scope = "" if kind == "decayed" else f" {group}"
        level = pl.when(against).then(pl.lit("Low")).otherwise(pl.lit("High"))
        out = _fmt("{} recent{} engagement (level {})", level, scope, v.round(1).cast(pl.String))
    elif kind == "assets":
        out = (
            pl.when(v > 0)
            .then(
                _fmt(
                    "Engaged with {} different assets in the last {} days",
                    _int(v),
                    str(p["window"]),
                )
            )
            .otherwise(pl.lit(f"No content engagement in the last {p['window']} days"))
        )
    elif kind == "negatives":
        out = (
            pl.when(v > 0)
            .then(_fmt("Unsubscribed, bounced or complained ({}×)", _int(v)))
            .otherwise(pl.lit("No unsubscribes, bounces or complaints"))
        )
    elif kind == "prior_opps":
        out = (
            pl.when(v > 0)
            .then(_fmt("{} earlier opportunities with the lead or its account", _int(v)))
            .otherwise(pl.lit("No earlier opportunity with the lead or its account"))
        )
    elif kind == "lead_age":
        out = _fmt("Lead created {}", _ago(v))
    elif kind == "colleagues":
        out = (
            pl.when(v > 0)
            .then(
                _fmt(
                    "{}{} colleagues at the same account engaged in the last {} days",
                    only,
                    _int(v),
                    str(p["window"]),
                )
            )
            .otherwise(
                pl.lit(f"No colleagues at the account engaged in the last {p['window']} days")
            )
        )
    elif kind == "pg_count":
        out = (
            pl.when(v > 0)
            .then(
                _fmt(
                    "{}{} {} activities in the last {} days", only, _int(v), group, str(p["window"])
                )
            )
            .otherwise(pl.lit(f"No {group} activity in the last {p['window']} days"))
        )
    elif kind == "pg_days":
        out = (
            pl.when(v.is_null())
            .then(pl.lit(f"No {group} activity in the last {lookback_days} days"))
            .otherwise(_fmt("Last {} activity {}", group, _ago(v)))
        )
    elif kind == "pg_share":
        out = (
            pl.when(v.is_null())
            .then(pl.lit("No product-specific activity"))
            .otherwise(_fmt("{}% of product interest is {}", _int(v * 100), group))
        )
    elif kind == "recycled":
        out = (
            pl.when(v > 0)
            .then(_fmt("Recycled {}× before", _int(v)))
            .otherwise(pl.lit("Never recycled"))
        )
    elif kind == "disqualified":
        out = (
            pl.when(v > 0)
            .then(_fmt("Disqualified {}× before", _int(v)))
            .otherwise(pl.lit("Never disqualified"))
        )
    elif kind == "category":
        text = v.cast(pl.String)
        if feature.name == "country":
            text = text.replace_strict(_country_names(), default=text, return_dtype=pl.String)
        out = (
            pl.when(v.is_null())
            .then(pl.lit(f"{feature.label}: unknown"))
            .otherwise(_fmt("{}: {}", feature.label, text))
        )
    else:  # number
        out = (
            pl.when(v.is_null())
            .then(pl.lit(f"{feature.label}: unknown"))
            .otherwise(_fmt("{}: {}", feature.label, v.round(2).cast(pl.String)))
        )
    return out.cast(pl.String)


def top_drivers(contrib: np.ndarray, top_n: int, min_contribution: float) -> tuple[np.ndarray, ...]:
    """(row, column, rank, positive) of each row's top_n positive and top_n negative contributions
    with |contribution| >= min_contribution (vectorised over the matrix)."""
    n, m = contrib.shape
    if n == 0 or m == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=bool)
    k = min(top_n, m)
    rows, cols, ranks, pos = [], [], [], []
    for sign in (1.0, -1.0):
        signed = contrib * sign
        # Stable order: by contribution, then by column, so ties are deterministic.
        order = np.lexsort((np.broadcast_to(np.arange(m), (n, m)), -signed), axis=1)[:, :k]
        vals = np.take_along_axis(signed, order, axis=1)
        keep = vals >= max(min_contribution, 1e-12)
        r, c = np.nonzero(keep)
        rows.append(r)
        cols.append(order[r, c])
        ranks.append(c)
        pos.append(np.full(len(r), sign > 0))
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(ranks), np.concatenate(pos)


def reason_lists(
    raw: pl.DataFrame,
    contrib: np.ndarray,
    phrases: list[pl.Expr],
    *,
    top_n: int,
    min_contribution: float,
) -> pl.DataFrame:
    """Per row of `raw` (aligned with `contrib`): `_row`, reasons_for, reasons_against.

    `phrases[j]` words column j of `contrib`; duplicates within a list are dropped (seniority and
    function both say "Title: ...").
    """
    rows, cols, ranks, positive = top_drivers(contrib, top_n, min_contribution)
    parts = []
    indexed = raw.with_row_index("_row")
    for j in np.unique(cols):
        sel = cols == j
        picked = pl.DataFrame(
            {
                "_row": rows[sel].astype(np.uint32),
                "_rank": ranks[sel],
                "_for": positive[sel],
                "_size": np.abs(contrib[rows[sel], j]),
            }
        )
        words = indexed.join(picked, on="_row", how="inner").select(
            "_row", "_rank", "_for", "_size", phrases[int(j)].alias("_text")
        )
        parts.append(words)
    base = pl.DataFrame({"_row": np.arange(raw.height, dtype=np.uint32)})
    if not parts:
        return base.with_columns(
            reasons_for=pl.lit([], dtype=pl.List(pl.String)),
            reasons_against=pl.lit([], dtype=pl.List(pl.String)),
        )
    long = pl.concat(parts).sort(
        ["_row", "_for", "_size", "_rank"], descending=[False, False, True, False]
    )
    lists = long.group_by("_row").agg(
        reasons_for=pl.col("_text").filter(pl.col("_for")).unique(maintain_order=True),
        reasons_against=pl.col("_text").filter(~pl.col("_for")).unique(maintain_order=True),
    )
    return (
        base.join(lists, on="_row", how="left")
        .with_columns(
            pl.col("reasons_for").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("reasons_against").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
        .sort("_row")
    )
