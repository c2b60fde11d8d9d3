"""Country, state and region normalisation (pycountry + the shipped region map)."""

from __future__ import annotations

import polars as pl
import pycountry
import pytest
from pydantic import ValidationError
from stages.verify_frames import lead, rating, run

from leadctl.config.verify import VerifyConfig, load_reference_lists
from leadctl.stages.verify_geo import country_code, country_codes, state_code, state_codes


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("United States", "US"), ("USA", "US"), ("U.S.", "US"), ("u.s.a.", "US"), ("US", "US"),
        ("united states of america", "US"), ("America", "US"), ("UK", "GB"), ("U.K.", "GB"),
        ("Great Britain", "GB"), ("England", "GB"), ("GB", "GB"), ("Deutschland", "DE"),
        ("germany", "DE"), ("DEU", "DE"), ("The Netherlands", "NL"), ("Holland", "NL"),
        ("España", "ES"), ("Espana", "ES"), ("México", "MX"), ("Brasil", "BR"), ("日本", "JP"),
        ("PRC", "CN"), ("UAE", "AE"), ("South Korea", "KR"), ("Korea, Republic of", "KR"),
        ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Türkiye", "TR"), ("Turkey", "TR"),
        ("Côte d'Ivoire", "CI"), ("Cote d'Ivoire", "CI"), ("Ivory Coast", "CI"),
        ("CA", "CA"), ("CAN", "CA"), ("Österreich", "AT"), ("Schweiz", "CH"),
    ],
)  # fmt: skip
def test_country_spellings_become_iso_alpha2(raw: str, code: str) -> None:
    assert country_code(raw, {}) == code


@pytest.mark.parametrize("raw", ["Narnia", "Europe", "XX", "12", "---", "Californiaa"])
def test_unknown_countries_have_no_code(raw: str) -> None:
    assert country_code(raw, {}) is None


def test_configured_aliases_win() -> None:
    assert country_code("Bundesrepublik", {"Bundesrepublik": "DE"}) == "DE"
    assert country_code("England", {"england": "IE"}) == "IE"  # folded, case-insensitive
    frame = country_codes(pl.Series(["USA", None, "Narnia", "USA"]), {})
    assert frame.rows() == [("Narnia", None), ("USA", "US")]


def test_alias_config_rejects_codes_that_are_not_iso() -> None:
    with pytest.raises(ValidationError, match="not an ISO 3166-1 alpha-2"):
        VerifyConfig(country_aliases={"Atlantis": "AT1"})
    with pytest.raises(ValidationError, match="consent_required_countries"):
        VerifyConfig(consent_required_countries=["EU"])


@pytest.mark.parametrize(
    ("raw", "country", "code"),
    [
        ("CA", "US", "US-CA"), ("California", "US", "US-CA"), ("california", "US", "US-CA"),
        ("US-CA", "US", "US-CA"), ("ON", "CA", "CA-ON"), ("Québec", "CA", "CA-QC"),
        ("Quebec", "CA", "CA-QC"), ("NSW", "AU", "AU-NSW"), ("Bayern", "DE", "DE-BY"),
        ("Île-de-France", "FR", "FR-IDF"), ("Scotland", "GB", "GB-SCT"),
    ],
)  # fmt: skip
def test_states_become_iso_3166_2(raw: str, country: str, code: str) -> None:
    assert state_code(raw, country) == code


def test_state_is_only_read_within_its_country() -> None:
    assert state_code("CA", None) is None
    frame = state_codes(
        pl.DataFrame(
            {"state_clean": ["CA", "CA", "Atlantis"], "country_code": ["US", "CA", "US"]},
        )
    ).sort("state_clean", "country_code")
    assert frame.rows() == [
        ("Atlantis", "US", None, True),
        ("CA", "CA", None, True),
        ("CA", "US", "US-CA", True),
    ]


def test_every_iso_country_has_a_region_in_the_shipped_map() -> None:
    regions = load_reference_lists(VerifyConfig()).regions
    codes = {c.alpha_2 for c in pycountry.countries}
    assert codes <= set(regions)
    assert set(regions.values()) == {"NA", "EMEA", "APAC", "LATAM"}
    sample = ("US", "CA", "MX", "BR", "GB", "DE", "AE", "ZA", "JP", "IN", "AU", "SG")
    assert [regions[c] for c in sample] == [
        "NA", "NA", "LATAM", "LATAM", "EMEA", "EMEA", "EMEA", "EMEA",
        "APAC", "APAC", "APAC", "APAC",
    ]  # fmt: skip


def test_region_overrides_and_an_empty_default_map() -> None:
    lists = load_reference_lists(VerifyConfig(regions={"mx": "NA"}))
    assert lists.regions["MX"] == "NA" and lists.regions["BR"] == "LATAM"
    only = load_reference_lists(VerifyConfig(default_regions=False, regions={"DE": "DACH"}))
    assert only.regions == {"DE": "DACH"}


def test_geo_through_verify() -> None:
    result = run(
        [
            lead("L1", country="U.S.", state="California"),
            lead("L2", country="Deutschland", state="Bayern", phone="+49 89 123456", consent=True),
            lead("L3", country="Narnia"),
            lead("L4", country="USA", state="Atlantis"),
            lead("L5", country=None, state=None),
            lead("L6", country="Japan", state=None, phone="+81 3-1234-5678"),
        ]
    )
    ok = result.verified.select(
        "lead_id", "country_code", "region", "state_code", "verify_warnings"
    ).rows()
    assert ok == [
        ("L1", "US", "NA", "US-CA", []),
        ("L2", "DE", "EMEA", "DE-BY", []),
        ("L4", "US", "NA", None, ["invalid_state"]),
        ("L6", "JP", "APAC", None, []),
    ]
    fails = dict(zip(result.failures["lead_id"], result.failures["failed_checks"], strict=True))
    assert fails == {"L3": "invalid_country", "L5": "missing_country"}


def test_unknown_region_fails_when_the_map_lacks_the_country() -> None:
    cfg = VerifyConfig(default_regions=False, regions={"US": "Americas"})
    result = run([lead("L1"), lead("L2", country="France", state=None, consent=True)], cfg=cfg)
    assert result.verified["region"].to_list() == ["Americas"]
    assert result.failures.select("lead_id", "failed_checks").rows() == [("L2", "unknown_region")]


def test_state_can_be_required_per_sla_tier() -> None:
    cfg = VerifyConfig(required_fields_by_tier={"hot": ["state", "region"]})
    result = run(
        [lead("L1", state=None), lead("L2", state="Atlantis"), lead("L3", state=None)],
        ratings=[rating("L1"), rating("L2"), rating("L3", sla_tier="warm")],
        cfg=cfg,
    )
    fails = dict(zip(result.failures["lead_id"], result.failures["failed_checks"], strict=True))
    assert fails == {"L1": "missing_state", "L2": "invalid_state"}
    assert result.verified["lead_id"].to_list() == ["L3"]


def test_country_from_account_fills_a_blank_country() -> None:
    from stages.verify_frames import account

    result = run(
        [
            lead("L1", country=None, state=None, phone="030 901820", consent=True),
            lead("L2", country=None, state=None, email="p@other.org", company=None),
            lead("L3", country=None, state=None, phone=None),  # Germany requires consent
        ],
        accounts=[account("A1", country="Germany")],
    )
    assert result.verified.select(
        "lead_id", "country_code", "region", "phone_e164", "verify_warnings"
    ).rows() == [
        ("L1", "DE", "EMEA", "+4930901820", ["country_from_account"])  # phone read as German
    ]
    assert result.failures.select("lead_id", "failed_checks").rows() == [
        ("L2", "missing_country; missing_company"),
        ("L3", "no_consent"),
    ]
    off = run(
        [lead("L1", country=None, state=None)],
        accounts=[account("A1")],
        cfg=VerifyConfig(country_from_account=False),
    )
    assert off.failures.select("lead_id", "failed_checks").rows() == [("L1", "missing_country")]
