"""Lead-to-account matching and the open-opportunity (existing customer) check.

Match order, first hit wins (each step can be switched off in `verify.account_match`):
  1. `account_id`  the lead's own account id, when that account exists (score 100);
  2. `domain`      the registrable domain of the lead's e-mail equals an account's website
                   domain (free-mail and disposable domains never match; score 100);
  3. `fuzzy_name`  the lead's company key (no case, accents, punctuation or legal suffix) is
                   at least `fuzzy_threshold` similar to an account name's key (rapidfuzz).
Several accounts at the same step are a tie, broken in this order: higher score, named account,
account in the lead's country, account with an owner, lowest account_id.
"""

from __future__ import annotations

from datetime import date
from math import comb
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from leadctl.config.verify import ReferenceLists, VerifyConfig
from leadctl.stages.verify_geo import country_codes
from leadctl.stages.verify_text import cleaned, company_keys, registrable_domains

MATCH_SCHEMA = {
    "lead_id": pl.String,
    "matched_account_id": pl.String,
    "account_match_method": pl.String,
    "account_match_score": pl.Float64,
}
_CHUNK = 256  # queries per cdist call: bounds the score matrix to 256 × accounts floats
_BLOCK_DIMS = 5  # characters counted one by one to block fuzzy candidates (the rest together)
_MAX_BALL = 5000  # count-vector offsets per query group before it falls back to the window
_PARALLEL_PAIRS = 2_000_000  # cdist calls this large run on all cores
_PACK_LIMIT = 1 << 62  # count vectors packed into one Int64 join key below this
_SCORERS = {
    "ratio": fuzz.ratio,
    "token_sort_ratio": fuzz.token_sort_ratio,
    "token_set_ratio": fuzz.token_set_ratio,
    "WRatio": fuzz.WRatio,
}


def prepare_accounts(
    accounts: pl.DataFrame, cfg: VerifyConfig, lists: ReferenceLists
) -> pl.DataFrame:
    """Accounts with the keys matching needs: registrable domain, name key, ISO country."""
    base = accounts.select(
        pl.col("account_id").cast(pl.String),
        cleaned("name", cfg.blank_values).alias("account_name"),
        cleaned("domain", cfg.blank_values).alias("account_domain_raw"),
        cleaned("country", cfg.blank_values).alias("account_country_raw"),
        cleaned("owner_id", cfg.blank_values).alias("account_owner_id"),
        pl.col("named_account").cast(pl.Boolean).fill_null(False).alias("named_account"),
        pl.col("industry").cast(pl.String).alias("account_industry"),
        pl.col("employees").cast(pl.Int64).alias("account_employees"),
    ).filter(pl.col("account_id").is_not_null())
    domains = registrable_domains(base["account_domain_raw"]).rename(
        {"host": "account_domain_raw", "registrable": "account_domain"}
    )
    keys = company_keys(base["account_name"], cfg.account_match.legal_suffixes).rename(
        {"company_raw": "account_name", "company_key": "account_key"}
    )
    countries = country_codes(base["account_country_raw"], cfg.country_aliases).rename(
        {"country_clean": "account_country_raw", "country_code": "account_country_code"}
    )
    blocked = pl.Series(sorted(lists.free_mail | lists.disposable), dtype=pl.String).implode()
    return (
        base.join(domains, on="account_domain_raw", how="left")
        .join(keys, on="account_name", how="left")
        .join(countries, on="account_country_raw", how="left")
        .with_columns(
            # An account whose website is a free-mail domain would swallow every gmail lead.
            pl.when(pl.col("account_domain").is_in(blocked))
            .then(None)
            .otherwise(pl.col("account_domain"))
            .alias("account_domain")
        )
        .drop("account_domain_raw", "account_country_raw")
        .sort("account_id")
    )


def _sorted_tokens(values: pl.Series) -> pl.Series:
    """Each key with its words sorted ('b a' → 'a b'), as token_sort_ratio compares them.

    Words are runs of non-space characters; company keys are words joined by single spaces.
    (`list.eval(sort)`, not `list.sort`, which is far slower on strings.)
    """
    return values.str.extract_all(r"\S+").list.eval(pl.element().sort()).list.join(" ")


def _max_indel(total_len: pl.Expr, threshold: float) -> pl.Expr:
    """Largest indel distance a pair with this summed length can have and still score
    `threshold` with ratio (100 * (1 - distance / summed length)), rounded up a hair so float
    noise never makes it too small."""
    return ((100.0 - threshold) * total_len / 100.0 + 1e-6).floor().cast(pl.Int64)


def _ball(dims: int, radius: int) -> list[tuple[int, ...]]:
    """Every integer vector of `dims` components whose absolute values sum to <= radius."""
    if dims == 0:
        return [()]
    return [
        (x, *rest) for x in range(-radius, radius + 1) for rest in _ball(dims - 1, radius - abs(x))
    ]


def _ball_size(dims: int, radius: int) -> int:
    return sum(2**i * comb(dims, i) * comb(radius, i) for i in range(min(dims, radius) + 1))


def _count_vectors(frame: pl.DataFrame, chars: list[str]) -> pl.DataFrame:
    """`frame` (with `text`, `len`) plus d0..d{n}: how often each of `chars` occurs, then the
    number of all other characters."""
    counts = [
        pl.col("text").str.count_matches(ch, literal=True).cast(pl.Int64).alias(f"d{i}")
        for i, ch in enumerate(chars)
    ]
    rest = (pl.col("len") - pl.sum_horizontal(*(f"d{i}" for i in range(len(chars))))).alias(
        f"d{len(chars)}"
    )
    return frame.with_columns(counts).with_columns(rest)


def _hits(
    q_text: list[str], c_text: list[str], scorer: Any, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rapidfuzz cdist (both cores only when the matrix is large): rows, columns and scores of
    the pairs at or above the threshold."""
    scores = process.cdist(
        q_text,
        c_text,
        scorer=scorer,
        processor=None,
        score_cutoff=threshold,
        dtype=np.float32,
        workers=-1 if len(q_text) * len(c_text) > _PARALLEL_PAIRS else 1,
    )
    rows, cols = np.nonzero(scores > 0)
    return rows, cols, scores[rows, cols]


def _score_block(
    q_idx: np.ndarray,
    c_idx: np.ndarray,
    q_text: list[str],
    c_text: list[str],
    scorer: Any,
    threshold: float,
) -> pl.DataFrame | None:
    """rapidfuzz cdist of some queries against some choices: the (qi, ci, score) above 0."""
    rows, cols, scores = _hits(q_text, c_text, scorer, threshold)
    if not len(rows):
        return None
    return pl.DataFrame(
        {
            "qi": q_idx[rows].astype(np.uint32),
            "ci": c_idx[cols].astype(np.uint32),
            "score": scores,
        }
    )


def _blocked_hits(
    q: pl.DataFrame, c: pl.DataFrame, scorer: Any, threshold: float
) -> tuple[list[pl.DataFrame], np.ndarray]:
    """Score each query only against the choices whose character counts allow the threshold.

    The indel distance of two strings is at least the sum over characters of the difference
    in how often each occurs (every unmatched occurrence is a deletion on one side), and still
    at least that when some characters are counted together. So with the `_BLOCK_DIMS` most
    common characters counted one by one and all others together, a pair can only reach the
    threshold when those count vectors differ by at most `_max_indel(summed length)` in total.
    Queries with the same vector are scored together against the choices with vectors in that
    distance, found by joining the query vectors plus every offset of that size; queries that
    would need too many offsets (very long keys) are returned for the length window instead.
    Returns (hits, query indices left over).
    """
    candidates = list("etaoinsrhldcumfpgwybvkxjqz 0123456789")
    freq = [int(c["text"].str.count_matches(ch, literal=True).sum()) for ch in candidates]
    chars = [
        ch for _, ch in sorted(zip(freq, candidates, strict=True), key=lambda x: (-x[0], x[1]))
    ]
    chars = chars[:_BLOCK_DIMS]
    dims = [f"d{i}" for i in range(len(chars) + 1)]
    longest_choice = int(c["len"].cast(pl.Int64).max() or 0)  # type: ignore[arg-type]
    qv = _count_vectors(q, chars)
    cv = _count_vectors(c, chars).sort([*dims, "ci"])
    t = threshold / 100
    groups = (
        qv.group_by(dims, maintain_order=True)
        .agg("qi", pl.col("len").first())
        .sort(dims)
        .with_row_index("g")
        .with_columns(
            _max_indel(
                pl.col("len")
                + pl.min_horizontal(
                    (pl.col("len") * (2 - t) / t + 1e-6).floor().cast(pl.Int64),
                    pl.lit(longest_choice, dtype=pl.Int64),
                ),
                threshold,
            ).alias("radius")
        )
    )
    fits = pl.col("radius").map_elements(
        lambda r: _ball_size(len(dims), r) <= _MAX_BALL, return_dtype=pl.Boolean
    )
    groups = groups.with_columns(fits.alias("fits"))
    left_over = groups.filter(~pl.col("fits"))["qi"].explode().to_numpy()
    groups = groups.filter(pl.col("fits"))
    found: list[pl.DataFrame] = []
    if groups.is_empty():
        return found, left_over
    blocks = (
        cv.with_row_index("pos")
        .group_by(dims, maintain_order=True)
        .agg(
            pl.col("pos").first().alias("start"),
            pl.len().alias("n"),
            pl.col("len").first().alias("lb"),
        )
    )
    pairs = (
        _block_candidates(groups, blocks, dims)
        .filter(pl.col("r") <= _max_indel(pl.col("la") + pl.col("lb"), threshold))
        .group_by("g")
        .agg("start", "n")
        .join(groups.select("g", "qi"), on="g")
        .sort("g")
    )
    q_all = q["text"].to_list()
    c_sorted = cv["text"].to_list()
    c_sorted_idx = cv["ci"].to_numpy()
    hit_q: list[np.ndarray] = []
    hit_c: list[np.ndarray] = []
    hit_s: list[np.ndarray] = []
    for qis, starts, sizes in zip(
        pairs["qi"].to_list(), pairs["start"].to_list(), pairs["n"].to_list(), strict=True
    ):
        texts: list[str] = []
        for a, n in zip(starts, sizes, strict=True):
            texts += c_sorted[a : a + n]
        rows, cols, scores = _hits([q_all[i] for i in qis], texts, scorer, threshold)
        if not len(rows):
            continue
        # column → choice: the block of each hit column, then the column's place in it
        size = np.asarray(sizes)
        ends = np.cumsum(size)
        block = np.searchsorted(ends, cols, side="right")
        place = np.asarray(starts)[block] + cols - (ends[block] - size[block])
        hit_q.append(np.asarray(qis)[rows])
        hit_c.append(c_sorted_idx[place])
        hit_s.append(scores)
    if hit_q:
        found.append(
            pl.DataFrame(
                {
                    "qi": np.concatenate(hit_q).astype(np.uint32),
                    "ci": np.concatenate(hit_c).astype(np.uint32),
                    "score": np.concatenate(hit_s),
                }
            )
        )
    return found, left_over


def _block_candidates(groups: pl.DataFrame, blocks: pl.DataFrame, dims: list[str]) -> pl.DataFrame:
    """Every (query group, choice block) whose count vectors differ by an offset within the
    group's radius: g, la, r (the offset's size) and the block's start, n, lb.

    Each group is crossed only with the offsets of its own radius (not of the largest: half
    the rows on the bench), and the shifted vectors are matched to the blocks on one packed
    integer (the counts as digits of a number) instead of on every count column. A shifted
    count below zero or above every block's count matches no block and is dropped first.
    """
    radius = int(groups["radius"].cast(pl.Int64).max() or 0)  # type: ignore[arg-type]
    offsets = pl.DataFrame(
        _ball(len(dims), radius), schema=[f"o{i}" for i in range(len(dims))], orient="row"
    ).with_columns(pl.sum_horizontal(pl.all().abs()).alias("r"))
    shifted = [(pl.col(d) + pl.col(f"o{i}")).alias(d) for i, d in enumerate(dims)]
    crossed = pl.concat(
        [
            groups.filter(pl.col("radius") == r)
            .select("g", pl.col("len").alias("la"), *dims)
            .join(offsets.filter(pl.col("r") <= r), how="cross")
            .select("g", "la", "r", *shifted)
            for r in groups["radius"].unique().sort().to_list()
        ]
    )
    top = int(blocks.select(pl.max_horizontal(dims).max()).item() or 0)
    base = top + 1
    if base ** len(dims) >= _PACK_LIMIT:  # keys too long to pack: join on the columns
        return crossed.join(blocks, on=dims)
    packed = pl.lit(0, dtype=pl.Int64)
    for d in dims:
        packed = packed * base + pl.col(d).cast(pl.Int64)
    in_range = pl.all_horizontal((pl.col(d) >= 0) & (pl.col(d) <= top) for d in dims)
    left = crossed.filter(in_range).select("g", "la", "r", packed.alias("_key"))
    right = blocks.select(packed.alias("_key"), "start", "n", "lb")
    return left.join(right, on="_key").drop("_key")


def _fuzzy_pairs(queries: list[str], choices: list[str], cfg: VerifyConfig) -> pl.DataFrame:
    """For each distinct company key, the account keys with the best score above the threshold.

    token_sort_ratio is ratio on word-sorted strings, so both sides are sorted once up front.
    For ratio only the pairs that can reach the threshold are scored (`_blocked_hits`), which
    finds exactly the pairs a full comparison would; queries left over, and other scorers, are
    scored by rapidfuzz `cdist` per chunk of queries against every choice (for ratio: in the
    length window, exact too, as the indel distance is at least the length difference).
    """
    name = cfg.account_match.fuzzy_scorer
    threshold = cfg.account_match.fuzzy_threshold
    q_series = pl.Series("text", queries, dtype=pl.String)
    c_series = pl.Series("text", choices, dtype=pl.String)
    if name == "token_sort_ratio":
        q_series, c_series = _sorted_tokens(q_series), _sorted_tokens(c_series)
        scorer, by_length = fuzz.ratio, True
    else:
        scorer, by_length = _SCORERS[name], name == "ratio"
    by_length = by_length and threshold > 0
    q = (
        pl.DataFrame({"text": q_series})
        .with_row_index("qi")
        .with_columns(pl.col("text").str.len_chars().cast(pl.Int64).alias("len"))
    )
    c = (
        pl.DataFrame({"text": c_series})
        .with_row_index("ci")
        .with_columns(pl.col("text").str.len_chars().cast(pl.Int64).alias("len"))
    )
    q_text, c_text = q_series.to_list(), c_series.to_list()
    q_len, c_len = q["len"].to_numpy(), c["len"].to_numpy()
    found: list[pl.DataFrame] = []
    if by_length:
        found, rest = _blocked_hits(q, c, scorer, threshold)
    else:
        rest = np.arange(len(q_text))
    c_order = np.argsort(c_len, kind="stable")
    c_sorted_len = c_len[c_order]
    q_order = rest[np.argsort(q_len[rest], kind="stable")]
    t = threshold / 100
    for start in range(0, len(q_order), _CHUNK):
        chunk = q_order[start : start + _CHUNK]
        lo, hi = 0, len(c_order)
        if by_length:
            shortest, longest = int(q_len[chunk[0]]), int(q_len[chunk[-1]])
            lo = int(np.searchsorted(c_sorted_len, np.floor(shortest * t / (2 - t)), side="left"))
            hi = int(np.searchsorted(c_sorted_len, np.ceil(longest * (2 - t) / t), side="right"))
        window = c_order[lo:hi]
        if not len(window):
            continue
        hit = _score_block(
            chunk,
            window,
            [q_text[i] for i in chunk],
            [c_text[j] for j in window],
            scorer,
            threshold,
        )
        if hit is not None:
            found.append(hit)
    schema = {"company_key": pl.String, "account_key": pl.String, "account_match_score": pl.Float64}
    if not found:
        return pl.DataFrame(schema=schema)
    hits = (
        pl.concat(found)
        .filter(pl.col("score") >= threshold)
        .filter(pl.col("score") == pl.col("score").max().over("qi"))
        .sort("qi", "ci")
    )
    # Round as Python's round() does (polars rounds differently at some halves): there are only
    # a few distinct scores.
    rounded = {v: round(float(v), 2) for v in hits["score"].unique().to_list()}
    return pl.DataFrame(
        {
            "company_key": pl.Series(queries, dtype=pl.String).gather(hits["qi"]),
            "account_key": pl.Series(choices, dtype=pl.String).gather(hits["ci"]),
            "account_match_score": hits["score"].replace_strict(rounded, return_dtype=pl.Float64),
        },
        schema=schema,
    )


def _best(candidates: pl.DataFrame, method: str) -> pl.DataFrame:
    """One account per lead by the documented tie rule."""
    if candidates.is_empty():
        return pl.DataFrame(schema=MATCH_SCHEMA)
    return (
        candidates.with_columns(
            (pl.col("account_country_code") == pl.col("lead_country_code"))
            .fill_null(False)
            .alias("_same"),
            pl.col("account_owner_id").is_not_null().alias("_owned"),
        )
        .sort(
            ["lead_id", "account_match_score", "named_account", "_same", "_owned", "account_id"],
            descending=[False, True, True, True, True, False],
        )
        .group_by("lead_id", maintain_order=True)
        .first()
        .select(
            "lead_id",
            pl.col("account_id").alias("matched_account_id"),
            pl.lit(method).alias("account_match_method"),
            "account_match_score",
        )
        .cast(MATCH_SCHEMA)  # type: ignore[arg-type]
    )


def match_accounts(people: pl.DataFrame, accounts: pl.DataFrame, cfg: VerifyConfig) -> pl.DataFrame:
    """One row per lead: matched_account_id, account_match_method, account_match_score.

    `people` has one row per lead with lead_id, account_id_clean, email_registrable,
    email_free_mail, email_disposable, company_key and lead_country_code; `accounts` comes from
    `prepare_accounts`. Unmatched leads get method 'none' and null id and score.
    """
    opts = cfg.account_match
    acc_cols = ["account_id", "named_account", "account_owner_id", "account_country_code"]
    matched: list[pl.DataFrame] = []
    remaining = people

    def _keep_unmatched(done: pl.DataFrame) -> pl.DataFrame:
        return remaining.join(done.select("lead_id"), on="lead_id", how="anti")

    if opts.use_account_id:
        cands = remaining.join(
            accounts.select(acc_cols),
            left_on="account_id_clean",
            right_on="account_id",
            how="inner",
        ).with_columns(
            pl.col("account_id_clean").alias("account_id"),
            pl.lit(100.0).alias("account_match_score"),
        )
        best = _best(cands, "account_id")
        matched.append(best)
        remaining = _keep_unmatched(best)

    if opts.use_email_domain:
        usable = remaining.filter(
            pl.col("email_registrable").is_not_null()
            & ~pl.col("email_free_mail").fill_null(False)
            & ~pl.col("email_disposable").fill_null(False)
        )
        cands = usable.join(
            accounts.filter(pl.col("account_domain").is_not_null()).select(
                [*acc_cols, "account_domain"]
            ),
            left_on="email_registrable",
            right_on="account_domain",
            how="inner",
        ).with_columns(pl.lit(100.0).alias("account_match_score"))
        best = _best(cands, "domain")
        matched.append(best)
        remaining = _keep_unmatched(best)

    if opts.use_company_name:
        named = remaining.filter(pl.col("company_key").is_not_null())
        choices = accounts["account_key"].drop_nulls().unique().sort().to_list()
        queries = named["company_key"].unique().sort().to_list()
        pairs = _fuzzy_pairs(queries, choices, cfg) if choices and queries else None
        if pairs is not None and not pairs.is_empty():
            cands = named.join(pairs, on="company_key", how="inner").join(
                accounts.select([*acc_cols, "account_key"]), on="account_key", how="inner"
            )
            best = _best(cands, "fuzzy_name")
            matched.append(best)
            remaining = _keep_unmatched(best)

    none = remaining.select(
        "lead_id",
        pl.lit(None, dtype=pl.String).alias("matched_account_id"),
        pl.lit("none").alias("account_match_method"),
        pl.lit(None, dtype=pl.Float64).alias("account_match_score"),
    )
    return pl.concat([*matched, none.cast(MATCH_SCHEMA)]).sort("lead_id")  # type: ignore[arg-type]


def open_opportunities(
    rows: pl.LazyFrame, opportunities: pl.LazyFrame, cfg: VerifyConfig, as_of: date
) -> pl.LazyFrame:
    """`rows` (lead_id, product_group, account_key) with a boolean `open_opportunity` added.

    An opportunity is open on `as_of` when it was created by then, is not closed by then and its
    stage is not a closed stage. It counts for the lead it names and for its account; with
    `open_opportunity_scope: same_group` only for its own product group (a group-less
    opportunity counts for every group).
    """
    end = pl.lit(as_of).cast(pl.Datetime("us", "UTC")) + pl.duration(days=1)
    closed = pl.Series(cfg.closed_opportunity_stages, dtype=pl.String).implode()
    opps = opportunities.filter(
        (pl.col("created_at") < end)
        & (pl.col("closed_at").is_null() | (pl.col("closed_at") >= end))
        & ~pl.col("stage").cast(pl.String).is_in(closed).fill_null(False)
    ).select(
        pl.col("lead_id").cast(pl.String),
        pl.col("account_id").cast(pl.String),
        pl.col("product_group").cast(pl.String).alias("opp_group"),
    )
    flags: list[pl.Expr] = []
    out = rows
    for n, (left, right) in enumerate((("lead_id", "lead_id"), ("account_key", "account_id"))):
        keyed = opps.filter(pl.col(right).is_not_null())
        if cfg.open_opportunity_scope == "any_group":
            hit = (
                keyed.select(pl.col(right).alias(left))
                .unique()
                .with_columns(pl.lit(True).alias(f"_o{n}"))
            )
            out = out.join(hit, on=left, how="left")
            flags.append(pl.col(f"_o{n}"))
            continue
        grouped = (
            keyed.filter(pl.col("opp_group").is_not_null())
            .select(pl.col(right).alias(left), pl.col("opp_group").alias("product_group"))
            .unique()
            .with_columns(pl.lit(True).alias(f"_g{n}"))
        )
        general = (
            keyed.filter(pl.col("opp_group").is_null())
            .select(pl.col(right).alias(left))
            .unique()
            .with_columns(pl.lit(True).alias(f"_a{n}"))
        )
        out = out.join(grouped, on=[left, "product_group"], how="left").join(
            general, on=left, how="left"
        )
        flags.extend([pl.col(f"_g{n}"), pl.col(f"_a{n}")])
    temp = [f"_{k}{n}" for k in "oga" for n in range(2)]
    return out.with_columns(
        pl.any_horizontal([f.fill_null(False) for f in flags]).alias("open_opportunity")
    ).drop([c for c in temp if c in out.collect_schema().names()])
