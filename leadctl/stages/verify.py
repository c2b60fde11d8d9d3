"""verify: check the data a rep needs on every MQL row, just before assignment.

Each (lead, product group) with `is_mql` enters and leaves in exactly one of two frames:
`verified` (ready for assignment, with normalised contact data and the account match) or
`failures` (the checks it failed and how to fix them). Per-value library work (e-mail, phone,
country, state, domain, fuzzy name) runs once per distinct value in the helper modules;
everything per row is a polars expression.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, get_args

import polars as pl

from leadctl.config.verify import DEFAULT_CHECKS, ReferenceLists, RequiredField, VerifyConfig
from leadctl.errors import InputError
from leadctl.schemas import columns_of
from leadctl.stages.verify_accounts import match_accounts, open_opportunities, prepare_accounts
from leadctl.stages.verify_contact import classify_emails, normalize_phones
from leadctl.stages.verify_dedupe import find_duplicates
from leadctl.stages.verify_geo import country_codes, region_frame, state_codes
from leadctl.stages.verify_text import cleaned, company_keys, folded, joined_names

log = logging.getLogger("leadctl.verify")

RATINGS_REQUIRED = ["lead_id", "product_group", "rating", "action", "is_mql"]
ADDED_COLUMNS = [
    "email_normalized",
    "phone_e164",
    "country_code",
    "region",
    "state_code",
    "matched_account_id",
    "account_match_method",
    "account_match_score",
    "account_owner_id",
    "named_account",
    "company",
    "industry",
    "employees",
    "owner_id",
    "verify_warnings",
]
FAILURE_COLUMNS = [
    "lead_id",
    "product_group",
    "rating",
    "action",
    "failed_checks",
    "suggested_fixes",
    "duplicate_of",
]
UNKNOWN_LEAD = "unknown_lead"

FIXES: dict[str, str] = {
    UNKNOWN_LEAD: "the lead is not in the leads export: re-export leads or re-run rate",
    "duplicate": "merge this lead into the survivor in duplicate_of",
    "do_not_contact": "marked do-not-contact: clear the flag only if the person asked for contact",
    "unsubscribed": "the lead opted out: keep it in marketing suppression, not with sales",
    "competitor": "the e-mail or account domain is a competitor's: disqualify the lead",
    "partner": "the e-mail or account domain is a partner's: route to the partner manager",
    "student": "student or intern: disqualify or move to a student programme",
    "open_opportunity": "an open deal exists for the lead or its account: hand to the deal's owner",
    "no_consent": "no consent recorded where the country requires it: get consent first",
    "invalid_email": "correct the e-mail address (its syntax is not valid)",
    "disposable_email": "ask for a business e-mail: the address is a throw-away mailbox",
    "role_email": "find the person's own address: a role mailbox (info@, sales@) is no one's",
    "free_mail": "ask for a business e-mail (this is a free-mail address)",
    "invalid_phone": "correct the phone number or add its country code (+49 30 ...)",
    "invalid_country": "write the country as a name or ISO code (e.g. Germany or DE)",
    "invalid_state": "write the state as a name or ISO 3166-2 code (e.g. California or CA)",
    "unknown_region": "add the country to verify.regions in the config",
    "no_account_match": "link the lead to its account (account id, company name or website)",
    "country_from_account": "fill in the lead's own country (taken from its account)",
}
REQUIRED_FIELDS: list[str] = list(get_args(RequiredField))
for _field in REQUIRED_FIELDS:
    FIXES.setdefault(
        f"missing_{_field}",
        f"fill in the lead's {_field.replace('_', ' ')} (required for its action)",
    )
CHECK_ORDER = [UNKNOWN_LEAD, *DEFAULT_CHECKS, *(f"missing_{f}" for f in REQUIRED_FIELDS)]


@dataclass(frozen=True)
class VerifyResult:
    """The two outputs; every entering row is in exactly one of them."""

    verified: pl.DataFrame
    failures: pl.DataFrame
    rows_in: int


def _conform(frame: pl.LazyFrame, table: str) -> pl.LazyFrame:
    """Add canonical columns a frame lacks (as nulls) and type all-null columns."""
    schema = frame.collect_schema()
    exprs = []
    for spec in columns_of(table):
        if spec.name not in schema:
            exprs.append(pl.lit(None, dtype=spec.dtype).alias(spec.name))
        elif schema[spec.name] == pl.Null:
            exprs.append(pl.col(spec.name).cast(spec.dtype))
    return frame.with_columns(exprs) if exprs else frame


def mql_rows(ratings: pl.LazyFrame) -> pl.DataFrame:
    """The rows that enter verify: is_mql true; one per (lead_id, product_group)."""
    schema = ratings.collect_schema()
    missing = [c for c in RATINGS_REQUIRED if c not in schema]
    if missing:
        raise InputError(
            f"ratings.parquet lacks column(s) {missing}: re-run `leadctl rate` to rebuild it"
        )
    extra = [] if "sla_tier" in schema else [pl.lit(None, dtype=pl.String).alias("sla_tier")]
    rows = (
        ratings.filter(pl.col("is_mql").fill_null(False))
        .with_columns(extra)
        .with_columns(pl.col("lead_id").cast(pl.String), pl.col("product_group").cast(pl.String))
        .collect()
    )
    nulls = rows.filter(pl.col("lead_id").is_null() | pl.col("product_group").is_null()).height
    if nulls:
        raise InputError(
            f"ratings.parquet has {nulls} MQL rows without lead_id or product_group: "
            "re-run `leadctl rate`"
        )
    dup = rows.filter(pl.struct("lead_id", "product_group").is_duplicated())
    if dup.height:
        ids = dup["lead_id"].unique().sort().head(5).to_list()
        raise InputError(
            f"ratings.parquet has {dup.height} rows with a repeated (lead_id, product_group), "
            f"e.g. lead_id {ids}: re-run `leadctl rate`"
        )
    return rows


def _people(
    leads: pl.LazyFrame,
    accounts: pl.LazyFrame,
    activities: pl.LazyFrame,
    ids: pl.Series,
    cfg: VerifyConfig,
    lists: ReferenceLists,
    as_of: date,
) -> pl.DataFrame:
    """One row per entering lead with every normalised field and per-lead flag."""
    blanks = cfg.blank_values
    student_cols = [c for c in cfg.student_fields if c in leads.collect_schema().names()]
    raw = (
        leads.filter(pl.col("lead_id").is_in(ids.implode()))
        .select(
            pl.col("lead_id").cast(pl.String),
            cleaned("email", blanks).alias("email_clean"),
            cleaned("phone", blanks).alias("phone_clean"),
            cleaned("country", blanks).alias("country_clean"),
            cleaned("state", blanks).alias("state_clean"),
            cleaned("company", blanks).alias("company_clean"),
            cleaned("first_name", blanks).alias("first_clean"),
            cleaned("last_name", blanks).alias("last_clean"),
            cleaned("title", blanks).alias("title_clean"),
            cleaned("account_id", blanks).alias("account_id_clean"),
            cleaned("industry", blanks).alias("industry_clean"),
            cleaned("owner_id", blanks).alias("owner_id"),
            pl.col("employees").cast(pl.Int64),
            "created_at",
            pl.col("do_not_contact").cast(pl.Boolean).fill_null(False),
            pl.col("unsubscribed").cast(pl.Boolean).fill_null(False),
            pl.col("consent").cast(pl.Boolean),
            *[cleaned(c, blanks).str.to_lowercase().alias(f"_student_{c}") for c in student_cols],
        )
        .collect()
    )
    if raw["lead_id"].is_duplicated().any():
        raise InputError("canonical leads repeat a lead_id: re-run `leadctl validate --force`")

    emails = classify_emails(raw["email_clean"], lists)
    countries = country_codes(raw["country_clean"], cfg.country_aliases).rename(
        {"country_code": "lead_country_code"}
    )
    companies = company_keys(raw["company_clean"], cfg.account_match.legal_suffixes).rename(
        {"company_raw": "company_clean"}
    )
    people = (
        raw.join(emails, on="email_clean", how="left")
        .join(countries, on="country_clean", how="left")
        .join(companies, on="company_clean", how="left")
    )
    acc = prepare_accounts(_conform(accounts, "accounts").collect(), cfg, lists)
    match = match_accounts(people, acc, cfg)
    people = people.join(match, on="lead_id", how="left").join(
        acc.select(
            pl.col("account_id").alias("matched_account_id"),
            "account_name",
            "account_domain",
            "account_owner_id",
            "named_account",
            "account_country_code",
            "account_industry",
            "account_employees",
        ),
        on="matched_account_id",
        how="left",
    )
    from_account = (
        pl.lit(cfg.country_from_account)
        & pl.col("country_clean").is_null()
        & pl.col("account_country_code").is_not_null()
    )
    people = people.with_columns(
        from_account.alias("country_from_account"),
        pl.when(from_account)
        .then(pl.col("account_country_code"))
        .otherwise(pl.col("lead_country_code"))
        .alias("country_code"),
    )
    phones = normalize_phones(
        people.select("phone_clean", "country_code"), strict=cfg.phone_validation == "valid"
    )
    states = state_codes(people.select("state_clean", "country_code"))
    end = pl.lit(as_of).cast(pl.Datetime("us", "UTC")) + pl.duration(days=1)
    last_activity = (
        _conform(activities, "activities")
        .filter(pl.col("lead_id").is_in(ids.implode()) & (pl.col("occurred_at") < end))
        .group_by(pl.col("lead_id").cast(pl.String))
        .agg(pl.col("occurred_at").max().alias("last_activity"))
        .collect()
    )
    people = (
        people.join(phones, on=["phone_clean", "country_code"], how="left", nulls_equal=True)
        .join(states, on=["state_clean", "country_code"], how="left", nulls_equal=True)
        .join(region_frame(lists.regions), on="country_code", how="left")
        .join(last_activity, on="lead_id", how="left")
    )
    # The person key feeds two dedupe keys: folded and joined once, as temporary columns.
    temp = ["_first_folded", "_last_folded", "_person"]
    people = people.with_columns(
        folded(pl.col("first_clean")).alias(temp[0]), folded(pl.col("last_clean")).alias(temp[1])
    ).with_columns(joined_names(pl.col(temp[0]), pl.col(temp[1])).alias(temp[2]))
    return people.with_columns(_people_flags(cfg, student_cols)).drop(temp).sort("lead_id")


def _people_flags(cfg: VerifyConfig, student_cols: list[str]) -> list[pl.Expr]:
    """Per-lead exclusion flags: competitor, partner, student, consent; and dedupe keys."""

    def domain_in(domains: list[str]) -> pl.Expr:
        listed = pl.Series(domains, dtype=pl.String).implode()
        return (
            pl.col("email_registrable").is_in(listed)
            | pl.col("email_domain").is_in(listed)
            | pl.col("account_domain").is_in(listed)
        ).fill_null(False)

    student = pl.col("title_clean").str.contains(cfg.student_title_pattern).fill_null(False)
    for pattern in cfg.student_domain_patterns:
        student = student | pl.col("email_domain").str.contains(pattern).fill_null(False)
    for col in student_cols:
        values = pl.Series([v.strip().lower() for v in cfg.student_fields[col]], dtype=pl.String)
        student = student | pl.col(f"_student_{col}").is_in(values.implode()).fill_null(False)
    consent_countries = pl.Series(cfg.consent_required_countries, dtype=pl.String).implode()
    person = pl.col("_person")  # name_key of first and last name, built by _people
    return [
        domain_in(cfg.competitor_domains).alias("is_competitor"),
        domain_in(cfg.partner_domains).alias("is_partner"),
        student.alias("is_student"),
        (
            pl.col("country_code").is_in(consent_countries).fill_null(False)
            & ~pl.col("consent").fill_null(False)
        ).alias("lacks_consent"),
        pl.when(~pl.col("email_role").fill_null(False))
        .then(pl.col("email_normalized"))
        .alias("dup_email"),
        pl.concat_str([person, pl.col("matched_account_id")], separator="|").alias(
            "dup_name_account"
        ),
        pl.concat_str([person, pl.col("company_key")], separator="|").alias("dup_name_company"),
    ]


def _field_status(field: str) -> tuple[pl.Expr, pl.Expr]:
    """(missing, unusable) for a required field: blank at source, or present but not usable."""
    null = pl.lit(False)
    value_cols = {
        "email": ("email_clean", "email_normalized"),
        "phone": ("phone_clean", "phone_e164"),
        "state": ("state_clean", "state_code"),
        "first_name": ("first_clean", "first_clean"),
        "last_name": ("last_clean", "last_clean"),
        "title": ("title_clean", "title_clean"),
        "account": ("matched_account_id", "matched_account_id"),
    }
    if field in value_cols:
        raw, usable = value_cols[field]
        return pl.col(raw).is_null(), pl.col(raw).is_not_null() & pl.col(usable).is_null()
    if field == "country":
        blank = pl.col("country_clean").is_null() & pl.col("country_code").is_null()
        return blank, pl.col("country_code").is_null() & ~blank
    if field == "company":
        return pl.col("company_clean").is_null() & pl.col("account_name").is_null(), null
    if field == "industry":
        return pl.col("industry_clean").is_null() & pl.col("account_industry").is_null(), null
    if field == "employees":
        return pl.col("employees").is_null() & pl.col("account_employees").is_null(), null
    raise ValueError(f"unknown required field {field}")  # region is handled by the caller


def _required(cfg: VerifyConfig, field: str) -> pl.Expr:
    """True on rows whose action or SLA tier requires `field`."""
    actions = [a for a, fields in cfg.required_fields.items() if field in fields]
    tiers = [t for t, fields in cfg.required_fields_by_tier.items() if field in fields]
    need = pl.col("action").cast(pl.String).is_in(pl.Series(actions, dtype=pl.String).implode())
    need = need | pl.col("sla_tier").cast(pl.String).is_in(
        pl.Series(tiers, dtype=pl.String).implode()
    )
    return need.fill_null(False)


def _conditions(cfg: VerifyConfig) -> tuple[dict[str, list[pl.Expr]], dict[str, pl.Expr]]:
    """(fail conditions per check name, warn condition per check name) for known leads."""
    fired: dict[str, pl.Expr] = {
        "duplicate": pl.col("duplicate_of").is_not_null(),
        "do_not_contact": pl.col("do_not_contact"),
        "unsubscribed": pl.col("unsubscribed"),
        "competitor": pl.col("is_competitor"),
        "partner": pl.col("is_partner"),
        "student": pl.col("is_student"),
        "open_opportunity": pl.col("open_opportunity"),
        "no_consent": pl.col("lacks_consent"),
        "invalid_email": pl.col("email_clean").is_not_null() & pl.col("email_normalized").is_null(),
        "disposable_email": pl.col("email_disposable"),
        "role_email": pl.col("email_role"),
        "free_mail": pl.col("email_free_mail"),
        "invalid_phone": pl.col("phone_clean").is_not_null() & pl.col("phone_e164").is_null(),
        "invalid_country": pl.col("country_clean").is_not_null()
        & pl.col("lead_country_code").is_null(),
        "invalid_state": pl.col("state_clean").is_not_null()
        & pl.col("state_checkable").fill_null(False)
        & pl.col("state_code").is_null(),
        "unknown_region": pl.col("country_code").is_not_null() & pl.col("region").is_null(),
        "no_account_match": pl.col("matched_account_id").is_null(),
        "country_from_account": pl.col("country_from_account"),
    }
    fails: dict[str, list[pl.Expr]] = {name: [] for name in CHECK_ORDER}
    warns: dict[str, pl.Expr] = {}
    for name, severity in cfg.checks.items():
        if severity == "fail":
            fails[name].append(fired[name].fill_null(False))
        elif severity == "warn":
            warns[name] = fired[name].fill_null(False)
    for field in REQUIRED_FIELDS:
        need = _required(cfg, field)
        if field == "region":
            missing_country, bad_country = _field_status("country")
            no_region = pl.col("region").is_null()
            fails["missing_country"].append(need & no_region & missing_country)
            fails["invalid_country"].append(need & no_region & bad_country)
            fails["unknown_region"].append(need & no_region & pl.col("country_code").is_not_null())
            continue
        missing, unusable = _field_status(field)
        fails[f"missing_{field}"].append(need & missing)
        if f"invalid_{field}" in fails:
            fails[f"invalid_{field}"].append(need & unusable)
    return fails, warns


def _checks(rows: pl.DataFrame, cfg: VerifyConfig) -> pl.DataFrame:
    """Add `failed` and `verify_warnings` (list[str], both in CHECK_ORDER) to every row.

    Each row's fired checks become one bit mask per list; the few distinct masks are turned
    into lists once and joined back (building a list per row is the slow part otherwise).
    """
    fails, warns = _conditions(cfg)
    unknown = pl.col("_known").is_null()
    fail_any = {n: pl.any_horizontal(c) for n, c in fails.items() if c}
    fail_items = [(UNKNOWN_LEAD, unknown)]
    fail_items += [(n, ~unknown & c) for n, c in fail_any.items()]
    warn_items = [(n, ~unknown & c & ~fail_any.get(n, pl.lit(False))) for n, c in warns.items()]

    def mask(items: list[tuple[str, pl.Expr]]) -> pl.Expr:
        if not items:
            return pl.lit(0, dtype=pl.Int64)
        return pl.sum_horizontal(
            pl.when(cond).then(pl.lit(1 << bit, dtype=pl.Int64)).otherwise(0)
            for bit, (_, cond) in enumerate(items)
        )

    if max(len(fail_items), len(warn_items)) > 62:  # pragma: no cover - more checks than bits
        raise RuntimeError("verify has more checks than a 64-bit mask holds")
    coded = rows.drop("failed", "verify_warnings", strict=False).with_columns(
        mask(fail_items).alias("_fail"), mask(warn_items).alias("_warn")
    )
    codes = coded.select("_fail", "_warn").unique().sort("_fail", "_warn")

    def names(items: list[tuple[str, pl.Expr]], code: int) -> list[str]:
        return [name for bit, (name, _) in enumerate(items) if code >> bit & 1]

    lists = codes.with_columns(
        pl.Series(
            "failed",
            [names(fail_items, c) for c in codes["_fail"].to_list()],
            dtype=pl.List(pl.String),
        ),
        pl.Series(
            "verify_warnings",
            [names(warn_items, c) for c in codes["_warn"].to_list()],
            dtype=pl.List(pl.String),
        ),
    )
    return coded.join(lists, on=["_fail", "_warn"], how="left", maintain_order="left").drop(
        "_fail", "_warn"
    )


def verify(
    ratings: pl.LazyFrame,
    leads: pl.LazyFrame,
    accounts: pl.LazyFrame,
    opportunities: pl.LazyFrame,
    activities: pl.LazyFrame,
    cfg: VerifyConfig,
    lists: ReferenceLists,
    *,
    as_of: date,
) -> VerifyResult:
    """Check every MQL row; return verified rows and failures (sorted by lead_id, product_group)."""
    entering = mql_rows(ratings)
    ids = entering["lead_id"].unique()
    people = _people(_conform(leads, "leads"), accounts, activities, ids, cfg, lists, as_of)
    rows = entering.join(
        people.with_columns(pl.lit(True).alias("_known")), on="lead_id", how="left", suffix="_lead"
    )
    known = rows.filter(pl.col("_known").is_not_null())
    dups = find_duplicates(known, people, cfg.dedupe)
    opp_input = rows.select(
        "lead_id",
        "product_group",
        pl.coalesce("matched_account_id", "account_id_clean").alias("account_key"),
    ).lazy()
    opps = open_opportunities(
        opp_input, _conform(opportunities, "opportunities"), cfg, as_of
    ).select("lead_id", "product_group", "open_opportunity")
    rows = (
        rows.join(dups, on=["lead_id", "product_group"], how="left")
        .join(opps.collect(), on=["lead_id", "product_group"], how="left")
        .pipe(_checks, cfg)
        .sort("lead_id", "product_group")
    )
    passed = rows.filter(pl.col("failed").list.len() == 0)
    failed = rows.filter(pl.col("failed").list.len() > 0)
    result = VerifyResult(
        verified=_verified_frame(passed, entering.columns),
        failures=_failure_frame(failed),
        rows_in=entering.height,
    )
    if result.verified.height + result.failures.height != result.rows_in:
        raise RuntimeError("verify lost or duplicated rows: please report this as a bug")
    log.info(
        "verify: %d rows in, %d verified, %d failed",
        result.rows_in,
        result.verified.height,
        result.failures.height,
    )
    return result


def _verified_frame(rows: pl.DataFrame, rating_cols: list[str]) -> pl.DataFrame:
    """Ratings columns for the row, then the normalised fields and the account match."""
    keep = [c for c in rating_cols if c not in ADDED_COLUMNS]
    return rows.select(
        *keep,
        "email_normalized",
        "phone_e164",
        "country_code",
        "region",
        "state_code",
        "matched_account_id",
        "account_match_method",
        "account_match_score",
        "account_owner_id",
        pl.col("named_account").fill_null(False),
        pl.coalesce("company_clean", "account_name").alias("company"),
        pl.coalesce("industry_clean", "account_industry").alias("industry"),
        pl.coalesce("employees", "account_employees").alias("employees"),
        "owner_id",
        "verify_warnings",
    )


def _failure_frame(rows: pl.DataFrame) -> pl.DataFrame:
    """One line per failed row for marketing ops: checks, fixes, and the duplicate survivor."""
    fixes = pl.col("failed").list.eval(pl.element().replace_strict(FIXES, return_dtype=pl.String))
    return rows.select(
        "lead_id",
        "product_group",
        pl.col("rating").cast(pl.String),
        pl.col("action").cast(pl.String),
        pl.col("failed").list.join("; ").alias("failed_checks"),
        fixes.list.join("; ").alias("suggested_fixes"),
        pl.when(pl.col("failed").list.contains("duplicate"))
        .then(pl.col("duplicate_of"))
        .otherwise(None)
        .alias("duplicate_of"),
    )


def summarize(result: VerifyResult) -> dict[str, Any]:
    """JSON-able counts: rows in, verified, failed, failed checks and warnings per product group."""
    groups = sorted(
        set(result.verified["product_group"].drop_nulls().to_list())
        | set(result.failures["product_group"].drop_nulls().to_list())
    )
    per_group: dict[str, Any] = {}
    for group in groups:
        ok = result.verified.filter(pl.col("product_group") == group)
        bad = result.failures.filter(pl.col("product_group") == group)
        checks = (
            bad.select(pl.col("failed_checks").str.split("; ").explode().alias("check"))
            .group_by("check")
            .len()
            .sort("check")
        )
        warns = (
            ok.select(pl.col("verify_warnings").explode().drop_nulls().alias("check"))
            .group_by("check")
            .len()
            .sort("check")
        )
        methods = ok.group_by("account_match_method").len().sort("account_match_method")
        per_group[group] = {
            "rows_in": ok.height + bad.height,
            "verified": ok.height,
            "failed": bad.height,
            "failed_checks": dict(
                zip(checks["check"].to_list(), checks["len"].to_list(), strict=True)
            ),
            "warnings": dict(zip(warns["check"].to_list(), warns["len"].to_list(), strict=True)),
            "account_match": dict(
                zip(
                    methods["account_match_method"].to_list(), methods["len"].to_list(), strict=True
                )
            ),
        }
    return {
        "rows_in": result.rows_in,
        "verified": result.verified.height,
        "failed": result.failures.height,
        "groups": per_group,
    }
