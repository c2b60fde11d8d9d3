"""Fit (profile) features, one row per lead: who they are, not what they did.

Firmographics come from the lead, else from its account: the lead's account_id, else an account
whose website domain is the lead's corporate e-mail domain. Profile fields carry no timestamps,
so they are taken as they are now (CRMs do not version them); no sales-set field is used here.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from leadctl.config.scoring import FeaturesConfig
from leadctl.features import profile as P

# (name, kind, label): the built-in fit features.
FIT_FEATURES: list[tuple[str, str, str]] = [
    ("seniority", "categorical", "Seniority"),
    ("job_function", "categorical", "Function"),
    ("industry", "categorical", "Industry"),
    ("company_size", "categorical", "Company size"),
    ("revenue_band", "categorical", "Revenue"),
    ("country", "categorical", "Country"),
    ("region", "categorical", "Region"),
    ("lead_source", "categorical", "Lead source"),
    ("email_domain_type", "categorical", "E-mail"),
    ("has_account", "numeric", "Matched account"),
    ("named_account", "numeric", "Named account"),
    ("target_account", "numeric", "Target account"),
    ("has_phone", "numeric", "Phone"),
]


def _opt(schema: pl.Schema, name: str, dtype: Any) -> pl.Expr:
    """A column that may be absent from an export (optional canonical columns)."""
    return pl.col(name) if name in schema else pl.lit(None, dtype=dtype).alias(name)


def account_keys(leads: pl.LazyFrame, accounts: pl.LazyFrame) -> pl.LazyFrame:
    """(lead_id, account_key, account_match): the account a lead belongs to, if any.

    account_match is "account_id" (the CRM link), "domain" (corporate e-mail domain equals an
    account's website domain, first account id when several share it) or "none".
    """
    acc_schema = accounts.collect_schema()
    by_domain = (
        accounts.select(
            "account_id", domain=P.website_domain(_opt(acc_schema, "domain", pl.String))
        )
        .filter(pl.col("domain").is_not_null())
        .group_by("domain")
        .agg(pl.col("account_id").min().alias("domain_account"))
    )
    schema = leads.collect_schema()
    email = _opt(schema, "email", pl.String)
    base = leads.select(
        "lead_id",
        account_id=_opt(schema, "account_id", pl.String),
        domain=pl.when(P.email_domain_type(email).is_in(["corporate", "role"])).then(
            P.email_domain(email)
        ),
    )
    return base.join(by_domain, on="domain", how="left").select(
        "lead_id",
        account_key=pl.coalesce("account_id", "domain_account"),
        account_match=pl.when(pl.col("account_id").is_not_null())
        .then(pl.lit("account_id"))
        .when(pl.col("domain_account").is_not_null())
        .then(pl.lit("domain"))
        .otherwise(pl.lit("none")),
    )


def _titles(leads: pl.LazyFrame) -> pl.LazyFrame:
    """Seniority and function per distinct title: titles repeat, so each is parsed once."""
    return (
        leads.select("title")
        .unique()
        .with_columns(
            seniority=P.seniority(pl.col("title")), job_function=P.job_function(pl.col("title"))
        )
    )


def fit_frame(
    leads: pl.LazyFrame,
    accounts: pl.LazyFrame,
    cfg: FeaturesConfig,
    acct: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """lead_id, account_key, created_at, title (kept for reason wording) and every fit feature.

    `acct` is account_keys(leads, accounts) when the caller already has it.
    """
    ls = leads.collect_schema()
    acc_s = accounts.collect_schema()
    acc = accounts.select(
        account_key=pl.col("account_id"),
        acc_industry=_opt(acc_s, "industry", pl.String),
        acc_employees=_opt(acc_s, "employees", pl.Int64),
        acc_revenue=_opt(acc_s, "annual_revenue", pl.Float64),
        acc_country=_opt(acc_s, "country", pl.String),
        acc_named=_opt(acc_s, "named_account", pl.Boolean),
        acc_target=_opt(acc_s, "target_account", pl.Boolean),
        acc_known=pl.lit(True),
    ).unique(subset="account_key", keep="first", maintain_order=True)
    custom = [c.column for c in cfg.custom if c.column in ls]
    base = leads.select(
        "lead_id",
        "created_at",
        *[pl.col(c).alias(f"__custom_{c}") for c in custom],
        title=_opt(ls, "title", pl.String),
        email=_opt(ls, "email", pl.String),
        phone=_opt(ls, "phone", pl.String),
        lead_industry=_opt(ls, "industry", pl.String),
        lead_employees=_opt(ls, "employees", pl.Int64),
        lead_revenue=_opt(ls, "annual_revenue", pl.Float64),
        lead_country=_opt(ls, "country", pl.String),
        lead_source_raw=_opt(ls, "lead_source", pl.String),
    )
    acct = account_keys(leads, accounts) if acct is None else acct
    joined = (
        base.join(acct, on="lead_id", how="left")
        .join(acc, on="account_key", how="left")
        .join(_titles(base), on="title", how="left", nulls_equal=True)
    )
    employees = pl.coalesce("lead_employees", "acc_employees")
    revenue = pl.coalesce("lead_revenue", "acc_revenue")
    code = P.country_code(pl.coalesce("lead_country", "acc_country"))
    out = joined.select(
        "lead_id",
        "account_key",
        "created_at",
        "title",
        *[f"__custom_{c}" for c in custom],
        "seniority",
        "job_function",
        industry=_tidy(pl.coalesce("lead_industry", "acc_industry")),
        company_size=P.band(employees, [float(e) for e in cfg.size_band_edges]),
        revenue_band=P.band(revenue, cfg.revenue_band_edges, money=True),
        country=code,
        region=P.region(code),
        lead_source=_tidy(pl.col("lead_source_raw")),
        email_domain_type=P.email_domain_type(pl.col("email")),
        has_account=pl.col("acc_known").fill_null(False).cast(pl.Float64),
        named_account=pl.col("acc_named").fill_null(False).cast(pl.Float64),
        target_account=pl.col("acc_target").fill_null(False).cast(pl.Float64),
        has_phone=(pl.col("phone").str.strip_chars().str.len_chars().fill_null(0) > 0).cast(
            pl.Float64
        ),
    )
    return out


def _tidy(expr: pl.Expr) -> pl.Expr:
    """Trimmed text with single spaces; blank → null (categories should not split on spacing)."""
    text = expr.cast(pl.String).str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)
