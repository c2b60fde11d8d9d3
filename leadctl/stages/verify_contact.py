"""E-mail and phone checks: syntax and normal forms with email-validator and phonenumbers.

No network: e-mail deliverability is not checked, and free-mail / disposable / role addresses
are recognised from the reference lists. Each library call runs once per distinct value.
"""

from __future__ import annotations

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email

from leadctl.config.verify import ReferenceLists
from leadctl.stages.verify_text import registrable_domains

EMAIL_SCHEMA = {
    "email_clean": pl.String,
    "email_normalized": pl.String,
    "email_domain": pl.String,
    "email_registrable": pl.String,
    "email_free_mail": pl.Boolean,
    "email_disposable": pl.Boolean,
    "email_role": pl.Boolean,
}
PHONE_SCHEMA = {"phone_clean": pl.String, "country_code": pl.String, "phone_e164": pl.String}


def _email(value: str) -> tuple[str | None, str | None, str | None]:
    """(normalised address, domain, local part) or Nones when the syntax is not valid.

    The whole address is lower-cased: mailbox providers treat local parts case-insensitively in
    practice, and the same person typed twice must give the same key.
    """
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    text = text.strip().strip("<>").strip()
    try:
        info = validate_email(text, check_deliverability=False)
    except (EmailNotValidError, UnicodeError, ValueError):
        return None, None, None
    local = info.local_part.lower()
    domain = info.domain.lower()
    return f"{local}@{domain}", domain, local


# Addresses email-validator accepts unchanged but for case: a dot-atom local part of common
# characters and an ASCII host name ending in a letters-only top-level label. Anything else
# (quotes, Unicode, punycode, 'mailto:', ...) goes to the library.
_PLAIN_EMAIL = (
    r"^([A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
_LOCAL_MAX, _DOMAIN_MAX, _ADDRESS_MAX = 64, 253, 254


def _plain_emails(values: pl.Series) -> pl.DataFrame:
    """Columns email_clean, email_normalized, email_domain, email_local and `_plain` (whether
    the fast path decided the row; the others are null where it did not)."""
    from email_validator import SPECIAL_USE_DOMAIN_NAMES

    special = sorted({d.rsplit(".", 1)[-1] for d in SPECIAL_USE_DOMAIN_NAMES})
    parts = (
        pl.DataFrame({"email_clean": values})
        .with_columns(pl.col("email_clean").str.extract_groups(_PLAIN_EMAIL).alias("_parts"))
        .with_columns(
            pl.col("_parts").struct.field("1").str.to_lowercase().alias("_local"),
            pl.col("_parts").struct.field("2").str.to_lowercase().alias("_domain"),
        )
    )
    local, domain = pl.col("_local"), pl.col("_domain")
    plain = (
        local.is_not_null()
        & (local.str.len_chars() <= _LOCAL_MAX)
        & (domain.str.len_chars() <= _DOMAIN_MAX)
        & (pl.col("email_clean").str.len_chars() <= _ADDRESS_MAX)
        & ~domain.str.contains("--", literal=True)  # punycode and R-LDH labels: the library
        & ~domain.str.extract(r"([a-z]+)$").is_in(pl.Series(special, dtype=pl.String).implode())
    ).fill_null(False)
    return parts.with_columns(plain.alias("_plain")).select(
        "email_clean",
        pl.when("_plain").then(pl.concat_str(local, pl.lit("@"), domain)).alias("email_normalized"),
        pl.when("_plain").then(domain).alias("email_domain"),
        pl.when("_plain").then(local).alias("email_local"),
        "_plain",
    )


def classify_emails(values: pl.Series, lists: ReferenceLists) -> pl.DataFrame:
    """Distinct cleaned e-mails → normalised address, domains, and free/disposable/role flags.

    A domain counts as free-mail or disposable when it, or its registrable domain, is listed
    ('mail.yahoo.co.uk' → 'yahoo.co.uk'). A role address is one whose local part, without a
    '+tag', is listed (info@, sales+eu@). Invalid addresses get nulls everywhere. Plain ASCII
    addresses are parsed with polars (tested equal to email-validator); the rest by the library.
    """
    unique = values.drop_nulls().unique().sort()
    fast = _plain_emails(unique)
    rest = fast.filter(~pl.col("_plain"))["email_clean"].to_list()
    parsed = [_email(v) for v in rest]
    slow = pl.DataFrame(
        {
            "email_clean": rest,
            "email_normalized": [p[0] for p in parsed],
            "email_domain": [p[1] for p in parsed],
            "email_local": [p[2] for p in parsed],
        },
        schema={
            k: pl.String for k in ("email_clean", "email_normalized", "email_domain", "email_local")
        },
    )
    frame = pl.concat([fast.filter(pl.col("_plain")).drop("_plain"), slow]).sort("email_clean")
    domains = registrable_domains(frame["email_domain"]).rename(
        {"host": "email_domain", "registrable": "email_registrable"}
    )
    free = pl.Series(sorted(lists.free_mail), dtype=pl.String).implode()
    disposable = pl.Series(sorted(lists.disposable), dtype=pl.String).implode()
    roles = pl.Series(sorted(lists.role_local_parts), dtype=pl.String).implode()
    valid = pl.col("email_normalized").is_not_null()

    def listed(names: pl.Series) -> pl.Expr:
        return valid & (
            pl.col("email_domain").is_in(names)
            | pl.col("email_registrable").is_in(names).fill_null(False)
        )

    return (
        frame.join(domains, on="email_domain", how="left")
        .with_columns(
            listed(free).alias("email_free_mail"),
            listed(disposable).alias("email_disposable"),
            (valid & pl.col("email_local").str.split("+").list.first().is_in(roles)).alias(
                "email_role"
            ),
        )
        .select(list(EMAIL_SCHEMA))
        .cast(EMAIL_SCHEMA)  # type: ignore[arg-type]
    )


def _phone(value: str, region: str | None, strict: bool) -> str | None:
    """E.164 form of a phone, read in the lead's country unless it carries a '+' prefix.

    Extensions are dropped (E.164 has none). `strict` asks for a number that exists in the
    numbering plan (is_valid_number); otherwise a plausible length is enough (is_possible_number).
    """
    default = region if region in phonenumbers.SUPPORTED_REGIONS else None
    try:
        number = phonenumbers.parse(value, default)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number(number) if strict else phonenumbers.is_possible_number(number)
    if not ok:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(pairs: pl.DataFrame, *, strict: bool) -> pl.DataFrame:
    """Distinct (phone_clean, country_code) pairs → phone_e164 (null when not a usable number)."""
    unique = (
        pairs.select("phone_clean", "country_code")
        .filter(pl.col("phone_clean").is_not_null())
        .unique()
        .sort(["phone_clean", "country_code"], nulls_last=True)
    )
    phones = unique["phone_clean"].to_list()
    regions = unique["country_code"].to_list()
    e164 = [_phone(p, r, strict) for p, r in zip(phones, regions, strict=True)]
    return unique.with_columns(pl.Series("phone_e164", e164, dtype=pl.String)).cast(PHONE_SCHEMA)  # type: ignore[arg-type]
