"""E-mail and phone checks: normal forms, unusual-but-valid values, and what fails."""

from __future__ import annotations

import polars as pl
import pytest
from stages.verify_frames import lead, run

from leadctl.config.verify import VerifyConfig, load_reference_lists
from leadctl.stages.verify_contact import classify_emails, normalize_phones


@pytest.fixture(scope="module")
def lists():
    return load_reference_lists(VerifyConfig())


def _email_row(value: str, lists) -> dict:
    frame = classify_emails(pl.Series([value], dtype=pl.String), lists)
    return frame.row(0, named=True)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Jane.Doe@ACME.com", "jane.doe@acme.com"),
        ("jane+crm-2026@acme.com", "jane+crm-2026@acme.com"),
        ("o'brien@acme.ie", "o'brien@acme.ie"),
        ("first_last-x@sub.dept.acme.co.uk", "first_last-x@sub.dept.acme.co.uk"),
        ("José.García@acme.es", "josé.garcía@acme.es"),
        ("MÜLLER@bücher.de", "müller@bücher.de"),
        ("ivan@почта.рф", "ivan@почта.рф"),
        ("用户@例子.广告", "用户@例子.广告"),
        ("mailto:jane@acme.com", "jane@acme.com"),
        ("<jane@acme.com>", "jane@acme.com"),
        ("a@b.io", "a@b.io"),
    ],
)
def test_unusual_but_valid_emails_normalise(raw: str, normalized: str, lists) -> None:
    row = _email_row(raw, lists)
    assert row["email_normalized"] == normalized
    assert row["email_free_mail"] is False
    assert row["email_role"] is False


@pytest.mark.parametrize(
    "raw",
    ["jane", "jane@", "@acme.com", "jane@@acme.com", "jane..doe@acme.com", "jane@localhost",
     "jane@acme", "jane doe@acme.com", '"jane doe"@acme.com', "jane@acme.test", "jane@-acme.com"],
)  # fmt: skip
def test_invalid_emails_have_no_normal_form(raw: str, lists) -> None:
    row = _email_row(raw, lists)
    assert row["email_normalized"] is None
    assert row["email_free_mail"] is False and row["email_disposable"] is False


def test_free_mail_disposable_and_role_are_recognised(lists) -> None:
    values = [
        "pat@gmail.com",
        "pat@mail.yahoo.co.uk",  # a subdomain of a listed provider
        "pat@GMX.de",
        "pat@mailinator.com",
        "info@acme.com",
        "Sales+EU@acme.com",  # role with a +tag, any case
        "customer.service@acme.com",
        "it@acme.com",  # initials-like parts are people, not roles
        "pat@acme.com",
    ]
    frame = classify_emails(pl.Series(values), lists).sort("email_clean")
    got = {
        r["email_clean"]: (r["email_free_mail"], r["email_disposable"], r["email_role"])
        for r in frame.iter_rows(named=True)
    }
    assert got == {
        "pat@gmail.com": (True, False, False),
        "pat@mail.yahoo.co.uk": (True, False, False),
        "pat@GMX.de": (True, False, False),
        "pat@mailinator.com": (False, True, False),
        "info@acme.com": (False, False, True),
        "Sales+EU@acme.com": (False, False, True),
        "customer.service@acme.com": (False, False, True),
        "it@acme.com": (False, False, False),
        "pat@acme.com": (False, False, False),
    }
    assert frame.filter(pl.col("email_clean") == "pat@mail.yahoo.co.uk")[
        "email_registrable"
    ].item() == ("yahoo.co.uk")


def test_config_extends_the_shipped_lists() -> None:
    cfg = VerifyConfig(
        extra_free_mail_domains=["Example-Mail.com"],
        extra_disposable_domains=["burn.example"],
        extra_role_local_parts=["Kontakt"],
    )
    lists = load_reference_lists(cfg)
    frame = classify_emails(
        pl.Series(["a@example-mail.com", "b@burn.example", "kontakt@acme.de"]), lists
    ).sort("email_clean")
    assert frame["email_free_mail"].to_list() == [True, False, False]
    assert frame["email_disposable"].to_list() == [False, True, False]
    assert frame["email_role"].to_list() == [False, False, True]
    bare = load_reference_lists(VerifyConfig(shipped_lists=False))
    assert "gmail.com" not in bare.free_mail and not bare.role_local_parts


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("+1 415 555 2671", "US", "+14155552671"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671 ext. 204", "US", "+14155552671"),  # extension dropped
        ("1-800-FLOWERS", "US", "+18003569377"),  # vanity letters
        ("020 7946 0958", "GB", "+442079460958"),
        ("+44 (0)20 7946 0958", "GB", "+442079460958"),  # trunk 0 in brackets
        ("0049 30 901820", "DE", "+4930901820"),  # international prefix 00
        ("030 901820", "DE", "+4930901820"),
        ("+49 30 901820", None, "+4930901820"),  # no country needed with +cc
        ("+49 30 901820", "US", "+4930901820"),  # +cc wins over the lead's country
        ("01 23 45 67 89", "FR", "+33123456789"),
        ("090-1234-5678", "JP", "+819012345678"),
        ("(11) 91234-5678", "BR", "+5511912345678"),
        ("٠٥٠١٢٣٤٥٦٧", "AE", "+971501234567"),  # Arabic-Indic digits
    ],
)
def test_unusual_but_valid_phones_become_e164(raw: str, country: str | None, e164: str) -> None:
    pairs = pl.DataFrame(
        {"phone_clean": [raw], "country_code": [country]},
        schema={"phone_clean": pl.String, "country_code": pl.String},
    )
    assert normalize_phones(pairs, strict=True)["phone_e164"].to_list() == [e164]


@pytest.mark.parametrize(
    ("raw", "country"),
    [("555-CALL-NOW", "US"), ("12345", "US"), ("call me", "US"), ("000", "US"),
     ("+1 555 010 2030", "US"), ("030 901820", None), ("030 901820", "ZZ"), ("+999 1234", None)],
)  # fmt: skip
def test_invalid_phones_have_no_e164(raw: str, country: str | None) -> None:
    pairs = pl.DataFrame(
        {"phone_clean": [raw], "country_code": [country]},
        schema={"phone_clean": pl.String, "country_code": pl.String},
    )
    assert normalize_phones(pairs, strict=True)["phone_e164"].to_list() == [None]


def test_possible_validation_accepts_unassigned_ranges() -> None:
    pairs = pl.DataFrame({"phone_clean": ["+1 555 010 2030"], "country_code": ["US"]})
    assert normalize_phones(pairs, strict=False)["phone_e164"].to_list() == ["+15550102030"]
    assert normalize_phones(pairs, strict=True)["phone_e164"].to_list() == [None]


def test_phone_is_read_in_the_country_of_the_lead_through_verify() -> None:
    result = run(
        [
            lead("L1", country="Deutschland", state=None, phone="030 901820", consent=True),
            lead("L2", country="UK", state=None, phone="020 7946 0958", consent=True),
        ]
    )
    got = dict(zip(result.verified["lead_id"], result.verified["phone_e164"], strict=True))
    assert got == {"L1": "+4930901820", "L2": "+442079460958"}


def test_invalid_phone_warns_unless_the_action_needs_a_phone() -> None:
    result = run(
        [lead("L1", phone="call me"), lead("L2", phone="call me"), lead("L3", phone=None)],
        ratings=None,
    )
    assert result.failures.is_empty()
    assert result.verified["verify_warnings"].to_list() == [
        ["invalid_phone"],
        ["invalid_phone"],
        [],
    ]
    from stages.verify_frames import rating

    fast = run(
        [lead("L1", phone="call me"), lead("L2", phone=None), lead("L3")],
        ratings=[
            rating("L1", action="fast_track"),
            rating("L2", action="fast_track"),
            rating("L3", action="fast_track"),
        ],
    )
    assert dict(zip(fast.failures["lead_id"], fast.failures["failed_checks"], strict=True)) == {
        "L1": "invalid_phone",
        "L2": "missing_phone",
    }
    assert fast.verified["phone_e164"].to_list() == ["+14155552671"]


def test_email_checks_through_verify() -> None:
    result = run(
        [
            lead("L1", email="not-an-email"),
            lead("L2", email="pat@mailinator.com"),
            lead("L3", email="info@acme.com"),
            lead("L4", email="pat.lee@gmail.com"),
            lead("L5", email=" Pat.Lee@Acme.COM "),
            lead("L6", email="n/a"),
        ]
    )
    fails = dict(zip(result.failures["lead_id"], result.failures["failed_checks"], strict=True))
    assert fails == {
        "L1": "invalid_email",
        "L2": "disposable_email",
        "L3": "role_email",
        "L6": "missing_email",  # 'n/a' is a blank, and standard MQLs need an e-mail
    }
    ok = result.verified.select("lead_id", "email_normalized", "verify_warnings").rows()
    assert ok == [("L4", "pat.lee@gmail.com", ["free_mail"]), ("L5", "pat.lee@acme.com", [])]


def test_free_mail_can_be_made_to_fail() -> None:
    cfg = VerifyConfig(checks={"free_mail": "fail", "role_email": "off"})
    result = run([lead("L1", email="pat@gmail.com"), lead("L2", email="info@acme.com")], cfg=cfg)
    assert result.failures.select("lead_id", "failed_checks").rows() == [("L1", "free_mail")]
    assert result.failures["suggested_fixes"].to_list() == [
        "ask for a business e-mail (this is a free-mail address)"
    ]
    assert result.verified.select("lead_id", "verify_warnings").rows() == [("L2", [])]
