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


def _sorted_tokens(value: str) -> str:
    return " ".join(sorted(value.split()))


def _fuzzy_pairs(queries: list[str], choices: list[str], cfg: VerifyConfig) -> pl.DataFrame:
    """For each distinct company key, the account keys with the best score above the threshold.

    One rapidfuzz `cdist` per chunk of queries instead of a call per pair. token_sort_ratio is
    ratio on word-sorted strings, so both sides are sorted once up front; for ratio, choices
    outside the length window that could still reach the threshold are skipped (exact: the
    indel distance is at least the length difference).
    """
    name = cfg.account_match.fuzzy_scorer
    threshold = cfg.account_match.fuzzy_threshold
    if name == "token_sort_ratio":
        q_text = [_sorted_tokens(q) for q in queries]
        c_text = [_sorted_tokens(c) for c in choices]
        scorer, by_length = fuzz.ratio, True
    else:
        q_text, c_text = list(queries), list(choices)
        scorer, by_length = _SCORERS[name], name == "ratio"
    c_len = np.array([len(c) for c in c_text])
    c_order = np.argsort(c_len, kind="stable")
    c_sorted_len = c_len[c_order]
    q_order = sorted(range(len(q_text)), key=lambda i: (len(q_text[i]), q_text[i]))
    t = threshold / 100
    rows: list[tuple[str, str, float]] = []
    for start in range(0, len(q_order), _CHUNK):
        chunk = q_order[start : start + _CHUNK]
        lo, hi = 0, len(c_order)
        if by_length and t > 0:
            shortest, longest = len(q_text[chunk[0]]), len(q_text[chunk[-1]])
            lo = int(np.searchsorted(c_sorted_len, np.floor(shortest * t / (2 - t)), side="left"))
            hi = int(np.searchsorted(c_sorted_len, np.ceil(longest * (2 - t) / t), side="right"))
        window = c_order[lo:hi]
        if not len(window):
            continue
        scores = process.cdist(
            [q_text[i] for i in chunk],
            [c_text[j] for j in window],
            scorer=scorer,
            processor=None,
            score_cutoff=threshold,
            dtype=np.float32,
            workers=1,
        )
        best = scores.max(axis=1)
        for row, q_index in enumerate(chunk):
            top = best[row]
            if top <= 0 or top < threshold:
                continue
            for col in np.flatnonzero(scores[row] == top):
                rows.append((queries[q_index], choices[window[col]], round(float(top), 2)))
    return pl.DataFrame(
        rows,
        schema={
            "company_key": pl.String,
            "account_key": pl.String,
            "account_match_score": pl.Float64,
        },
        orient="row",
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
