"""The polars e-mail and phone fast paths agree with email-validator and phonenumbers."""

from __future__ import annotations

import phonenumbers
import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadctl.config.verify import ReferenceLists
from leadctl.stages.verify_contact import (
    _email,
    _phone,
    _plain_emails,
    classify_emails,
    normalize_phones,
)

_label = st.text(alphabet="abZ09-", min_size=0, max_size=8) | st.sampled_from(
    ["xn--bcher-kva", "ab--cd", "a" * 63, "a" * 64, "com", "local", "test", "Onion", "arpa"]
)
_domain = st.lists(_label, min_size=1, max_size=4).map(".".join) | st.sampled_from(
    ["example.com", "mail.yahoo.co.uk", "localhost", "x.invalid", "a.b.c.d.e.f.g.io", "1.2.3.4",
     "[127.0.0.1]", "münchen.de", "ACME.COM", "acme.c0m", "acme.co1", "-acme.com", "acme-.com",
     ("a" * 60 + ".") * 5 + "com"]
)  # fmt: skip
_local = st.text(alphabet="aZ09._+-!#'\"() \\", min_size=0, max_size=10) | st.sampled_from(
    ["first.last", ".lead", "trail.", "two..dots", "x" * 64, "x" * 65, "ünï", '"quoted"', "a b"]
)
_address = st.tuples(_local, st.sampled_from(["@", "@@", "", "＠"]), _domain).map("".join)
_wrapped = st.tuples(
    st.sampled_from(["", "mailto:", "MAILTO:", "<", " "]), _address, st.sampled_from(["", ">", " "])
).map("".join)


def _check(values: list[str]) -> None:
    fast = _plain_emails(pl.Series(values, dtype=pl.String)).filter(pl.col("_plain"))
    for value, norm, domain, local in fast.select(
        "email_clean", "email_normalized", "email_domain", "email_local"
    ).iter_rows():
        assert (norm, domain, local) == _email(value), value
    lists = ReferenceLists(
        free_mail=frozenset({"yahoo.co.uk", "gmail.com"}),
        disposable=frozenset({"mailinator.com"}),
        role_local_parts=frozenset({"info", "sales"}),
        regions={},
    )
    got = classify_emails(pl.Series(values, dtype=pl.String), lists)
    assert got["email_clean"].to_list() == sorted(set(values))
    expected = [_email(v) for v in got["email_clean"].to_list()]
    assert list(zip(got["email_normalized"], got["email_domain"], strict=True)) == [
        (n, d) for n, d, _ in expected
    ]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_address | _wrapped, min_size=1, max_size=20))
@example(values=["Pat.Lee@Acme.COM", "info+eu@mail.yahoo.co.uk", "x@y.test", "x@y.local"])
@example(values=["a@b.c", "a@b.cc", "a@1.com", "a@b.xn--p1ai", "a_b-c+d@e-f.gh", "a@b..com"])
@example(values=["x" * 64 + "@" + "d" * 63 + ".com", "x" * 65 + "@d.com", "a@" + "b" * 64 + ".com"])
def test_fast_path_equals_email_validator(values: list[str]) -> None:
    _check(values)


def test_long_addresses_go_to_the_library() -> None:
    host = ".".join(["d" * 60] * 4) + ".com"  # 248 characters
    _check([f"abcdef@{host}", f"a@{host}", f"{'x' * 64}@{host}"])


def test_flags_on_the_fast_path() -> None:
    lists = ReferenceLists(
        free_mail=frozenset({"yahoo.co.uk"}),
        disposable=frozenset({"mailinator.com"}),
        role_local_parts=frozenset({"info"}),
        regions={},
    )
    got = classify_emails(
        pl.Series(["INFO+x@Mail.Yahoo.co.uk", "pat@mailinator.com", "bad@@x.com"]), lists
    )
    rows = {r["email_clean"]: r for r in got.iter_rows(named=True)}
    assert rows["INFO+x@Mail.Yahoo.co.uk"]["email_normalized"] == "info+x@mail.yahoo.co.uk"
    assert rows["INFO+x@Mail.Yahoo.co.uk"]["email_free_mail"] is True
    assert rows["INFO+x@Mail.Yahoo.co.uk"]["email_role"] is True
    assert rows["pat@mailinator.com"]["email_disposable"] is True
    assert rows["bad@@x.com"]["email_normalized"] is None


# --- phones: the '+CC ...' fast path against phonenumbers -------------------------------------

_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_digits = st.text(alphabet="0123456789", min_size=0, max_size=14)
_plus_phone = st.tuples(
    st.sampled_from([str(c) for c in _CODES] + ["0", "00", "999", "42", "1", "44", "7", "61"]),
    st.lists(_digits, min_size=1, max_size=4),
    st.sampled_from(["", " "]),
).map(lambda t: "+" + t[0] + t[2] + " ".join(t[1]))
_other_phone = st.sampled_from(
    ["+44 (0) 20 7946 0958", "+1-212-555-0100", "+49 030 1234567", "0049 30 1234567", "+ 44 20",
     "+44  20 7946 0958", "+1 800 FLOWERS", "+7 8 495 123 45 67", "+55 0 11 91234 5678"]
) | st.text(alphabet="+0123456789 -()x", min_size=0, max_size=16)  # fmt: skip
_region = st.sampled_from([None, "US", "GB", "DE", "BR", "AU", "IT", "ZZ"])


def _check_phones(pairs: list[tuple[str, str | None]]) -> None:
    frame = pl.DataFrame(
        {"phone_clean": [p for p, _ in pairs], "country_code": [r for _, r in pairs]},
        schema={"phone_clean": pl.String, "country_code": pl.String},
    )
    got = normalize_phones(frame, strict=True)
    assert got.schema == {
        "phone_clean": pl.String,
        "country_code": pl.String,
        "phone_e164": pl.String,
    }
    assert got.height == frame.unique().height
    for phone, region, e164 in got.iter_rows():
        assert e164 == _phone(phone, region, True), (phone, region)


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(_plus_phone | _other_phone, _region), min_size=1, max_size=25))
@example(pairs=[("+1 813 672 2736", "US"), ("+44 43 58307382", "GB"), ("+441800201234", None)])
@example(pairs=[("+1 264 497 1234", None), ("+44 1624 612345", None), ("+7 701 123 4567", "RU")])
@example(pairs=[("+800 1234 5678", None), ("+39 06 1234 5678", "IT"), ("+61 0412 345 678", "AU")])
@example(
    pairs=[("+12", None), ("+440", None), ("+44", None), ("+1 2", None), ("+5511912345678", "BR")]
)
def test_plus_phone_fast_path_equals_phonenumbers(pairs: list[tuple[str, str | None]]) -> None:
    _check_phones(pairs)


def test_non_strict_phones_use_the_library() -> None:
    frame = pl.DataFrame(
        {"phone_clean": ["+1 813 672 2736", "323-778-6840"], "country_code": ["US", "US"]}
    )
    got = normalize_phones(frame, strict=False)
    assert got["phone_e164"].to_list() == [_phone(p, "US", False) for p in got["phone_clean"]]


_national_phone = st.tuples(
    st.sampled_from(["", "(0", "(", "0", "1", "00", "011", "8", "90", "61", "44"]),
    st.lists(_digits, min_size=1, max_size=4),
    st.sampled_from([" ", "-"]),
).map(
    lambda t: (
        (t[0] + (t[1][0] + ") " if t[0].startswith("(") else t[1][0])) + t[2] + t[2].join(t[1][1:])
    )
)
_any_region = st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS) + [None, "ZZ"])


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(_national_phone, _any_region), min_size=1, max_size=25))
@example(pairs=[("065 36029706", "AU"), ("323-778-6840", "US"), ("(323) 778-6840", "US")])
@example(pairs=[("030 1234567", "DE"), ("06 12345678", "NL"), ("011 44 20 7946 0958", "US")])
@example(pairs=[("1 213 555 0100", "US"), ("0 11 91234 5678", "BR"), ("8 495 123 45 67", "RU")])
@example(pairs=[("02 1234 5678", "IT"), ("0412 345 678", "AU"), ("020 7946 0958", "GB")])
def test_national_phone_fast_path_equals_phonenumbers(
    pairs: list[tuple[str, str | None]],
) -> None:
    _check_phones(pairs)
