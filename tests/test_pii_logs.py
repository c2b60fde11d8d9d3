"""PII: with --debug, in JSON and in text logs, a night prints no e-mail, phone or name.

The night runs as a subprocess (LightGBM and other native code write to the process's own
stdout / stderr, which is what cron captures) on a generated sample with the training guards
lowered, so every stage runs and logs, training included, and on the corpus's baseline and
emoji cases, whose names are distinctive. Everything printed is searched: e-mails (any
letter case), phones as written, as digits and in E.164, first and last names as whole words.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from conftest import SAMPLE_AS_OF, write_config
from corpus.support import CORPUS

from leadctl.sample import generate_sample

AS_OF = SAMPLE_AS_OF.isoformat()
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def _run(config: Path, out: Path, fmt: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "leadctl",
            "--debug",
            "--log-format",
            fmt,
            "run",
            "-c",
            str(config),
            "--as-of",
            AS_OF,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        # Wide enough that rich never cuts a word into a name-like stub ("Analytics" -> "Ana…").
        env={**os.environ, "COLUMNS": "400"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def _people(folder: Path, leads: str = "leads.csv", reps: str = "users.csv") -> dict[str, set[str]]:
    """E-mails, phones and names of every lead and rep in the exports."""
    frame = pl.read_csv(folder / leads, infer_schema=False)
    names = set()
    for column in ("FirstName", "LastName"):
        names |= {v for v in frame[column].drop_nulls().to_list()}
    for full in pl.read_csv(folder / reps, infer_schema=False)["Name"].drop_nulls().to_list():
        names |= set(full.split())
    phones = set()
    for raw in frame["Phone"].drop_nulls().to_list():
        phones.add(raw)
        digits = re.sub(r"\D", "", raw)
        if len(digits) >= 7:
            phones.add(digits)
        try:
            number = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            continue
        phones.add(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    emails = {e.strip().lower() for e in frame["Email"].drop_nulls().to_list() if "@" in e}
    return {"emails": emails, "phones": phones, "names": {n.strip() for n in names if n.strip()}}


def _assert_no_pii(output: str, people: dict[str, set[str]]) -> None:
    lowered = output.lower()
    leaked = sorted(e for e in people["emails"] if e in lowered)
    assert not leaked, f"e-mails in the logs: {leaked[:5]}"
    assert EMAIL.search(output) is None, EMAIL.search(output)
    leaked = sorted(
        p for p in people["phones"] if re.search(rf"(?<![\d]){re.escape(p)}(?![\d])", output)
    )
    assert not leaked, f"phones in the logs: {leaked[:5]}"
    words = set(re.findall(r"\w+", output))
    leaked = []
    for name in people["names"]:
        parts = {t for t in re.findall(r"\w+", name) if len(t) >= 3}
        if parts and parts <= words:
            leaked.append(name)
    leaked.sort()
    assert not leaked, f"names in the logs: {leaked[:10]}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 generated leads with guards low enough to train (a second or two)."""
    base = tmp_path_factory.mktemp("pii")
    generate_sample(
        base / "exports", n_leads=400, seed=23, product_groups=2, export_date=SAMPLE_AS_OF
    )
    guards = {"min_labelled_leads": 100, "min_positives": 10}
    write_config(base / "config.yaml", base / "exports", base / "out", train={"guards": guards})
    return base


def test_the_pii_check_finds_what_it_looks_for(sample: Path) -> None:
    people = _people(sample / "exports")
    assert len(people["emails"]) > 300 and len(people["phones"]) > 300
    email = sorted(people["emails"])[0]
    with pytest.raises(AssertionError, match="e-mails"):
        _assert_no_pii(f"INFO leadctl.verify: duplicate {email.upper()}", people)
    phone = sorted(p for p in people["phones"] if p.startswith("+"))[0]
    with pytest.raises(AssertionError, match="phones"):
        _assert_no_pii(f"phone={phone};", people)
    name = sorted(n for n in people["names"] if len(n) >= 3)[0]
    with pytest.raises(AssertionError, match="names"):
        _assert_no_pii(f"lead {name} scored", people)
    _assert_no_pii("INFO leadctl.assign: assign: 10 rows, 3 kept, 5 assigned, 2 overflow", people)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_debug_logs_of_a_sample_night_name_no_one(sample: Path, fmt: str) -> None:
    output = _run(sample / "config.yaml", sample / f"out_{fmt}", fmt)
    assert ("INFO leadctl.verify" if fmt == "text" else '"logger": "leadctl.verify"') in output
    assert "trained group Analytics: trained" in output, "every stage ran, training included"
    _assert_no_pii(output, _people(sample / "exports"))


@pytest.mark.slow
@pytest.mark.parametrize("case", ["emoji_and_rtl_names", "wrong_types"])
def test_debug_logs_of_corpus_nights_name_no_one(case: str, tmp_path: Path) -> None:
    work = tmp_path / case
    shutil.copytree(CORPUS / case, work)
    people = _people(work / "inputs")
    for fmt in ("json", "text"):
        _assert_no_pii(_run(work / "config.yaml", tmp_path / f"out_{fmt}", fmt), people)
