"""Property: verify never crashes and never loses or duplicates a row, whatever the data says."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stages.verify_frames import T0, run

from leadctl.config.verify import VerifyConfig

# Arbitrary text, blanks and nulls, mixed with values that exercise the real paths.
REALISTIC = [
    "pat@acme.com", "PAT@ACME.COM ", "info@acme.com", "x@gmail.com", "x@mailinator.com", "a@b",
    "+1 415 555 2671", "(415) 555-2671", "030 901820", "n/a", "", " ", "USA", "Deutschland", "UK",
    "CA", "California", "Acme Inc.", "ACME", "rivalsoft.com", "https://www.acme.com/", "Student",
    "José", "王", "محمد", "=HYPERLINK(\"x\")", "Smith, Jones & \"Partners\" LLC", "\x00", "ß" * 40,
]  # fmt: skip
text = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(REALISTIC))
flag = st.one_of(st.none(), st.booleans())
ids = st.one_of(
    st.sampled_from(["L1", "L2", "L3", "L4", "L5", "", "l1", "L 1", "Ω"]), st.text(max_size=6)
)
account_ids = st.one_of(
    st.none(), st.sampled_from(["A1", "A2", "A3", "", "zz"]), st.text(max_size=5)
)
groups = st.one_of(st.sampled_from(["Analytics", "Cloud", "", "ñ"]), st.text(max_size=6))
actions = st.one_of(st.sampled_from(["fast_track", "standard", "nurture", "disqualify"]), text)
stamp = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)

lead_rows = st.fixed_dictionaries(
    {
        "lead_id": ids,
        "email": text,
        "first_name": text,
        "last_name": text,
        "title": text,
        "company": text,
        "account_id": account_ids,
        "country": text,
        "state": text,
        "phone": text,
        "industry": text,
        "employees": st.one_of(st.none(), st.integers(-(2**40), 2**40)),
        "created_at": stamp,
        "owner_id": text,
        "do_not_contact": flag,
        "unsubscribed": flag,
        "consent": flag,
        "occupation": text,
    }
)
account_rows = st.fixed_dictionaries(
    {
        "account_id": st.sampled_from(["A1", "A2", "A3", "", "zz"]),
        "name": text,
        "domain": text,
        "country": text,
        "owner_id": text,
        "named_account": flag,
        "industry": text,
        "employees": st.one_of(st.none(), st.integers(0, 10**6)),
    }
)
rating_rows = st.fixed_dictionaries(
    {
        "lead_id": ids,
        "product_group": groups,
        "fit_score": st.one_of(st.none(), st.floats(allow_nan=True)),
        "rating": text,
        "action": actions,
        "sla_tier": text,
        "is_mql": flag,
        "reasons_for": st.one_of(st.none(), st.lists(st.text(max_size=5), max_size=2)),
    }
)
opp_rows = st.fixed_dictionaries(
    {
        "opportunity_id": st.text(min_size=1, max_size=4),
        "lead_id": st.one_of(st.none(), ids),
        "account_id": account_ids,
        "product_group": st.one_of(st.none(), groups),
        "created_at": stamp,
        "closed_at": st.one_of(st.none(), stamp),
        "stage": text,
    }
)
activity_rows = st.fixed_dictionaries(
    {"lead_id": ids, "activity_type": st.just("Visit"), "occurred_at": stamp}
)


def _unique_by(rows: list[dict], key: str) -> list[dict]:
    seen: dict[str, dict] = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    leads=st.lists(lead_rows, max_size=6),
    accounts=st.lists(account_rows, max_size=4),
    ratings=st.lists(rating_rows, max_size=10),
    opportunities=st.lists(opp_rows, max_size=3),
    activities=st.lists(activity_rows, max_size=4),
    strict=st.booleans(),
)
def test_verify_never_crashes_and_never_loses_a_row(
    leads, accounts, ratings, opportunities, activities, strict
) -> None:
    leads = _unique_by(leads, "lead_id")  # canonical tables have unique keys
    accounts = _unique_by(accounts, "account_id")
    seen: set[tuple[str, str]] = set()
    ratings = [
        r
        for r in ratings
        if (r["lead_id"], r["product_group"]) not in seen
        and not seen.add((r["lead_id"], r["product_group"]))
    ]
    cfg = VerifyConfig(
        competitor_domains=["rivalsoft.com"],
        phone_validation="valid" if strict else "possible",
        checks={
            "no_account_match": "warn" if strict else "off",
            "free_mail": "fail" if strict else "warn",
        },
        required_fields_by_tier={"": ["state", "region", "account", "title"]},
    )
    result = run(leads, ratings=ratings, accounts=accounts, opportunities=opportunities,
                 activities=activities, cfg=cfg)  # fmt: skip

    entering = {(r["lead_id"], r["product_group"]) for r in ratings if r["is_mql"]}
    ok = result.verified.select("lead_id", "product_group").rows()
    bad = result.failures.select("lead_id", "product_group").rows()
    assert result.rows_in == len(entering) == len(ok) + len(bad)
    assert set(ok) | set(bad) == entering and not set(ok) & set(bad)
    assert result.failures["failed_checks"].str.len_chars().min() or not bad
    fixes = result.failures["suggested_fixes"].str.split("; ").list.len()
    checks = result.failures["failed_checks"].str.split("; ").list.len()
    assert fixes.to_list() == checks.to_list()
    dups = result.failures.filter(pl.col("failed_checks").str.contains("duplicate"))
    assert dups["duplicate_of"].null_count() == 0
    assert set(dups["duplicate_of"]) <= {k[0] for k in ok} | {k[0] for k in bad}
    if leads or ratings:
        assert (
            result.verified["account_match_method"]
            .is_in(["account_id", "domain", "fuzzy_name", "none"])
            .all()
        )
    assert T0.tzinfo is not None
