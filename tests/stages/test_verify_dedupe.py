"""Duplicates: who is the same person, and the documented survivor rule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from stages.verify_frames import T0, account, lead, rating, run

from leadctl.config.verify import DedupeConfig, VerifyConfig

DAY = timedelta(days=1)


def _dups(result) -> dict[str, str]:
    rows = result.failures.filter(result.failures["failed_checks"].str.contains("duplicate"))
    return dict(zip(rows["lead_id"], rows["duplicate_of"], strict=True))


def _act(lead_id: str, days: int) -> dict:
    return {"lead_id": lead_id, "activity_type": "Visit Webpage", "occurred_at": T0 + days * DAY}


def test_same_email_in_other_case_and_spacing_is_a_duplicate() -> None:
    result = run(
        [
            lead("L1", email="Pat.Lee@Acme.com"),
            lead("L2", email="  pat.lee@acme.COM ", first_name="P."),
        ]
    )
    assert _dups(result) == {"L2": "L1"}
    assert result.verified["lead_id"].to_list() == ["L1"]
    assert result.failures.select("failed_checks", "suggested_fixes").row(0) == (
        "duplicate",
        "merge this lead into the survivor in duplicate_of",
    )


def test_survivor_is_the_most_recent_activity_first() -> None:
    leads = [
        lead("L1", email="pat@acme.com"),
        lead("L2", email="pat@acme.com"),
        lead("L3", email="pat@acme.com"),
    ]
    acts = [_act("L1", 3), _act("L2", 10), _act("L3", 5), _act("L3", 1)]
    assert _dups(run(leads, activities=acts)) == {"L1": "L2", "L3": "L2"}


def test_activity_after_as_of_does_not_count() -> None:
    leads = [lead("L1", email="pat@acme.com"), lead("L2", email="pat@acme.com")]
    acts = [_act("L1", 3), _act("L2", 400)]  # L2's activity is in the future of the run
    assert _dups(run(leads, activities=acts)) == {"L2": "L1"}


def test_then_the_most_complete_record() -> None:
    leads = [
        lead("L1", email="pat@acme.com", phone=None, title=None),
        lead("L2", email="pat@acme.com", phone=None),
        lead("L3", email="pat@acme.com"),
    ]
    assert _dups(run(leads)) == {"L1": "L3", "L2": "L3"}


def test_then_the_earliest_created_then_the_lowest_id() -> None:
    leads = [
        lead("L1", email="pat@acme.com", created_at=T0 + 5 * DAY),
        lead("L2", email="pat@acme.com", created_at=T0),
        lead("L3", email="pat@acme.com", created_at=T0),
    ]
    assert _dups(run(leads)) == {"L1": "L2", "L3": "L2"}


def test_survivor_order_is_configurable() -> None:
    leads = [
        lead("L1", email="pat@acme.com", created_at=T0 + DAY),
        lead("L2", email="pat@acme.com", created_at=T0),
    ]
    acts = [_act("L1", 10)]
    cfg = VerifyConfig(dedupe={"survivor_order": ["created_at"]})
    assert _dups(run(leads, activities=acts, cfg=cfg)) == {"L1": "L2"}
    assert cfg.dedupe.survivor_order == ["created_at", "lead_id"]  # lead_id always breaks ties
    with pytest.raises(ValidationError, match="survivor_order"):
        DedupeConfig(survivor_order=["created_at", "created_at"])
    with pytest.raises(ValidationError):
        DedupeConfig(survivor_order=["score"])


def test_same_name_and_company_or_account_is_a_duplicate() -> None:
    leads = [
        lead("L1", first_name="José", last_name="García", email="jose@acme.com"),
        lead(
            "L2", first_name="JOSE", last_name="garcia ", email="jgarcia@acme.com", company="ACME"
        ),
        lead(
            "L3",
            first_name="José",
            last_name="García",
            email="jose@gmail.com",
            company="Acme Incorporated",
        ),
        lead("L4", first_name="José", last_name="García", email="jg@other.org", company="Other Co"),
        lead(
            "L5", first_name=None, last_name="García", email="g@acme.com"
        ),  # no first name: no key
    ]
    acts = [_act("L1", 9)]
    assert _dups(run(leads, accounts=[account("A1")], activities=acts)) == {"L2": "L1", "L3": "L1"}


@pytest.mark.parametrize(
    ("first", "last", "first2", "last2"),
    [("伟", "王", "伟", "王"), ("Zoë", "Müller", "Zoe", "Muller"),
     ("Søren", "Øster", "søren", "ØSTER"), ("محمد", "حداد", "محمد", "حداد"),
     ("Ольга", "Иванова", "ольга", "иванова"),
     ("Seán", "O'Brien", "Sean", "OBrien"), ("Jean-Luc", "Picard", "Jean Luc", "Picard")],
)  # fmt: skip
def test_international_names_fold_to_the_same_key(
    first: str, last: str, first2: str, last2: str
) -> None:
    leads = [
        lead("L1", first_name=first, last_name=last, email="a1@acme.com"),
        lead("L2", first_name=first2, last_name=last2, email="a2@acme.com"),
    ]
    assert _dups(run(leads)) == {"L2": "L1"}


def test_duplicates_are_transitive() -> None:
    leads = [
        lead("L1", email="pat@acme.com", first_name="Pat", last_name="Lee"),
        lead("L2", email="pat@acme.com", first_name="Patricia", last_name="Lee"),  # L1 by e-mail
        lead("L3", email="patricia@acme.com", first_name="Patricia", last_name="Lee"),  # L2 by name
        lead("L4", email="other@acme.com", first_name="Sam", last_name="Ray"),
    ]
    acts = [_act("L3", 30)]
    assert _dups(run(leads, activities=acts)) == {"L1": "L3", "L2": "L3"}


def test_duplicates_are_found_within_a_product_group() -> None:
    leads = [lead("L1", email="pat@acme.com"), lead("L2", email="pat@acme.com")]
    result = run(
        leads, ratings=[rating("L1", "Analytics"), rating("L2", "Cloud"), rating("L1", "Cloud")]
    )
    assert result.failures.select("lead_id", "product_group", "duplicate_of").rows() == [
        ("L2", "Cloud", "L1")
    ]
    assert result.verified.select("lead_id", "product_group").rows() == [
        ("L1", "Analytics"),
        ("L1", "Cloud"),
    ]


def test_role_addresses_are_not_a_duplicate_key() -> None:
    cfg = VerifyConfig(checks={"role_email": "warn"})
    leads = [
        lead("L1", email="info@acme.com", first_name="Pat"),
        lead("L2", email="info@acme.com", first_name="Sam"),
    ]
    result = run(leads, cfg=cfg)
    assert result.failures.is_empty()
    assert result.verified["verify_warnings"].to_list() == [["role_email"], ["role_email"]]


def test_a_duplicate_lists_its_other_failures_too() -> None:
    leads = [
        lead("L1", email="pat@acme.com"),
        lead("L2", email="pat@acme.com", do_not_contact=True),
    ]
    assert run(leads).failures.select("lead_id", "failed_checks", "duplicate_of").rows() == [
        ("L2", "duplicate; do_not_contact", "L1")
    ]


def test_dedupe_rules_can_be_switched_off() -> None:
    leads = [lead("L1", email="pat@acme.com"), lead("L2", email="pat@acme.com")]
    assert run(
        leads, cfg=VerifyConfig(dedupe={"by_email": False, "by_name_and_company": False})
    ).failures.is_empty()
    assert run(leads, cfg=VerifyConfig(checks={"duplicate": "warn"})).verified[
        "verify_warnings"
    ].to_list() == [
        [],
        ["duplicate"],
    ]
