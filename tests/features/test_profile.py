"""Title, e-mail, country and band parsing."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.features import profile as P
from leadctl.features.lists import country_key, country_lookup, free_mail_domains


def _one(expr_fn, value):
    return pl.select(expr_fn(pl.lit(value, dtype=pl.String))).item()


@pytest.mark.parametrize(
    ("title", "level", "function"),
    [
        ("Founder & CEO", "C-level", "General management"),
        ("CISO", "C-level", "Security"),
        ("Chief Data Officer", "C-level", "Data & analytics"),
        ("VP of IT", "VP", "IT & engineering"),
        ("Vice President, Finance", "VP", "Finance"),
        ("SVP Operations", "VP", "Operations"),
        ("Sr. Director, Analytics", "Director", "Data & analytics"),
        ("Head of Security", "Director", "Security"),
        ("Director of\nInformation Security", "Director", "Security"),
        ("IT Manager", "Manager", "IT & engineering"),
        ("Marketing Manager", "Manager", "Marketing"),
        ("Data Analyst", "Individual contributor", "Data & analytics"),
        ("DevOps Engineer", "Individual contributor", "IT & engineering"),
        ("Accountant", "Individual contributor", "Finance"),
        ("Account Executive", "Individual contributor", "Sales"),
        ("PhD Candidate", "Student", "Other"),
        ("Marketing Intern", "Student", "Marketing"),
        ("  ", "Unknown", "Unknown"),
        (None, "Unknown", "Unknown"),
    ],
)
def test_titles_map_to_seniority_and_function(title, level, function):
    assert _one(P.seniority, title) == level
    assert _one(P.job_function, title) == function


@pytest.mark.parametrize(
    ("email", "kind"),
    [
        ("jane.doe@acme.com", "corporate"),
        (" Jane.Doe@ACME.com ", "corporate"),
        ("jane@gmail.com", "free"),
        ("JANE@GMX.DE", "free"),
        ("x@mailinator.com", "disposable"),
        ("info@acme.com", "role"),
        ("sales@acme.co.uk", "role"),
        ("p@stateu.edu", "education"),
        ("p@ox-example.ac.uk", "education"),
        ("s@student.uni-example.de", "education"),
        ("not-an-email", "invalid"),
        ("a@b", "invalid"),
        ("", "missing"),
        (None, "missing"),
    ],
)
def test_email_domain_type(email, kind):
    assert _one(P.email_domain_type, email) == kind


@given(st.one_of(st.none(), st.text(max_size=40)))
@settings(max_examples=200, deadline=None)
def test_parsers_always_return_a_known_value(text):
    assert _one(P.seniority, text) in P.SENIORITY_LEVELS
    assert _one(P.email_domain_type, text) in P.EMAIL_TYPES
    assert _one(P.job_function, text) in {name for name, _ in P.FUNCTION_RULES} | {
        "Other",
        "Unknown",
    }


@pytest.mark.parametrize(
    ("raw", "code", "region"),
    [
        ("USA", "US", "NA"),
        ("U.S.", "US", "NA"),
        ("united states", "US", "NA"),
        ("Deutschland", "DE", "EMEA"),
        ("The Netherlands", "NL", "EMEA"),
        ("Great Britain", "GB", "EMEA"),
        ("日本", "JP", "APAC"),
        ("PRC", "CN", "APAC"),
        ("UAE", "AE", "EMEA"),
        ("México", "MX", "LATAM"),
        ("Brasil", "BR", "LATAM"),
        ("Korea, Republic of", "KR", "APAC"),
        ("Atlantis", None, None),
    ],
)
def test_country_codes_and_regions(raw, code, region):
    got = pl.select(c=P.country_code(pl.lit(raw))).with_columns(r=P.region(pl.col("c")))
    assert got.row(0) == (code, region)


def test_python_and_polars_country_keys_agree():
    lookup = country_lookup()
    for raw in ["The U.S.", "  Great   Britain ", "U.K.", "the netherlands"]:
        via_polars = pl.select(P.country_code(pl.lit(raw))).item()
        assert via_polars == lookup.get(country_key(raw))


def test_band_labels_and_values():
    assert P.band_labels([50, 200, 1000, 5000]) == [
        "1-49",
        "50-199",
        "200-999",
        "1,000-4,999",
        "5,000+",
    ]
    assert P.band_labels([1e6, 1e9], money=True) == ["<$1M", "$1M-$1B", "$1B+"]
    values = pl.DataFrame({"e": [None, 3, 50, 999, 5000, 250000]})
    got = values.select(P.band(pl.col("e"), [50, 200, 1000, 5000]).alias("e"))["e"].to_list()
    assert got == [None, "1-49", "50-199", "200-999", "5,000+", "5,000+"]


def test_website_domain():
    sites = pl.DataFrame(
        {"w": ["https://www.Acme.com/about", "www2.acme.io", "acme.de", "http://acme.fr:8080"]}
    )
    assert sites.select(P.website_domain(pl.col("w")).alias("w"))["w"].to_list() == [
        "acme.com",
        "acme.io",
        "acme.de",
        "acme.fr",
    ]


def test_shipped_lists_load():
    assert "gmail.com" in free_mail_domains()
    assert all(d == d.strip().lower() and not d.startswith("#") for d in free_mail_domains())
