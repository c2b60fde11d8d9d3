"""Lead-to-account matching (account id, domain, fuzzy name, ties) and open opportunities."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from stages.verify_frames import AS_OF, T0, account, lead, rating, run

from leadctl.config.verify import AccountMatchConfig, VerifyConfig
from leadctl.stages.verify_text import company_key, registrable_domain

SUFFIXES = tuple(AccountMatchConfig().legal_suffixes)


def _matches(result) -> list[tuple]:
    return result.verified.select(
        "lead_id", "matched_account_id", "account_match_method", "account_match_score"
    ).rows()


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Acme, Inc.", "acme"), ("ACME INC", "acme"), ("The Acme Company", "acme"),
        ("Müller GmbH & Co. KG", "muller"), ("Nexus Systems Pty Ltd", "nexus systems"),
        ("Grupo Bimbo S.A.B. de C.V.", "grupo bimbo"), ("Sony K.K.", "sony"),
        ("Smith, Jones & \"Partners\" LLC", "smith jones and partners"), ("Inc", "inc"),
        ("株式会社トヨタ", "株式会社トヨタ"), ("Société Générale S.A.", "societe generale"),
    ],
)  # fmt: skip
def test_company_keys_drop_case_accents_punctuation_and_legal_forms(raw: str, key: str) -> None:
    assert company_key(raw, SUFFIXES) == key


@pytest.mark.parametrize(
    ("raw", "domain"),
    [
        ("https://www.acme.co.uk/about", "acme.co.uk"), ("www.acme.com", "acme.com"),
        ("http://shop.acme.com.au", "acme.com.au"), ("ACME.COM", "acme.com"),
        ("info@acme.de", "acme.de"), ("localhost", None), ("http://10.0.0.1", None), ("", None),
    ],
)  # fmt: skip
def test_registrable_domain_works_offline(raw: str, domain: str | None) -> None:
    assert registrable_domain(raw) == domain


def test_match_order_account_id_then_domain_then_fuzzy_name() -> None:
    accounts = [
        account("A1", name="Acme, Inc.", domain="https://www.acme.com/"),
        account("A2", name="Globex Corporation", domain="globex.io"),
        account("A3", name="Initech GmbH", domain="initech.de"),
    ]
    result = run(
        [
            lead("L1", account_id="A2"),  # own account id wins over the acme.com e-mail
            lead(
                "L2", email="pat@sales.acme.com", company="Something Else"
            ),  # subdomain → acme.com
            lead(
                "L3", email="pat@gmail.com", company="INITECH"
            ),  # free-mail never matches by domain
            lead("L4", email="lee@gmail.com", company="Globex Corp."),
            lead("L5", email="pat@unknown.org", company="Umbrella"),
            lead("L6", account_id="A404", email="pat@initech.de"),  # unknown id falls through
        ],
        accounts=accounts,
    )
    assert _matches(result) == [
        ("L1", "A2", "account_id", 100.0),
        ("L2", "A1", "domain", 100.0),
        ("L3", "A3", "fuzzy_name", 100.0),
        ("L4", "A2", "fuzzy_name", 100.0),
        ("L5", None, "none", None),
        ("L6", "A3", "domain", 100.0),
    ]
    owners = result.verified.select("lead_id", "account_owner_id", "company").rows()
    assert owners[0] == ("L1", "U1", "Acme Inc.")  # the lead's own company name is kept


def test_fuzzy_threshold_and_score() -> None:
    accounts = [account("A1", name="Northwind Traders", domain=None)]
    leads = [
        lead("L1", email="a@x1.org", company="Northwind Trader"),  # one letter off
        lead("L2", email="b@x2.org", company="Northwind"),  # too different
        lead("L3", email="c@x3.org", company="Traders Northwind"),  # same words, other order
    ]
    result = run(leads, accounts=accounts)
    rows = {r[0]: r[1:] for r in _matches(result)}
    assert rows["L1"][0:2] == ("A1", "fuzzy_name") and 90 <= rows["L1"][2] < 100
    assert rows["L2"] == (None, "none", None)
    assert rows["L3"] == ("A1", "fuzzy_name", 100.0)  # token_sort_ratio ignores word order
    strict = run(
        leads, accounts=accounts, cfg=VerifyConfig(account_match={"fuzzy_threshold": 99.5})
    )
    assert [r[2] for r in _matches(strict)] == ["none", "none", "fuzzy_name"]
    plain = run(leads, accounts=accounts, cfg=VerifyConfig(account_match={"fuzzy_scorer": "ratio"}))
    assert [r[2] for r in _matches(plain)] == ["fuzzy_name", "none", "none"]


def test_ties_named_account_then_country_then_owner_then_lowest_id() -> None:
    def result_for(accounts: list[dict], **lead_fields) -> str | None:
        res = run(
            [lead("L1", email="p@gmail.com", company="Acme", **lead_fields)], accounts=accounts
        )
        return res.verified["matched_account_id"].item()

    same = {"name": "ACME Inc", "domain": None}
    assert result_for([account("A2", **same), account("A1", **same)]) == "A1"  # lowest id
    assert (
        result_for([account("A1", **same, owner_id=None), account("A2", **same)]) == "A2"
    )  # owned
    german = {"country": "Germany", "consent": True, "state": None, "phone": None}
    two = [account("A1", **same), account("A2", **same, country="Deutschland")]
    assert result_for(two, **german) == "A2"  # same country as the lead
    assert (
        result_for(
            [account("A1", **same, country="Germany"), account("A3", **same, named_account=True)]
        )
        == "A3"
    )
    # A higher fuzzy score beats a named account.
    assert (
        result_for(
            [account("A1", name="Acme"), account("A2", name="Acme Labs", named_account=True)]
        )
        == "A1"
    )


def test_domain_ties_use_the_same_rule_and_skip_free_mail_accounts() -> None:
    accounts = [
        account("A2", name="Acme EMEA", domain="acme.com", country="UK"),
        account("A1", name="Acme US", domain="www.acme.com", named_account=True),
        account("A9", name="Gmail user", domain="gmail.com"),
    ]
    result = run([lead("L1"), lead("L2", email="x@gmail.com", company="Solo")], accounts=accounts)
    assert _matches(result) == [("L1", "A1", "domain", 100.0), ("L2", None, "none", None)]
    assert result.verified["named_account"].to_list() == [True, False]


def test_match_steps_can_be_switched_off() -> None:
    cfg = VerifyConfig(account_match={"use_account_id": False, "use_email_domain": False})
    result = run(
        [lead("L1", account_id="A2", company="Acme")],
        accounts=[account("A1"), account("A2", name="Other")],
        cfg=cfg,
    )
    assert _matches(result) == [("L1", "A1", "fuzzy_name", 100.0)]


def test_no_account_match_can_be_required() -> None:
    cfg = VerifyConfig(checks={"no_account_match": "fail"})
    result = run(
        [lead("L1"), lead("L2", email="p@other.org", company="Other")],
        accounts=[account("A1")],
        cfg=cfg,
    )
    assert result.failures.select("lead_id", "failed_checks").rows() == [("L2", "no_account_match")]
    cfg = VerifyConfig(required_fields={"standard": ["email", "account"]})
    result = run(
        [lead("L1"), lead("L2", email="p@other.org", company="Other")],
        accounts=[account("A1")],
        cfg=cfg,
    )
    assert result.failures.select("lead_id", "failed_checks").rows() == [("L2", "missing_account")]


def _opp(opp_id: str, **fields) -> dict:
    base = {"opportunity_id": opp_id, "created_at": T0, "closed_at": None, "stage": "Proposal"}
    base.update(fields)
    return base


def test_open_opportunity_for_the_lead_or_its_account_fails() -> None:
    day = timedelta(days=1)
    as_of_dt = T0.replace(year=AS_OF.year, month=AS_OF.month, day=AS_OF.day)
    leads = [
        lead("L1", email="a@acme.com"),  # account A1 has an open Analytics deal
        lead("L2", email="b@globex.io", company="Globex"),  # its own open deal, no group
        lead(
            "L3",
            email="c@initech.de",
            company="Initech",
            country="Germany",
            consent=True,
            state=None,
            phone=None,
        ),
        lead("L4", email="d@hooli.com", company="Hooli"),  # deal closed yesterday
        lead("L5", email="e@pied.com", company="Pied"),  # deal created after as_of
        lead("L6", email="f@vandelay.com", company="Vandelay"),  # stage says closed
    ]
    accounts = [
        account("A1"),
        account("A3", name="Initech", domain="initech.de", country="DE"),
        account("A4", name="Hooli", domain="hooli.com"),
        account("A5", name="Pied", domain="pied.com"),
        account("A6", name="Vandelay", domain="vandelay.com"),
    ]
    opps = [
        _opp("O1", account_id="A1", product_group="Analytics"),
        _opp("O2", lead_id="L2"),
        _opp("O3", account_id="A3", product_group="Cloud"),  # other group: does not count
        _opp("O4", account_id="A4", closed_at=as_of_dt - day, stage="Closed Lost"),
        _opp("O5", account_id="A5", created_at=as_of_dt + 2 * day),
        _opp("O6", account_id="A6", stage="Closed Won"),
    ]
    result = run(leads, accounts=accounts, opportunities=opps)
    assert result.failures.select("lead_id", "failed_checks").rows() == [
        ("L1", "open_opportunity"),
        ("L2", "open_opportunity"),
    ]
    assert result.verified["lead_id"].to_list() == ["L3", "L4", "L5", "L6"]
    anyg = run(
        leads,
        accounts=accounts,
        opportunities=opps,
        cfg=VerifyConfig(open_opportunity_scope="any_group"),
    )
    assert anyg.failures["lead_id"].to_list() == ["L1", "L2", "L3"]


def test_open_opportunity_is_per_product_group() -> None:
    result = run(
        [lead("L1")],
        ratings=[rating("L1", "Analytics"), rating("L1", "Cloud")],
        accounts=[account("A1")],
        opportunities=[_opp("O1", account_id="A1", product_group="Cloud")],
    )
    assert result.verified.select("lead_id", "product_group").rows() == [("L1", "Analytics")]
    assert result.failures.select("lead_id", "product_group", "failed_checks").rows() == [
        ("L1", "Cloud", "open_opportunity")
    ]


def test_verified_takes_firmographics_from_the_account_when_the_lead_lacks_them() -> None:
    result = run(
        [lead("L1", industry=None, employees=None), lead("L2", email="p@acme.com", company=None)],
        accounts=[account("A1", industry="Retail", employees=1200)],
    )
    rows = result.verified.select("lead_id", "company", "industry", "employees").rows()
    assert rows == [("L1", "Acme Inc.", "Retail", 1200), ("L2", "Acme, Inc.", "Technology", 500)]
    assert result.verified.schema["account_match_score"] == pl.Float64
