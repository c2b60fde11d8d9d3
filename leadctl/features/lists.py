"""Shipped reference lists (free-mail and disposable domains, role mailboxes, countries, regions).

Read once per process from `leadctl/data/`; plain text so a team can extend them in review.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

import pycountry

# Spellings CRMs collect that ISO names and codes do not cover (normalised keys, see country_key).
_COUNTRY_ALIASES = {
    "usa": "US",
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "great britain": "GB",
    "britain": "GB",
    "deutschland": "DE",
    "holland": "NL",
    "españa": "ES",
    "espana": "ES",
    "brasil": "BR",
    "méxico": "MX",
    "日本": "JP",
    "prc": "CN",
    "people's republic of china": "CN",
    "中国": "CN",
    "uae": "AE",
    "emirates": "AE",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "russia": "RU",
    "czech republic": "CZ",
    "vietnam": "VN",
    "taiwan": "TW",
    "iran": "IR",
    "turkey": "TR",
    "turkiye": "TR",
    "schweiz": "CH",
    "suisse": "CH",
    "österreich": "AT",
    "italia": "IT",
    "nederland": "NL",
    "belgique": "BE",
    "belgië": "BE",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
    "hong kong": "HK",
    "ivory coast": "CI",
    "macedonia": "MK",
    "laos": "LA",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "palestine": "PS",
    "vatican": "VA",
    "burma": "MM",
    "swaziland": "SZ",
    "cape verde": "CV",
    "east timor": "TL",
}


def _lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of a shipped list (inline `# ...` comments allowed)."""
    text = resources.files("leadctl").joinpath("data", name).read_text(encoding="utf-8")
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@lru_cache(maxsize=1)
def free_mail_domains() -> tuple[str, ...]:
    return tuple(sorted({d.lower() for d in _lines("free_mail_domains.txt")}))


@lru_cache(maxsize=1)
def disposable_domains() -> tuple[str, ...]:
    return tuple(sorted({d.lower() for d in _lines("disposable_domains.txt")}))


@lru_cache(maxsize=1)
def role_local_parts() -> tuple[str, ...]:
    return tuple(sorted({d.lower() for d in _lines("role_local_parts.txt")}))


@lru_cache(maxsize=1)
def country_regions() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → sales region (NA, EMEA, APAC, LATAM), from data/regions.txt."""
    out: dict[str, str] = {}
    for line in _lines("regions.txt"):
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0].upper()] = parts[1]
    return out


def country_key(text: str) -> str:
    """How a country spelling is compared: lower case, no dots, single spaces, no leading 'the'."""
    key = re.sub(r"\s+", " ", text.replace(".", "").strip().lower())
    return key[4:] if key.startswith("the ") else key


@lru_cache(maxsize=1)
def country_lookup() -> dict[str, str]:
    """Every known spelling (ISO names, codes, common names, aliases) → alpha-2 code."""
    out: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("alpha_2", "alpha_3", "name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                out.setdefault(country_key(value), code)
        # "Korea, Republic of" is also written "Republic of Korea".
        if ", " in country.name:
            head, tail = country.name.split(", ", 1)
            out.setdefault(country_key(f"{tail} {head}"), code)
    out.update({country_key(k): v for k, v in _COUNTRY_ALIASES.items()})
    return out
