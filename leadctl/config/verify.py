"""Verify config: the data checks a lead must pass before it goes to a rep (verify).

Also loads the reference lists shipped in `leadctl/data/` (free-mail, disposable and role
addresses, the ISO country → region map): the config layer is where files are read, so the
stage receives plain frozensets and dicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

import pycountry
from pydantic import Field, field_validator, model_validator

from leadctl.config.base import StrictModel

Severity = Literal["fail", "warn", "off"]
Action = Literal["fast_track", "standard", "nurture", "disqualify"]
RequiredField = Literal[
    "email",
    "phone",
    "country",
    "state",
    "region",
    "company",
    "first_name",
    "last_name",
    "title",
    "industry",
    "employees",
    "account",
]
SurvivorKey = Literal["last_activity", "completeness", "created_at", "lead_id"]
FuzzyScorer = Literal["ratio", "token_sort_ratio", "token_set_ratio", "WRatio"]

# Every configurable check, in the order failures list them, with its default severity.
# fail: the row goes to verify_failures.csv; warn: it passes, named in verify_warnings;
# off: not checked.
DEFAULT_CHECKS: dict[str, Severity] = {
    "duplicate": "fail",
    "do_not_contact": "fail",
    "unsubscribed": "fail",
    "competitor": "fail",
    "partner": "fail",
    "student": "fail",
    "open_opportunity": "fail",
    "no_consent": "fail",
    "invalid_email": "fail",
    "disposable_email": "fail",
    "role_email": "fail",
    "free_mail": "warn",
    "invalid_phone": "warn",  # fails anyway where the action requires a phone
    "invalid_country": "fail",
    "invalid_state": "warn",
    "unknown_region": "fail",
    "no_account_match": "off",
    "country_from_account": "warn",
}

DEFAULT_SURVIVOR_ORDER: list[SurvivorKey] = [
    "last_activity",
    "completeness",
    "created_at",
    "lead_id",
]
DEFAULT_REQUIRED: dict[Action, list[RequiredField]] = {
    "fast_track": ["email", "phone", "country", "company"],
    "standard": ["email", "country", "company"],
}

# EU + EEA + UK + Switzerland: where opt-in consent is the usual legal basis for outreach.
DEFAULT_CONSENT_COUNTRIES = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    "IS", "LI", "NO", "GB", "CH",
]  # fmt: skip

DEFAULT_LEGAL_SUFFIXES = [
    "inc", "incorporated", "llc", "llp", "lp", "corp", "corporation", "co", "company", "ltd",
    "limited", "plc", "gmbh", "ag", "kg", "gmbh co kg", "ug", "se", "sa", "sas", "sarl", "sl",
    "bv", "nv", "pty", "pte", "pvt", "private", "kk", "ltda", "srl", "spa", "sro", "oy", "ab",
    "as", "asa", "aps", "sp z oo", "de cv", "sab", "fze", "fzco", "bhd", "sdn bhd", "tbk",
]  # fmt: skip

DEFAULT_BLANK_VALUES = [
    "", "n/a", "na", "n.a.", "none", "null", "nil", "nan", "unknown", "-", "--", "?", "tbd",
    "not provided", "not available", "x", "xx", "xxx", "0",
]  # fmt: skip


def _alpha2(code: str, where: str) -> str:
    value = code.strip().upper()
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(
            f"{where}: {code!r} is not an ISO 3166-1 alpha-2 country code (e.g. DE, US)"
        )
    return value


class AccountMatchConfig(StrictModel):
    """How a lead finds its account: account id, then e-mail domain, then company name."""

    use_account_id: bool = True
    use_email_domain: bool = True
    use_company_name: bool = True
    fuzzy_threshold: float = Field(default=90.0, ge=0, le=100)
    fuzzy_scorer: FuzzyScorer = "token_sort_ratio"
    legal_suffixes: list[str] = Field(default_factory=lambda: list(DEFAULT_LEGAL_SUFFIXES))


class DedupeConfig(StrictModel):
    """Which leads count as the same person, and which one of them survives."""

    by_email: bool = True
    by_name_and_company: bool = True
    survivor_order: list[SurvivorKey] = Field(default_factory=lambda: list(DEFAULT_SURVIVOR_ORDER))

    @field_validator("survivor_order")
    @classmethod
    def _ends_with_id(cls, value: list[SurvivorKey]) -> list[SurvivorKey]:
        if len(set(value)) != len(value):
            raise ValueError("survivor_order has duplicates")
        # lead_id is unique, so ending with it makes the survivor deterministic.
        return [v for v in value if v != "lead_id"] + ["lead_id"]


class VerifyConfig(StrictModel):
    """What verify checks, how strictly, and the lists it checks against."""

    checks: dict[str, Severity] = Field(default_factory=lambda: dict(DEFAULT_CHECKS))
    required_fields: dict[Action, list[RequiredField]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_REQUIRED.items()}
    )
    required_fields_by_tier: dict[str, list[RequiredField]] = Field(default_factory=dict)
    blank_values: list[str] = Field(default_factory=lambda: list(DEFAULT_BLANK_VALUES))
    shipped_lists: bool = True
    extra_free_mail_domains: list[str] = Field(default_factory=list)
    extra_disposable_domains: list[str] = Field(default_factory=list)
    extra_role_local_parts: list[str] = Field(default_factory=list)
    phone_validation: Literal["valid", "possible"] = "valid"
    country_aliases: dict[str, str] = Field(default_factory=dict)
    default_regions: bool = True
    regions: dict[str, str] = Field(default_factory=dict)
    country_from_account: bool = True
    consent_required_countries: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CONSENT_COUNTRIES)
    )
    competitor_domains: list[str] = Field(default_factory=list)
    partner_domains: list[str] = Field(default_factory=list)
    student_title_pattern: str = (
        r"(?i)\b(student|intern|internship|trainee|apprentice|phd candidate|doctoral candidate"
        r"|graduate assistant|undergrad\w*)\b"
    )
    student_fields: dict[str, list[str]] = Field(
        default_factory=lambda: {"occupation": ["Student"]}
    )
    student_domain_patterns: list[str] = Field(default_factory=lambda: [r"(^|\.)students?\."])
    open_opportunity_scope: Literal["same_group", "any_group"] = "same_group"
    closed_opportunity_stages: list[str] = Field(
        default_factory=lambda: ["Closed Won", "Closed Lost", "Won", "Lost"]
    )
    account_match: AccountMatchConfig = Field(default_factory=AccountMatchConfig)
    dedupe: DedupeConfig = Field(default_factory=DedupeConfig)

    @field_validator("checks", mode="before")
    @classmethod
    def _bare_off(cls, value: object) -> object:
        # YAML 1.1 reads an unquoted `off` as false.
        if isinstance(value, dict):
            return {k: "off" if v is False else v for k, v in value.items()}
        return value

    @field_validator("checks")
    @classmethod
    def _merge_checks(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(value) - set(DEFAULT_CHECKS))
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; checks are {list(DEFAULT_CHECKS)}")
        return {**DEFAULT_CHECKS, **value}  # list only the checks you change

    @field_validator("consent_required_countries")
    @classmethod
    def _consent_codes(cls, value: list[str]) -> list[str]:
        return sorted({_alpha2(v, "consent_required_countries") for v in value})

    @field_validator("regions")
    @classmethod
    def _region_codes(cls, value: dict[str, str]) -> dict[str, str]:
        out = {}
        for code, region in value.items():
            if not str(region).strip():
                raise ValueError(f"regions.{code}: region name is empty")
            out[_alpha2(code, "regions")] = str(region).strip()
        return out

    @field_validator("country_aliases")
    @classmethod
    def _alias_codes(cls, value: dict[str, str]) -> dict[str, str]:
        return {alias: _alpha2(code, f"country_aliases.{alias}") for alias, code in value.items()}

    @field_validator(
        "competitor_domains",
        "partner_domains",
        "extra_free_mail_domains",
        "extra_disposable_domains",
    )
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return sorted({v.strip().lower().lstrip("@") for v in value if v.strip()})

    @field_validator("blank_values", "extra_role_local_parts")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return sorted({v.strip().lower() for v in value})

    @model_validator(mode="after")
    def _patterns_compile(self) -> VerifyConfig:
        for pattern in [self.student_title_pattern, *self.student_domain_patterns]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"student pattern {pattern!r} is not a valid regex: {exc}"
                ) from None
        return self


@dataclass(frozen=True)
class ReferenceLists:
    """The lists verify checks against: shipped files merged with the config's extras."""

    free_mail: frozenset[str]
    disposable: frozenset[str]
    role_local_parts: frozenset[str]
    regions: dict[str, str]


def _read_lines(name: str) -> list[str]:
    """Non-comment, non-empty lines of a shipped data file."""
    text = resources.files("leadctl").joinpath("data", name).read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@cache
def shipped_lists() -> tuple[
    frozenset[str], frozenset[str], frozenset[str], tuple[tuple[str, str], ...]
]:
    """The files in leadctl/data/, read once per process."""
    regions = tuple((line.split()[0], line.split()[1]) for line in _read_lines("regions.txt"))
    return (
        frozenset(d.lower() for d in _read_lines("free_mail_domains.txt")),
        frozenset(d.lower() for d in _read_lines("disposable_domains.txt")),
        frozenset(d.lower() for d in _read_lines("role_local_parts.txt")),
        regions,
    )


def load_reference_lists(cfg: VerifyConfig) -> ReferenceLists:
    """Shipped lists (unless `shipped_lists: false`) plus the config's extras and overrides."""
    free, disposable, roles, regions = shipped_lists()
    if not cfg.shipped_lists:
        free, disposable, roles = frozenset(), frozenset(), frozenset()
    region_map = dict(regions) if cfg.default_regions else {}
    region_map.update(cfg.regions)
    return ReferenceLists(
        free_mail=free | set(cfg.extra_free_mail_domains),
        disposable=disposable | set(cfg.extra_disposable_domains),
        role_local_parts=roles | set(cfg.extra_role_local_parts),
        regions=region_map,
    )
