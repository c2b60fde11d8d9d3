"""verify as a whole: exclusions, required fields, outputs, conservation, errors, summary."""

from __future__ import annotations

import logging
from datetime import date

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal
from pydantic import ValidationError
from stages.verify_frames import account, lead, rating, ratings_frame, run

from leadctl.config.verify import DEFAULT_CHECKS, VerifyConfig, load_reference_lists
from leadctl.errors import InputError
from leadctl.schemas import empty_frame
from leadctl.stages.verify import ADDED_COLUMNS, FAILURE_COLUMNS, FIXES, summarize, verify


def _fails(result) -> dict[str, str]:
    return dict(zip(result.failures["lead_id"], result.failures["failed_checks"], strict=True))


def test_a_clean_lead_is_verified_with_normalised_fields() -> None:
    result = run([lead("L1")], accounts=[account("A1", owner_id="U7", named_account=True)])
    assert result.failures.is_empty()
    row = result.verified.row(0, named=True)
    assert {k: row[k] for k in ADDED_COLUMNS} == {
        "email_normalized": "l1@acme.com",
        "phone_e164": "+14155552671",
        "country_code": "US",
        "region": "NA",
        "state_code": "US-CA",
        "matched_account_id": "A1",
        "account_match_method": "domain",
        "account_match_score": 100.0,
        "account_owner_id": "U7",
        "named_account": True,
        "company": "Acme Inc.",
        "industry": "Technology",
        "employees": 500,
        "owner_id": "U9",
        "verify_warnings": [],
    }
    # The ratings columns come first and unchanged (list columns too).
    assert result.verified.columns[:8] == [
        "lead_id", "product_group", "fit_score", "rating", "action", "sla_tier", "is_mql",
        "reasons_for",
    ]  # fmt: skip
    assert row["reasons_for"] == ["title"]


def test_only_mql_rows_enter_and_every_row_leaves_exactly_once() -> None:
    leads = [lead(f"L{i}") for i in range(1, 7)]
    leads[1]["do_not_contact"] = True
    leads[2]["email"] = "info@acme.com"
    ratings = [rating(r["lead_id"]) for r in leads] + [
        rating("L1", "Cloud", is_mql=False),
        rating("L2", "Cloud", is_mql=None),
        rating("L3", "Cloud"),
        rating("L99"),  # not in the leads table
    ]
    result = run(leads, ratings=ratings)
    assert result.rows_in == 8
    assert result.verified.height + result.failures.height == 8
    keys_ok = set(result.verified.select("lead_id", "product_group").rows())
    keys_bad = set(result.failures.select("lead_id", "product_group").rows())
    assert not keys_ok & keys_bad
    assert keys_ok | keys_bad == {
        (r["lead_id"], r["product_group"]) for r in ratings if r["is_mql"]
    }
    assert _fails(result) == {"L2": "do_not_contact", "L3": "role_email", "L99": "unknown_lead"}
    assert result.failures.filter(pl.col("lead_id") == "L3")["product_group"].to_list() == [
        "Analytics",
        "Cloud",
    ]


def test_exclusions() -> None:
    leads = [
        lead("L1", do_not_contact=True),
        lead("L2", unsubscribed=True),
        lead("L3", email="kim@rivalsoft.com", company="RivalSoft Inc."),
        lead(
            "L4", email="kim@eu.rivalsoft.com", company="RivalSoft EU"
        ),  # a competitor's subdomain
        lead("L5", email="kim@partnerco.com", company="PartnerCo"),
        lead(
            "L6", email="kim@gmail.com", company="Rivalsoft", account_id="A9"
        ),  # competitor account
        lead("L7", do_not_contact=None, unsubscribed=None),  # unknown flags are not exclusions
    ]
    accounts = [account("A9", name="RivalSoft", domain="rivalsoft.com")]
    assert _fails(run(leads, accounts=accounts)) == {
        "L1": "do_not_contact",
        "L2": "unsubscribed",
        "L3": "competitor",
        "L4": "competitor",
        "L5": "partner",
        "L6": "competitor",
    }


@pytest.mark.parametrize(
    ("fields", "student"),
    [
        ({"title": "Student"}, True), ({"title": "MSc Student"}, True),
        ({"title": "Marketing Intern"}, True),
        ({"title": "PhD Candidate"}, True), ({"title": "International Sales Manager"}, False),
        ({"title": "Internal Audit Lead"}, False), ({"title": "Student Success Director"}, True),
        ({"occupation": "student"}, True), ({"occupation": "Professional"}, False),
        ({"email": "kim@student.uni-example.de"}, True),
        ({"email": "kim@students.stateu.edu"}, True),
        ({"email": "prof@stateu.edu"}, False),
    ],
)  # fmt: skip
def test_student_detection(fields: dict, student: bool) -> None:
    result = run([lead("L1", **fields)])
    assert _fails(result) == ({"L1": "student"} if student else {})


def test_consent_is_required_only_where_configured() -> None:
    eu = {"country": "France", "state": None, "phone": "+33 1 23 45 67 89"}
    leads = [
        lead("L1", consent=None, **eu),
        lead("L2", consent=False, **eu),
        lead("L3", consent=True, **eu),
        lead("L4", consent=None),  # United States: not in the list
    ]
    assert _fails(run(leads)) == {"L1": "no_consent", "L2": "no_consent"}
    cfg = VerifyConfig(consent_required_countries=["US"])
    assert _fails(run(leads, cfg=cfg)) == {"L4": "no_consent"}
    assert _fails(run(leads, cfg=VerifyConfig(checks={"no_consent": "off"}))) == {}


def test_required_fields_per_action_and_tier() -> None:
    cfg = VerifyConfig(
        required_fields={
            "fast_track": ["phone", "title"],
            "standard": ["first_name", "industry", "employees"],
        },
        required_fields_by_tier={"call_first": ["phone"]},
    )
    leads = [
        lead("L1", phone=None, title=None),
        lead("L2", first_name=" ", industry=None, employees=None),
        lead("L3", phone="n/a"),
        lead("L4", email=None, company=None, country=None, state=None),  # nothing else required
    ]
    ratings = [
        rating("L1", action="fast_track"),
        rating("L2"),
        rating("L3", sla_tier="call_first"),
        rating("L4"),
    ]
    assert _fails(
        run(leads, ratings=ratings, accounts=[account("A1", industry=None)], cfg=cfg)
    ) == {
        "L1": "missing_phone; missing_title",
        "L2": "missing_first_name; missing_industry",  # employees come from the account
        "L3": "missing_phone",  # 'n/a' is blank
    }


def test_failures_list_every_check_with_a_fix_in_a_stable_order() -> None:
    bad = {"email": "bad@", "phone": "12", "country": "Narnia", "title": "Intern"}
    result = run([lead("L1", do_not_contact=True, **bad)],
                 ratings=[rating("L1", action="fast_track")])  # fmt: skip
    row = result.failures.row(0, named=True)
    checks = row["failed_checks"].split("; ")
    assert checks == [
        "do_not_contact",
        "student",
        "invalid_email",
        "invalid_phone",
        "invalid_country",
    ]
    assert row["suggested_fixes"].split("; ") == [FIXES[c] for c in checks]
    assert result.failures.columns == FAILURE_COLUMNS
    assert row["duplicate_of"] is None and row["rating"] == "A1" and row["action"] == "fast_track"


def test_every_check_has_a_fix_text() -> None:
    from leadctl.stages.verify import CHECK_ORDER

    assert set(CHECK_ORDER) <= set(FIXES)
    assert set(DEFAULT_CHECKS) <= set(CHECK_ORDER)


def test_blank_values_are_configurable() -> None:
    result = run([lead("L1", company="-"), lead("L2", company="TBD"), lead("L3", company="Acme")],
                 cfg=VerifyConfig(blank_values=["tbd"]))  # fmt: skip
    assert _fails(result) == {"L2": "missing_company"}


def test_output_is_deterministic_and_independent_of_input_order() -> None:
    leads = [
        lead(f"L{i}", email="dup@acme.com" if i % 3 == 0 else f"p{i}@acme.com")
        for i in range(1, 10)
    ]
    ratings = [rating(r["lead_id"], g) for r in leads for g in ("Cloud", "Analytics")]
    a = run(leads, ratings=ratings, accounts=[account("A1")])
    b = run(list(reversed(leads)), ratings=list(reversed(ratings)), accounts=[account("A1")])
    assert_frame_equal(a.verified, b.verified)
    assert_frame_equal(a.failures, b.failures)
    assert a.verified.select("lead_id", "product_group").rows() == sorted(
        a.verified.select("lead_id", "product_group").rows()
    )


def test_ratings_without_required_columns_is_an_input_error() -> None:
    cfg = VerifyConfig()
    lists = load_reference_lists(cfg)
    empty = {t: empty_frame(t).lazy() for t in ("leads", "accounts", "opportunities", "activities")}
    bad = pl.DataFrame({"lead_id": ["L1"], "product_group": ["A"], "is_mql": [True]}).lazy()
    with pytest.raises(
        InputError, match=r"ratings.parquet lacks column\(s\) \['rating', 'action'\]"
    ):
        verify(bad, *empty.values(), cfg, lists, as_of=date(2026, 1, 1))
    dup = ratings_frame([rating("L1"), rating("L1")])
    with pytest.raises(
        InputError, match=r"repeated \(lead_id, product_group\), e.g. lead_id \['L1'\]"
    ):
        verify(dup, *empty.values(), cfg, lists, as_of=date(2026, 1, 1))


def test_mql_rows_without_keys_are_an_input_error() -> None:
    with pytest.raises(InputError, match="1 MQL rows without lead_id or product_group"):
        run([lead("L1")], ratings=[rating("L1"), rating("L1", None)])


def test_summary_counts_per_group() -> None:
    leads = [
        lead("L1"),
        lead("L2", do_not_contact=True),
        lead("L3", email="p@gmail.com", title="Intern"),
    ]
    ratings = [
        rating("L1"),
        rating("L2"),
        rating("L3"),
        rating("L1", "Cloud"),
        rating("L3", "Cloud"),
    ]
    summary = summarize(run(leads, ratings=ratings, accounts=[account("A1")]))
    assert summary == {
        "rows_in": 5,
        "verified": 2,
        "failed": 3,
        "groups": {
            "Analytics": {
                "rows_in": 3,
                "verified": 1,
                "failed": 2,
                "failed_checks": {"do_not_contact": 1, "student": 1},
                "warnings": {},
                "account_match": {"domain": 1},
            },
            "Cloud": {
                "rows_in": 2,
                "verified": 1,
                "failed": 1,
                "failed_checks": {"student": 1},
                "warnings": {},
                "account_match": {"domain": 1},
            },
        },
    }


def test_logs_carry_counts_not_personal_data(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="leadctl"):
        run(
            [
                lead(
                    "L1",
                    email="secret.person@acme.com",
                    first_name="Secretname",
                    phone="+1 415 555 2671",
                )
            ]
        )
    text = caplog.text
    assert "1 rows in, 1 verified, 0 failed" in text
    assert "secret" not in text.lower() and "2671" not in text


def test_config_rejects_unknown_checks_and_bad_patterns() -> None:
    with pytest.raises(ValidationError, match="unknown check"):
        VerifyConfig(checks={"dupe": "fail"})
    with pytest.raises(ValidationError, match="not a valid regex"):
        VerifyConfig(student_title_pattern="(unclosed")
    with pytest.raises(ValidationError):
        VerifyConfig(required_fields={"fast_track": ["fax"]})
    cfg = VerifyConfig.model_validate(
        yaml.safe_load("checks: {no_account_match: off, free_mail: fail}")
    )
    assert cfg.checks["no_account_match"] == "off" and cfg.checks["free_mail"] == "fail"
    assert cfg.checks["duplicate"] == "fail"  # unchanged checks keep their default
