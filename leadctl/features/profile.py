"""Profile parsing as polars expressions: title seniority and function, e-mail domain type,
country code and region, company-size and revenue bands.

Free text from CRMs is messy ("Sr. Director, Analytics", "VP of IT", "Founder & CEO"); these
rules map it onto the few levels a sales team reasons with. Rules are ordered: the first match wins.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from leadctl.features.lists import (
    country_lookup,
    country_regions,
    disposable_domains,
    free_mail_domains,
    role_local_parts,
)

SENIORITY_RULES: list[tuple[str, str]] = [
    (
        "Student",
        r"\b(student|intern|internship|trainee|apprentice|phd|undergrad|undergraduate|"
        r"werkstudent|praktikant|praktikantin|stagiaire|estudiante)\b",
    ),
    ("VP", r"\b(vp|svp|evp|avp|vice[ -]president)\b"),
    (
        "C-level",
        r"\b(chief|ceo|cto|cio|cfo|coo|cmo|ciso|cdo|cro|cpo|founder|co-founder|cofounder|"
        r"owner|president|managing director|geschäftsführer|geschaftsfuhrer|general manager)\b",
    ),
    ("Director", r"\b(director|head|directeur|directora|leiter|leiterin)\b"),
    ("Manager", r"\b(manager|mgr|management|supervisor|lead|teamlead|team lead)\b"),
]
SENIORITY_LEVELS = [
    "C-level",
    "VP",
    "Director",
    "Manager",
    "Individual contributor",
    "Student",
    "Unknown",
]

FUNCTION_RULES: list[tuple[str, str]] = [
    ("Security", r"secur|\bciso\b|infosec|cyber|\bsoc\b"),
    (
        "Data & analytics",
        r"\bdata\b|analytic|\bbi\b|business intelligence|insight|statistic|\bcdo\b",
    ),
    (
        "Sales",
        r"sales|account executive|account manager|business development|\bbdr\b|\bsdr\b|\bcro\b",
    ),
    (
        "IT & engineering",
        r"engineer|develop|software|devops|\bit\b|information technology|infrastructure|"
        r"cloud|system|network|architect|technolog|\bcto\b|\bcio\b|platform|programm",
    ),
    ("Finance", r"financ|\bcfo\b|accountant|accounting|controller|treasur|procurement|purchas"),
    ("Marketing", r"marketing|\bcmo\b|brand|growth|demand gen|communications|content"),
    ("Operations", r"operation|\bcoo\b|\bops\b|supply chain|logistic"),
    ("HR", r"\bhr\b|human resources|people|talent|recruit"),
    ("General management", r"\bceo\b|founder|owner|president|managing director|general manager"),
]

EMAIL_TYPES = ["corporate", "free", "disposable", "role", "education", "invalid", "missing"]
_EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$"
_EDU_RE = r"(\.edu|\.ac\.[a-z]{2}|\.edu\.[a-z]{2})$|^(student|students|stud|alumni)\."


def _clean(expr: pl.Expr) -> pl.Expr:
    """Lower case, trimmed, internal whitespace (also newlines) collapsed; blank → null."""
    text = expr.cast(pl.String).str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def seniority(title: pl.Expr) -> pl.Expr:
    """C-level / VP / Director / Manager / Individual contributor / Student / Unknown."""
    t = _clean(title)
    expr: Any = pl.when(t.is_null()).then(pl.lit("Unknown"))
    for level, pattern in SENIORITY_RULES:
        expr = expr.when(t.str.contains(pattern)).then(pl.lit(level))
    return expr.otherwise(pl.lit("Individual contributor"))


def job_function(title: pl.Expr) -> pl.Expr:
    """The department a title belongs to; "Other" when no rule matches, "Unknown" without title."""
    t = _clean(title)
    expr: Any = pl.when(t.is_null()).then(pl.lit("Unknown"))
    for name, pattern in FUNCTION_RULES:
        expr = expr.when(t.str.contains(pattern)).then(pl.lit(name))
    return expr.otherwise(pl.lit("Other"))


def email_domain(email: pl.Expr) -> pl.Expr:
    """The lower-cased domain of an e-mail address (null when there is no '@')."""
    e = _clean(email)
    return pl.when(e.str.contains("@")).then(e.str.split("@").list.last())


def email_domain_type(email: pl.Expr) -> pl.Expr:
    """corporate / free / disposable / role / education / invalid / missing."""
    e = _clean(email)
    domain = e.str.split("@").list.last()
    local = e.str.split("@").list.first()
    return (
        pl.when(e.is_null())
        .then(pl.lit("missing"))
        .when(~e.str.contains(_EMAIL_RE))
        .then(pl.lit("invalid"))
        .when(domain.is_in(list(disposable_domains())))
        .then(pl.lit("disposable"))
        .when(domain.is_in(list(free_mail_domains())))
        .then(pl.lit("free"))
        .when(domain.str.contains(_EDU_RE))
        .then(pl.lit("education"))
        .when(local.is_in(list(role_local_parts())))
        .then(pl.lit("role"))
        .otherwise(pl.lit("corporate"))
    )


def website_domain(website: pl.Expr) -> pl.Expr:
    """'https://www.Acme.com/about' → 'acme.com' (accounts keep websites in many shapes)."""
    w = _clean(website)
    return (
        w.str.replace(r"^[a-z]+://", "").str.replace(r"^www\d?\.", "").str.replace(r"[/?#:].*$", "")
    )


def country_code(country: pl.Expr) -> pl.Expr:
    """ISO 3166-1 alpha-2 code from the many ways a country is written; null when unknown."""
    lookup = country_lookup()
    key = (
        country.cast(pl.String)
        .str.replace_all(".", "", literal=True)
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .str.to_lowercase()
        .str.replace(r"^the ", "")
    )
    return key.replace_strict(lookup, default=None, return_dtype=pl.String)


def region(code: pl.Expr) -> pl.Expr:
    """Sales region (NA, EMEA, APAC, LATAM) of an alpha-2 code."""
    return code.replace_strict(country_regions(), default=None, return_dtype=pl.String)


def _short_money(value: float) -> str:
    for div, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= div:
            return f"${value / div:g}{unit}"
    return f"${value:g}"


def band_labels(edges: list[float], *, money: bool = False) -> list[str]:
    """Human labels for the bands between edges: '1-49', '50-199', ..., '5,000+'."""
    if money:
        labels = [f"<{_short_money(edges[0])}"]
        labels += [
            f"{_short_money(a)}-{_short_money(b)}" for a, b in zip(edges, edges[1:], strict=False)
        ]
        return labels + [f"{_short_money(edges[-1])}+"]
    labels = [f"1-{int(edges[0]) - 1:,}"]
    labels += [f"{int(a):,}-{int(b) - 1:,}" for a, b in zip(edges, edges[1:], strict=False)]
    return labels + [f"{int(edges[-1]):,}+"]


def band(value: pl.Expr, edges: list[float], *, money: bool = False) -> pl.Expr:
    """The band label of a number (null stays null): a when/then chain over a few edges."""
    labels = band_labels(edges, money=money)
    expr: Any = pl.when(value.is_null()).then(pl.lit(None, dtype=pl.String))
    for edge, label in zip(edges, labels, strict=False):
        expr = expr.when(value < edge).then(pl.lit(label))
    return expr.otherwise(pl.lit(labels[-1]))
