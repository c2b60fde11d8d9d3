"""The bad-input corpus: `leadctl run` on every case in tests/corpus/ fails clearly or carries on,
and never loses or invents a row.

Each case directory holds its exports, a config and expected.yaml (see tests/corpus/make_cases.py,
which writes them). For every case: no traceback and no exception escaping the CLI, the
documented exit code, a message naming the file / column / row, no e-mail address in what the
run printed, no temp file or lock left behind, and conservation: for each table rows read =
valid + rejected (by an independent count and by row number), and through the pipeline every
lead × group scored and rated, every MQL verified or failed, every verified row assigned, queued
or kept.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from corpus.support import (
    Outcome,
    case_names,
    check_pipeline_conservation,
    check_table_conservation,
    expected_of,
    leftovers,
    read_rejects,
    run_case,
)

from leadctl.config import load_config
from leadctl.schemas import PRIMARY_KEYS

# A reject names its column ("created_at: missing (required)"), or what was wrong with the record.
NAMED_REASON = re.compile(
    r"^(\w+: |malformed CSV record: |duplicate \w+ \(first seen at row \d+\))"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
KEY_OF = {**PRIMARY_KEYS, "activities": "lead_id", "stage_history": "lead_id",
          "sales_touches": "lead_id"}  # fmt: skip


def _params() -> list[Any]:
    params = []
    for name in case_names():
        reason = expected_of(name).get("xfail")
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def test_the_corpus_covers_enough_cases() -> None:
    names = case_names()
    assert len(names) >= 40, names
    codes = {expected_of(n)["exit_code"] for n in names}
    assert {0, 2, 3, 4, 6} <= codes, "every documented failure kind has a case"


def _check_messages(outcome: Outcome, expected: dict[str, Any]) -> None:
    text = outcome.stderr if outcome.exit_code else outcome.stderr + outcome.stdout
    for word in expected.get("message", []):
        assert word.lower() in text.lower(), f"{word!r} not in the message:\n{text}"
    if outcome.exit_code:
        assert "Error:" in outcome.stderr, outcome.stderr
        assert "internal error" not in outcome.stderr, outcome.stderr


def _check_canonical(outcome: Outcome, checks: list[dict[str, Any]]) -> None:
    for check in checks:
        table = check["table"]
        frame = pl.read_parquet(outcome.run_dir / "canonical" / f"{table}.parquet")
        rows = frame.filter(pl.col(KEY_OF[table]) == check["key"])
        assert rows.height == 1, f"{table}: {rows.height} rows with key {check['key']}"
        value = rows[check["column"]][0]
        if isinstance(value, datetime):
            value = str(value)
        assert value == check["value"], f"{table}.{check['column']} of {check['key']}: {value!r}"


def _check_rejects(outcome: Outcome, expected: dict[str, Any]) -> None:
    cfg = load_config(outcome.work / "config.yaml")
    counts = expected.get("rejects", {})
    for table in cfg.inputs.tables:
        if not (outcome.run_dir / "canonical" / f"{table}.parquet").is_file():
            continue  # validate stopped before this table (it reads them in order)
        valid, rejected = check_table_conservation(outcome, table)
        assert rejected == counts.get(table, 0), f"{table}: {rejected} rejects"
        if table in expected.get("valid", {}):
            assert valid == expected["valid"][table]
        reasons = read_rejects(outcome.run_dir, table)["_reason"].to_list()
        unnamed = [r for r in reasons if not NAMED_REASON.match(r)]
        assert not unnamed, f"{table}: reject reasons that name no column: {unnamed}"
    for table, rows in expected.get("reject_rows", {}).items():
        got = sorted(int(r) for r in read_rejects(outcome.run_dir, table)["_row"].to_list())
        assert got == rows, f"{table}: rejected rows {got}, expected {rows}"
    for word in expected.get("message_rejects", []):
        reasons = [r for t in counts for r in read_rejects(outcome.run_dir, t)["_reason"].to_list()]
        assert any(word.lower() in r.lower() for r in reasons), (word, reasons)


@pytest.mark.parametrize("name", _params())
def test_case(name: str, tmp_path: Path) -> None:
    expected = expected_of(name)
    outcome = run_case(name, tmp_path)
    assert outcome.exception is None, f"unhandled {outcome.exception!r}"
    for stream in (outcome.stdout, outcome.stderr):
        assert "Traceback" not in stream, stream
    assert outcome.exit_code == expected["exit_code"], (outcome.stdout[-3000:], outcome.stderr)
    _check_messages(outcome, expected)
    leaked = EMAIL.search(outcome.stdout + outcome.stderr)
    assert leaked is None, f"an e-mail address was printed: {leaked.group(0)}"
    assert leftovers(outcome.out) == [], "temp files or the lock left behind"
    if (outcome.run_dir / "canonical").is_dir():
        _check_rejects(outcome, expected)
    if expected.get("canonical"):
        _check_canonical(outcome, expected["canonical"])
    if outcome.exit_code != 0:
        assert not (outcome.run_dir / "manifest.json").exists(), "a failed night wrote a manifest"
        return
    cfg = load_config(outcome.work / "config.yaml")
    groups = cfg.product_groups or sorted(
        pl.read_parquet(outcome.run_dir / "scores.parquet")["product_group"].unique().to_list()
    )
    counts = check_pipeline_conservation(outcome.run_dir, groups, cfg.run.stages)
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    for dotted, words in expected.get("manifest", {}).items():
        value: Any = manifest
        for part in dotted.split("."):
            value = value[part]
        assert words in str(value), f"manifest {dotted}: {value!r}"
    for key in ("assigned", "mql"):
        if key in expected:
            assert counts[key] == expected[key], counts
    reasons = expected.get("overflow_reasons")
    if reasons:
        overflow = pl.read_csv(outcome.run_dir / "overflow.csv", infer_schema=False)
        assert overflow.height > 0, counts
        assert sorted(set(overflow["reason"].to_list())) == sorted(reasons)
