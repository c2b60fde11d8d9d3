"""Country, state and region: ISO 3166 codes from the many ways CRMs spell them (pycountry).

Countries are matched on a folded key (no case, accents, dots or spaces), so 'U.S.', 'usa' and
'United States of America' all become US. Lookups run once per distinct value.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import polars as pl
import pycountry

# Common spellings pycountry does not know: local names, abbreviations, former names.
BUILTIN_COUNTRY_ALIASES: dict[str, str] = {
    "America": "US", "United States of America": "US", "U.S.A.": "US", "U.S.": "US",
    "Estados Unidos": "US", "Vereinigte Staaten": "US", "Etats-Unis": "US",
    "UK": "GB", "U.K.": "GB", "Great Britain": "GB", "Britain": "GB", "England": "GB",
    "Scotland": "GB", "Wales": "GB", "Northern Ireland": "GB", "Grossbritannien": "GB",
    "Royaume-Uni": "GB", "Reino Unido": "GB", "Vereinigtes Königreich": "GB",
    "Deutschland": "DE", "Allemagne": "DE", "Alemania": "DE", "Germania": "DE",
    "Bundesrepublik Deutschland": "DE", "Österreich": "AT", "Oesterreich": "AT",
    "Schweiz": "CH", "Suisse": "CH", "Svizzera": "CH", "Switzerland": "CH",
    "Holland": "NL", "The Netherlands": "NL", "Nederland": "NL", "Pays-Bas": "NL",
    "België": "BE", "Belgique": "BE", "Belgien": "BE", "España": "ES", "Espagne": "ES",
    "Spanien": "ES", "Italia": "IT", "Italien": "IT", "Sverige": "SE", "Schweden": "SE",
    "Norge": "NO", "Norwegen": "NO", "Danmark": "DK", "Dänemark": "DK", "Suomi": "FI",
    "Polska": "PL", "Polen": "PL", "Česko": "CZ", "Czech Republic": "CZ", "Tschechien": "CZ",
    "Magyarország": "HU", "Ελλάδα": "GR", "Hellas": "GR", "Éire": "IE", "Republic of Ireland": "IE",
    "Frankreich": "FR", "Russia": "RU", "Россия": "RU", "Turkey": "TR", "Türkei": "TR",
    "UAE": "AE", "U.A.E.": "AE", "Emirates": "AE", "KSA": "SA", "Saudi": "SA",
    "Brasil": "BR", "Brasilien": "BR", "México": "MX", "Mexiko": "MX", "Perú": "PE",
    "PRC": "CN", "P.R.C.": "CN", "Mainland China": "CN", "中国": "CN", "中華人民共和國": "CN",
    "日本": "JP", "Nippon": "JP", "Nihon": "JP", "South Korea": "KR", "Korea": "KR",
    "Republic of Korea": "KR", "대한민국": "KR", "한국": "KR", "North Korea": "KP",
    "Taiwan": "TW", "台灣": "TW", "Hong Kong SAR": "HK", "香港": "HK", "Macau": "MO",
    "Vietnam": "VN", "Laos": "LA", "Burma": "MM", "Brunei": "BN", "East Timor": "TL",
    "Iran": "IR", "Syria": "SY", "Palestine": "PS", "Bolivia": "BO", "Venezuela": "VE",
    "Tanzania": "TZ", "Moldova": "MD", "Macedonia": "MK", "Ivory Coast": "CI",
    "Cape Verde": "CV", "Swaziland": "SZ", "Vatican": "VA", "Vatican City": "VA",
    "Micronesia": "FM", "Congo-Kinshasa": "CD", "DRC": "CD", "DR Congo": "CD",
    "Congo-Brazzaville": "CG", "St Lucia": "LC", "St Kitts and Nevis": "KN",
    "St Vincent and the Grenadines": "VC", "Trinidad": "TT", "Bosnia": "BA",
    "Russland": "RU", "Indien": "IN", "Bharat": "IN",
}  # fmt: skip

GEO_SCHEMA = {"country_clean": pl.String, "country_code": pl.String}
STATE_SCHEMA = {"state_clean": pl.String, "country_code": pl.String, "state_code": pl.String}


def fold_key(value: str) -> str:
    """Letters and digits only, accent-free and case-folded: 'U.S.A.' → 'usa'."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "", stripped.casefold())


@cache
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                index.setdefault(fold_key(value), country.alpha_2)
    for alias, code in BUILTIN_COUNTRY_ALIASES.items():
        index[fold_key(alias)] = code
    return index


def country_code(value: str, aliases: dict[str, str]) -> str | None:
    """ISO 3166-1 alpha-2 code for a country spelling, or null if it is not recognised.

    Configured aliases win over built-in ones, which win over pycountry's names and codes.
    """
    key = fold_key(value)
    if not key:
        return None
    for alias, code in aliases.items():
        if fold_key(alias) == key:
            return code
    return _country_index().get(key)


def country_codes(values: pl.Series, aliases: dict[str, str]) -> pl.DataFrame:
    """Distinct cleaned country values → `country_code` (null when unknown)."""
    unique = values.drop_nulls().unique().sort().to_list()
    return pl.DataFrame(
        {"country_clean": unique, "country_code": [country_code(v, aliases) for v in unique]},
        schema=GEO_SCHEMA,
    )


@cache
def _state_index(country: str) -> dict[str, str]:
    """Folded code ('ca', 'usca') and name ('california') → ISO 3166-2 code for one country.

    Top-level subdivisions win when a name is used twice (e.g. a region and a district).
    """
    subdivisions = sorted(
        pycountry.subdivisions.get(country_code=country) or [],
        key=lambda s: (s.parent_code is not None, s.code),
    )
    index: dict[str, str] = {}
    for sub in subdivisions:
        suffix = sub.code.split("-", 1)[1]
        for value in (sub.code, suffix, sub.name):
            index.setdefault(fold_key(value), sub.code)
    return index


def state_code(value: str, country: str | None) -> str | None:
    """ISO 3166-2 code ('US-CA') for a state spelling within its country, else null."""
    if not country:
        return None
    return _state_index(country).get(fold_key(value))


def has_subdivisions(country: str) -> bool:
    """True when pycountry lists subdivisions for the country (so a state can be checked)."""
    return bool(_state_index(country))


def state_codes(pairs: pl.DataFrame) -> pl.DataFrame:
    """Distinct (state_clean, country_code) → `state_code` and whether it could be checked."""
    unique = (
        pairs.select("state_clean", "country_code")
        .filter(pl.col("state_clean").is_not_null())
        .unique()
        .sort(["state_clean", "country_code"], nulls_last=True)
    )
    states = unique["state_clean"].to_list()
    countries = unique["country_code"].to_list()
    codes = [state_code(s, c) for s, c in zip(states, countries, strict=True)]
    checkable = [bool(c) and has_subdivisions(c) for c in countries]
    return unique.with_columns(
        pl.Series("state_code", codes, dtype=pl.String),
        pl.Series("state_checkable", checkable, dtype=pl.Boolean),
    )


def region_frame(regions: dict[str, str]) -> pl.DataFrame:
    """The country → region map as a frame to join on `country_code`."""
    codes = sorted(regions)
    return pl.DataFrame(
        {"country_code": codes, "region": [regions[c] for c in codes]},
        schema={"country_code": pl.String, "region": pl.String},
    )
