"""E-mail and phone checks: syntax and normal forms with email-validator and phonenumbers.

No network: e-mail deliverability is not checked, and free-mail / disposable / role addresses
are recognised from the reference lists. Each library call runs once per distinct value.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
import polars as pl
from email_validator import EmailNotValidError, validate_email
from phonenumbers import PhoneMetadata

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


_PLUS_PHONE = r"^\+([1-9][0-9]*(?: [0-9]+)*)$"  # '+', digits and single spaces only


def _full(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _desc_matches(nsn: pl.Expr, desc: Any) -> pl.Expr:
    """phonenumbers' _is_number_matching_desc: possible length, then a full pattern match."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    ok = nsn.str.contains(_full(desc.national_number_pattern))
    if desc.possible_length:
        ok = ok & nsn.str.len_chars().is_in(list(desc.possible_length))
    return ok


def _desc_pattern(nsn: pl.Expr, desc: Any) -> pl.Expr:
    """phonenumbers' _match_national_number: a full pattern match, no length check."""
    if desc is None or not desc.national_number_pattern:
        return pl.lit(False)
    return nsn.str.contains(_full(desc.national_number_pattern))


def _has_type(nsn: pl.Expr, meta: Any) -> pl.Expr:
    """phonenumbers' _number_type_helper(...) != UNKNOWN."""
    kinds = [
        meta.premium_rate, meta.toll_free, meta.shared_cost, meta.voip, meta.personal_number,
        meta.pager, meta.uan, meta.voicemail, meta.fixed_line,
    ]  # fmt: skip
    if not meta.same_mobile_and_fixed_line_pattern:
        kinds.append(meta.mobile)
    return _desc_matches(nsn, meta.general_desc) & pl.any_horizontal(
        [_desc_matches(nsn, d) for d in kinds]
    )


def _is_valid(nsn: pl.Expr, code: int) -> pl.Expr:
    """phonenumbers.is_valid_number for numbers of calling code `code` (national number `nsn`
    without leading zeros): the region the number belongs to, then its number types."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]

    def valid_in(region: str) -> pl.Expr:
        meta = PhoneMetadata.metadata_for_region_or_calling_code(code, region.upper())
        if meta is None or (
            region != phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY
            and code != phonenumbers.country_code_for_valid_region(region)
        ):
            return pl.lit(False)
        return _has_type(nsn, meta)

    if len(regions) == 1:
        return valid_in(regions[0])
    result: pl.Expr = pl.lit(False)
    for region in reversed(regions):  # the first region that claims the number decides
        meta = PhoneMetadata.metadata_for_region(region.upper(), None)
        if meta is None:
            continue
        if meta.leading_digits is not None:
            claims = nsn.str.contains(f"^(?:{meta.leading_digits})")
        else:
            claims = _has_type(nsn, meta)
        result = pl.when(claims).then(valid_in(region)).otherwise(result)
    return result


def _plus_phones(unique: pl.DataFrame) -> pl.DataFrame:
    """phone_e164 for '+CC digits' numbers the library would read without stripping a national
    prefix, with `_plain` telling which rows were decided (tested equal to `_phone`)."""
    digits = pl.col("phone_clean").str.extract(_PLUS_PHONE).str.replace_all(" ", "", literal=True)
    frame = unique.with_columns(digits.alias("_digits"), pl.lit(None, dtype=pl.Int64).alias("_cc"))
    for width in (3, 2, 1):  # the shortest known calling code wins, as in the library
        head = pl.col("_digits").str.slice(0, width)
        known = head.cast(pl.Int64, strict=False).is_in(
            pl.Series(sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE), dtype=pl.Int64).implode()
        ) & (pl.col("_digits").str.len_chars() > width)
        frame = frame.with_columns(
            pl.when(known).then(head.cast(pl.Int64)).otherwise(pl.col("_cc")).alias("_cc")
        )
    frame = frame.with_columns(
        pl.col("_digits").str.slice(pl.col("_cc").cast(pl.String).str.len_chars()).alias("_nsn")
    )
    nsn = pl.col("_nsn")
    simple = (
        pl.col("_cc").is_not_null()
        & (pl.col("_digits").str.len_chars() > 2)
        & nsn.str.len_chars().is_between(2, 17)
        & ~nsn.str.starts_with("0")
    ).fill_null(False)
    frame = frame.with_columns(simple.alias("_plain"))
    e164 = pl.concat_str(pl.lit("+"), pl.col("_cc").cast(pl.String), nsn)
    parts = [
        frame.filter(~pl.col("_plain")).select(
            "phone_clean",
            "country_code",
            pl.lit(None, dtype=pl.String).alias("phone_e164"),
            "_plain",
        )
    ]
    for (code,), part in frame.filter("_plain").partition_by("_cc", as_dict=True).items():
        meta = PhoneMetadata.metadata_for_region_or_calling_code(
            code, phonenumbers.region_code_for_country_code(code)
        )
        try:
            prefix = meta.national_prefix_for_parsing if meta is not None else None
            strips = nsn.str.contains(f"^(?:{prefix})") if prefix else pl.lit(False)
            part = part.with_columns((~strips).alias("_plain"), _is_valid(nsn, code).alias("_ok"))
        except pl.exceptions.ComputeError:  # a pattern the polars regex engine does not take
            part = part.with_columns(pl.lit(False).alias("_plain"), pl.lit(False).alias("_ok"))
        parts.append(
            part.select(
                "phone_clean",
                "country_code",
                pl.when(pl.col("_plain") & pl.col("_ok")).then(e164).alias("phone_e164"),
                "_plain",
            )
        )
    return pl.concat(parts)


_NATIONAL_PHONE = r"^(?:\([0-9]{2,4}\) ?)?[0-9]+(?:[ -][0-9]+)*$"  # '(030) 123-45 67'


def _national_phones(unique: pl.DataFrame) -> pl.DataFrame:
    """phone_e164 for national-format numbers (digits, spaces, dashes, an area code in
    brackets) in a supported region, read as phonenumbers.parse does: no international prefix,
    not starting with the region's calling code, the national prefix stripped when the number
    still fits the plan, no national-prefix transform and no leading zero left; `_plain` tells
    which rows were decided (tested equal to `_phone`)."""
    digits = pl.col("phone_clean").str.replace_all(r"[^0-9]", "")
    frame = unique.with_columns(
        pl.when(pl.col("phone_clean").str.contains(_NATIONAL_PHONE)).then(digits).alias("_digits")
    )
    usable = (
        pl.col("_digits").str.len_chars().is_between(4, 17)
        & pl.col("country_code").is_in(
            pl.Series(sorted(phonenumbers.SUPPORTED_REGIONS), dtype=pl.String).implode()
        )
    ).fill_null(False)
    parts = [
        frame.filter(~usable).select(
            "phone_clean",
            "country_code",
            pl.lit(None, dtype=pl.String).alias("phone_e164"),
            pl.lit(False).alias("_plain"),
        )
    ]
    number = pl.col("_digits")
    for (region,), part in frame.filter(usable).partition_by("country_code", as_dict=True).items():
        meta = PhoneMetadata.metadata_for_region(region, None)
        general = meta.general_desc if meta is not None else None
        if meta is None or general is None or not general.possible_length:
            parts.append(
                part.select(
                    *parts[0].columns[:2],
                    pl.lit(None, dtype=pl.String).alias("phone_e164"),
                    pl.lit(False).alias("_plain"),
                )
            )
            continue
        try:
            plain = ~number.str.starts_with(str(meta.country_code))
            if meta.international_prefix:
                plain = plain & ~number.str.contains(f"^(?:{meta.international_prefix})")
            prefix = meta.national_prefix_for_parsing
            nsn = number
            if prefix:
                head = number.str.extract(f"^((?:{prefix}))", 1)
                if meta.national_prefix_transform_rule:
                    plain = plain & head.is_null()
                else:
                    rest = number.str.slice(head.str.len_chars())
                    keep = head.is_not_null() & ~(
                        _desc_pattern(number, general) & ~_desc_pattern(rest, general)
                    )
                    stripped = pl.when(keep).then(rest).otherwise(number)
                    size = stripped.str.len_chars()
                    lengths = list(general.possible_length)
                    fits = ~size.is_in(list(general.possible_length_local_only or ())) & (
                        size.is_in(lengths) | (size > max(lengths))
                    )
                    nsn = pl.when(keep & fits).then(rest).otherwise(number)
            part = part.with_columns(nsn.alias("_nsn")).with_columns(
                (
                    plain
                    & pl.col("_nsn").str.len_chars().is_between(2, 17)
                    & ~pl.col("_nsn").str.starts_with("0")
                ).alias("_plain"),
                _is_valid(pl.col("_nsn"), int(meta.country_code or 0)).alias("_ok"),
            )
        except pl.exceptions.ComputeError:  # a pattern the polars regex engine does not take
            part = part.with_columns(
                pl.lit(False).alias("_plain"), pl.lit(False).alias("_ok"), number.alias("_nsn")
            )
        e164 = pl.concat_str(pl.lit(f"+{meta.country_code}"), pl.col("_nsn"))
        parts.append(
            part.select(
                "phone_clean",
                "country_code",
                pl.when(pl.col("_plain") & pl.col("_ok")).then(e164).alias("phone_e164"),
                pl.col("_plain").fill_null(False),
            )
        )
    return pl.concat(parts)


def normalize_phones(pairs: pl.DataFrame, *, strict: bool) -> pl.DataFrame:
    """Distinct (phone_clean, country_code) pairs → phone_e164 (null when not a usable number).

    With strict validation, '+CC ...' numbers are checked with polars against the library's
    metadata (`_plus_phones`); the rest by phonenumbers itself.
    """
    unique = (
        pairs.select("phone_clean", "country_code")
        .filter(pl.col("phone_clean").is_not_null())
        .unique()
        .sort(["phone_clean", "country_code"], nulls_last=True)
    )
    if strict:
        plus = _plus_phones(unique)
        national = _national_phones(plus.filter(~pl.col("_plain")).select(unique.columns))
        done = pl.concat([plus.filter("_plain"), national.filter("_plain")]).drop("_plain")
        unique = national.filter(~pl.col("_plain")).select("phone_clean", "country_code")
    phones = unique["phone_clean"].to_list()
    regions = unique["country_code"].to_list()
    e164 = [_phone(p, r, strict) for p, r in zip(phones, regions, strict=True)]
    slow = unique.with_columns(pl.Series("phone_e164", e164, dtype=pl.String))
    if strict:
        slow = pl.concat([done.cast(PHONE_SCHEMA), slow.cast(PHONE_SCHEMA)]).sort(  # type: ignore[arg-type]
            ["phone_clean", "country_code"], nulls_last=True
        )
    return slow.cast(PHONE_SCHEMA)  # type: ignore[arg-type]
