"""company_keys (polars fast path for ASCII names) equals company_key on every name."""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from leadctl.config.verify import AccountMatchConfig
from leadctl.stages.verify_text import company_key, company_keys

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


@settings(max_examples=400, deadline=None)
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
