"""Polars fast paths in verify_text (company keys, registrable domains) equal the slow ones."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadctl.config.verify import AccountMatchConfig
from leadctl.stages.verify_text import (
    company_key,
    company_keys,
    registrable_domain,
    registrable_domains,
)

SUFFIXES = tuple(AccountMatchConfig().legal_suffixes)
_SUFFIX_WORDS = sorted({w for s in SUFFIXES for w in s.split()} | {"the", "and", "&", "co."})
_word = st.one_of(
    st.sampled_from(_SUFFIX_WORDS),
    st.sampled_from(["S.A.", "O'Neil", "K.K.", "a.b.c", "x'y.z", "The", "AND", "Inc.", "_x_"]),
    st.text(alphabet="abcXYZ019_.'&-,/()\"", min_size=1, max_size=6),
    st.text(alphabet=st.characters(max_codepoint=127), min_size=0, max_size=5),
)
_sep = st.sampled_from([" ", "  ", ", ", " & ", ".", "\t", " - ", ""])
_name = st.lists(st.tuples(_word, _sep), min_size=0, max_size=7).map(
    lambda parts: "".join(w + s for w, s in parts)
)
_unicode_name = st.text(min_size=0, max_size=20)


def _check(names: list[str], suffixes: tuple[str, ...]) -> None:
    table = tuple(sorted(set(suffixes)))
    got = company_keys(pl.Series(names, dtype=pl.String), suffixes)
    assert got.schema == {"company_raw": pl.String, "company_key": pl.String}
    assert got["company_raw"].to_list() == sorted(set(names))
    expected = [company_key(v, table) for v in got["company_raw"].to_list()]
    assert got["company_key"].to_list() == expected


@settings(max_examples=200, deadline=None)
@given(names=st.lists(_name, min_size=1, max_size=30))
@example(names=["Acme, Inc.", "The Acme Company", "a.b.c.d Ltd", "Smith & Co. KG", "the", "Inc"])
@example(names=["Müller GmbH & Co. KG", "Grupo Bimbo S.A.B. de C.V.", "x inc inc ltd ltd"])
@example(names=["Sdn Bhd", "Foo Sdn Bhd", "Foo and", "Foo & Co", "Foo and and", "...", ""])
def test_fast_company_keys_equal_company_key(names: list[str]) -> None:
    _check(names, SUFFIXES)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(_unicode_name | _name, min_size=1, max_size=20))
def test_unicode_names_take_the_python_path_and_agree(names: list[str]) -> None:
    _check(names, SUFFIXES)


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_name, min_size=1, max_size=20),
    suffixes=st.lists(
        st.lists(
            st.sampled_from(["a", "b", "c", "and", "co", "x.y", "ü"]), min_size=1, max_size=3
        ).map(" ".join),
        max_size=6,
    ),
)
def test_any_suffix_list(names: list[str], suffixes: list[str]) -> None:
    _check(names, tuple(suffixes))


def test_nulls_are_dropped() -> None:
    got = company_keys(pl.Series(["Acme Inc", None, "Acme Inc"]), SUFFIXES)
    assert got.rows() == [("Acme Inc", "acme")]


# --- registrable domains: the polars path against tldextract -----------------------------------

_host_label = st.text(alphabet="abc0-", min_size=0, max_size=5) | st.sampled_from(
    ["com", "co", "uk", "jp", "kobe", "city", "ck", "www", "er", "xn--p1ai", "github", "io", "au"]
)
_host = st.lists(_host_label, min_size=1, max_size=6).map(".".join)
_url = st.tuples(
    st.sampled_from(["", "http://", "HTTPS://", "ftp://", "//", " "]),
    _host,
    st.sampled_from(["", "/", "/about", ":8080", "?q=1", "/a@b", ".", " ", "/x y"]),
).map("".join)
_mail = st.tuples(st.sampled_from(["pat@", "a@b@", ""]), _host).map("".join)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_url | _mail, min_size=1, max_size=25))
@example(values=["https://www.acme.co.uk/about", "www.acme.com", "ACME.COM", "info@acme.de"])
@example(values=["a.b.kobe.jp", "city.kobe.jp", "www.ck", "x.www.ck", "x.er", "localhost"])
@example(values=["10.0.0.1", "http://10.0.0.1", "a.b.c.d.e.f.g.h.i.com", "com", "co.uk", ""])
def test_registrable_domains_equal_tldextract(values: list[str]) -> None:
    got = registrable_domains(pl.Series(values, dtype=pl.String))
    assert got.schema == {"host": pl.String, "registrable": pl.String}
    assert got["host"].to_list() == sorted(set(values))
    assert got["registrable"].to_list() == [registrable_domain(v) for v in got["host"]]


def test_person_key_from_folded_columns_equals_name_key() -> None:
    """verify folds first and last name once into columns, then joins them (joined_names)."""
    from leadctl.stages.verify_text import folded, joined_names, name_key

    df = pl.DataFrame(
        {
            "f": ["José", "  ", None, "Anne-Marie", "O'Neil", "Łukasz", "李", "x"],
            "l": ["O'Brien", "Smith", "Doe", "d'Arc", " ", "Żółć", "小龙", None],
        }
    )
    direct = df.select(name_key(pl.col("f"), pl.col("l")).alias("k"))
    staged = df.with_columns(folded(pl.col("f")).alias("_f"), folded(pl.col("l")).alias("_l"))
    staged = staged.select(joined_names(pl.col("_f"), pl.col("_l")).alias("k"))
    assert staged.equals(direct)
    assert direct["k"].to_list()[0] == "jose obrien"
