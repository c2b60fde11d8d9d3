"""Text normalisers verify shares: blanks, name keys, company keys and registrable domains.

The per-value library calls (tldextract) run once per distinct value, never per row: callers
pass unique values and join the result back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import polars as pl
import tldextract


def cleaned(column: str, blank_values: Iterable[str]) -> pl.Expr:
    """The column as stripped text; null when empty or a placeholder like 'n/a' (any case)."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    blanks = pl.Series(sorted({b.strip().lower() for b in blank_values}), dtype=pl.String)
    return pl.when(text.str.to_lowercase().is_in(blanks.implode())).then(None).otherwise(text)


def folded(expr: pl.Expr) -> pl.Expr:
    """Accent-free, lower-case words: 'José  O'Brien' → 'jose obrien'; other scripts are kept."""
    return (
        expr.str.normalize("NFKD")
        .str.replace_all(r"\p{M}", "")
        .str.replace_all(r"['’`ʼ]", "")
        .str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
        .str.strip_chars()
    )


def name_key(first: pl.Expr, last: pl.Expr) -> pl.Expr:
    """'first last' folded; null unless both parts are present (a surname alone is no person)."""
    return joined_names(folded(first), folded(last))


def joined_names(f: pl.Expr, la: pl.Expr) -> pl.Expr:
    """`name_key` of parts already folded (each part is read twice: pass columns, not folds,
    or the fold runs twice)."""
    ok = (f.str.len_chars() > 0) & (la.str.len_chars() > 0)
    return pl.when(ok).then(pl.concat_str([f, la], separator=" ")).otherwise(None)


def _fold_text(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


@cache
def _suffix_tokens(suffixes: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Legal suffixes as token tuples, longest first, so 'sa de cv' wins over 'cv'."""
    tokens = {tuple(_company_tokens(s)) for s in suffixes}
    return tuple(sorted((t for t in tokens if t), key=lambda t: (-len(t), t)))


def _company_tokens(value: str) -> list[str]:
    text = _fold_text(value).replace("&", " and ")
    text = re.sub(r"(?<=\w)[.'’](?=\w)", "", text)  # S.A. → sa, O'Neil → oneil
    return re.sub(r"[^\w]+", " ", text).split()


def company_key(value: str, suffixes: tuple[str, ...]) -> str | None:
    """A company name without case, accents, punctuation, a leading 'the' or legal suffixes.

    'The Acme Systems, Inc.' → 'acme systems'; 'Müller GmbH & Co. KG' → 'muller'. A name that
    is only a legal form keeps it ('Inc' → 'inc'); null if no letters or digits are left.
    """
    tokens = _company_tokens(value)
    if tokens[:1] == ["the"] and len(tokens) > 1:
        tokens = tokens[1:]
    table = _suffix_tokens(suffixes)
    changed = True
    while changed and tokens:
        changed = False
        for suffix in table:
            n = len(suffix)
            if len(tokens) > n and tuple(tokens[-n:]) == suffix:
                tokens = tokens[:-n]
                changed = True
                break
        if tokens and tokens[-1] == "and" and len(tokens) > 1:  # 'muller and' after '& Co. KG'
            tokens = tokens[:-1]
            changed = True
    return " ".join(tokens) or None


def _strip_last(pattern: str) -> tuple[str, str]:
    """Regex and replacement removing a trailing `pattern` (whole words) after >= 1 word."""
    return rf"^(\S.*?) (?:{pattern})$", "$1"


def _ascii_company_keys(values: pl.Expr) -> pl.Expr:
    """`company_key` for ASCII text as polars expressions (equal to it, tested).

    For ASCII, accent folding is a no-op and casefold is lower-casing. The look-around regex
    that drops '.' and "'" between word characters runs twice without look-around: one pass
    misses only a mark whose left neighbour the previous match consumed ('a.b.c').
    """
    text = values.str.to_lowercase().str.replace_all("&", " and ", literal=True)
    for _ in range(2):
        text = text.str.replace_all(r"(\w)[.'](\w)", "$1$2")
    return text.str.replace_all(r"[^\w]+", " ").str.strip_chars(" ").str.replace(r"^the (\S)", "$1")


def _strip_suffixes(keys: pl.Series, table: tuple[tuple[str, ...], ...]) -> pl.Series:
    """The suffix loop of `company_key` on whole columns: each round drops the longest trailing
    legal suffix, then a trailing 'and' (both only with a word left before), until no key
    changes."""
    steps = []
    if table:
        # Longest first, and a regex alternation prefers the earliest-starting match: the
        # lazy prefix makes the removed suffix the longest one that fits.
        steps.append(_strip_last("|".join(re.escape(" ".join(t)) for t in table)))
    steps.append(_strip_last("and"))
    while True:
        before = keys
        for pattern, repl in steps:
            keys = keys.str.replace(pattern, repl)
        if keys.equals(before):
            return keys


def company_keys(values: pl.Series, suffixes: Iterable[str]) -> pl.DataFrame:
    """Distinct company names → their keys (columns `company_raw`, `company_key`).

    ASCII names (nearly all) are keyed with polars expressions; others with `company_key`.
    """
    table = tuple(sorted(set(suffixes)))
    tokens = _suffix_tokens(table)
    unique = values.drop_nulls().unique().sort()
    ascii_ = unique.str.contains(r"^[\x00-\x7F]*$")
    fast = unique.filter(ascii_)
    slow = unique.filter(~ascii_).to_list()
    fast_keys = _strip_suffixes(pl.select(_ascii_company_keys(pl.lit(fast))).to_series(), tokens)
    frame = pl.concat(
        [
            pl.DataFrame({"company_raw": fast, "company_key": fast_keys}),
            pl.DataFrame(
                {"company_raw": slow, "company_key": [company_key(v, table) for v in slow]},
                schema={"company_raw": pl.String, "company_key": pl.String},
            ),
        ]
    )
    return frame.with_columns(
        pl.when(pl.col("company_key") == "")
        .then(None)
        .otherwise(pl.col("company_key"))
        .alias("company_key")
    ).sort("company_raw")


@cache
def _extractor() -> tldextract.TLDExtract:
    """tldextract on its bundled public-suffix snapshot: no network, no cache directory."""
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registrable_domain(value: str) -> str | None:
    """'https://www.acme.co.uk/about' → 'acme.co.uk'; null for hosts without a public suffix."""
    text = value.strip().lower()
    if "@" in text and "/" not in text:
        text = text.rsplit("@", 1)[1]
    try:
        result = _extractor()(text)
    except (ValueError, UnicodeError):
        return None
    domain = getattr(result, "top_domain_under_public_suffix", None)
    if domain is None:  # tldextract < 5.3
        domain = result.registered_domain
    return domain or None


# A plain host name, optionally behind http(s):// and before a path: the common case, read
# with polars. Anything else (ports, user info, IPv6, punycode, Unicode, ...) goes to tldextract.
_PLAIN_HOST = r"^(?:https?://)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?:/.*)?$"


@cache
def _suffix_rules() -> tuple[frozenset[str], frozenset[str]]:
    """(public suffixes, suffixes with a wildcard rule below them) of the extractor's ICANN
    list, the one `registrable_domain` matches against."""
    rules = _extractor()._get_tld_extractor().tlds(include_psl_private_domains=False)
    wild = frozenset(r[2:] for r in rules if r.startswith("*."))
    plain = frozenset(r for r in rules if not r.startswith(("*.", "!")))
    return plain, wild


def _plain_registrable(values: pl.Series) -> pl.DataFrame:
    """host, registrable and `_plain` (decided here) for plain host names: the registrable
    domain is the label before the longest listed public suffix (tested equal to
    `registrable_domain`)."""
    plain_rules, wild = _suffix_rules()
    rules = pl.Series(sorted(plain_rules), dtype=pl.String).implode()
    wildcards = pl.Series(sorted(wild), dtype=pl.String).implode()
    text = pl.col("host").str.strip_chars().str.to_lowercase()
    frame = pl.DataFrame({"host": values}).with_columns(
        text.str.extract(_PLAIN_HOST, 1).str.split(".").alias("_labels")
    )
    labels = pl.col("_labels")
    n = labels.list.len()
    frame = frame.with_columns(
        (
            labels.is_not_null()
            & ~text.str.contains("xn--", literal=True)
            & ~text.str.contains(r"\s")
        )
        .fill_null(False)
        .alias("_plain"),
        pl.lit(0, dtype=pl.Int64).alias("_suffix"),
    )
    depth = max(r.count(".") + 1 for r in plain_rules | wild | {""})  # no rule is longer
    for j in range(1, depth + 1):
        tail = labels.list.slice(-j, j).list.join(".")
        long_enough = n >= j
        frame = frame.with_columns(
            pl.when(long_enough & tail.is_in(rules))
            .then(pl.lit(j, dtype=pl.Int64))
            .otherwise(pl.col("_suffix"))
            .alias("_suffix"),
            (pl.col("_plain") & ~(long_enough & tail.is_in(wildcards)).fill_null(False)).alias(
                "_plain"
            ),
        )
    suffix = labels.list.slice(-pl.col("_suffix"), pl.col("_suffix")).list.join(".")
    domain = labels.list.get(n - pl.col("_suffix") - 1, null_on_oob=True)
    found = pl.col("_plain") & (pl.col("_suffix") > 0) & (pl.col("_suffix") < n)
    return frame.select(
        "host",
        pl.when(found).then(pl.concat_str(domain, pl.lit("."), suffix)).alias("registrable"),
        "_plain",
    )


def registrable_domains(values: pl.Series) -> pl.DataFrame:
    """Distinct host / URL strings → registrable domain (columns `host`, `registrable`).

    Plain host names (nearly all) are read with polars (`_plain_registrable`), the rest by
    `registrable_domain`.
    """
    unique = values.drop_nulls().unique().sort()
    fast = _plain_registrable(unique)
    rest = fast.filter(~pl.col("_plain"))["host"].to_list()
    slow = pl.DataFrame(
        {"host": rest, "registrable": [registrable_domain(v) for v in rest]},
        schema={"host": pl.String, "registrable": pl.String},
    )
    return pl.concat([fast.filter("_plain").drop("_plain"), slow]).sort("host")
