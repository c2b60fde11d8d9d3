"""Fuzz: random CSV bytes into the reader, random field values through rate, verify and assign.

Never an unhandled exception (only a LeadctlError with its exit code), never a lost row: the
reader accounts for every record (valid, or rejected with its row number and a reason), and
every lead × group rated, every MQL verified or failed, every verified row assigned, queued or
kept. Examples are derandomized so CI is reproducible; the stage chain runs in-process on the
corpus's baseline exports with a few fields replaced per example.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from corpus.support import CORPUS, check_pipeline_conservation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadctl.config import load_config, parse_config
from leadctl.errors import LeadctlError
from leadctl.io.ingest import ingest_all
from leadctl.pipeline import run_pipeline
from leadctl.workspace import Workspace

FUZZ = settings(
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HEADER = ["Id", "Created", "Email", "Employees", "DNC"]
COLUMNS = {
    "lead_id": "Id",
    "created_at": "Created",
    "email": "Email",
    "employees": "Employees",
    "do_not_contact": "DNC",
}
DATES = {  # text -> whether created_at can be read from it
    "2026-11-01T10:00:00Z": True,
    "2026-11-01 10:00:00+02:00": True,
    "11/01/2026": True,
    "2026-11-01": True,
    "1969-12-31": False,
    "31/31/2026": False,
    "": False,
    "   ": False,
    "yesterday": False,
}
# Ids from a small alphabet (collisions give duplicates) plus blanks; no exotic whitespace,
# whose trimming rules differ between Python and polars.
ids = st.text(alphabet='AB1 ,"\n€😀', max_size=4)
cells = st.text(max_size=12)  # arbitrary text, quotes, delimiters, line breaks, NUL, emoji


def _ingest(folder: Path, data: bytes) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    (folder / "leads.csv").write_bytes(data)
    spec = {"path": "leads.csv", "columns": COLUMNS}
    cfg = parse_config(
        {"inputs": {"max_reject_share": 1.0, "tables": {"leads": spec}}}, source=folder / "c.yaml"
    )
    reports = ingest_all(cfg.inputs, folder / "canonical", folder / "rejects")
    canonical = pl.read_parquet(folder / "canonical" / "leads.parquet")
    rejects_path = folder / "rejects" / "leads.csv"
    rejects = (
        pl.read_csv(rejects_path, infer_schema=False)
        if rejects_path.is_file()
        else pl.DataFrame(schema={"_row": pl.String, "_reason": pl.String})
    )
    return reports, canonical, rejects


def _accounted(report: object, canonical: pl.DataFrame, rejects: pl.DataFrame) -> None:
    """rows read = valid + rejected, in the report and in the files; every reject has a row
    number and a reason; no row number twice."""
    assert report.rows_read == report.rows_valid + report.rows_rejected  # type: ignore[attr-defined]
    assert canonical.height == report.rows_valid  # type: ignore[attr-defined]
    assert rejects.height == report.rows_rejected  # type: ignore[attr-defined]
    assert rejects["_row"].null_count() == 0 and rejects["_reason"].null_count() == 0
    numbers = canonical["_row"].to_list() + [int(r) for r in rejects["_row"].to_list()]
    assert len(numbers) == len(set(numbers))


@settings(FUZZ, max_examples=150)
@given(
    body=st.binary(max_size=600),
    with_header=st.booleans(),
)
def test_random_bytes_never_crash_the_reader(body: bytes, with_header: bool) -> None:
    data = (",".join(HEADER) + "\n").encode() + body if with_header else body
    with tempfile.TemporaryDirectory() as tmp:
        try:
            reports, canonical, rejects = _ingest(Path(tmp), data)
        except LeadctlError as exc:
            assert exc.exit_code in (2, 3), exc
            return
        _accounted(reports["leads"], canonical, rejects)


records = st.lists(
    st.tuples(
        ids,
        st.sampled_from(sorted(DATES)),
        cells,
        st.one_of(st.integers(-10, 10**8).map(str), cells),
        st.sampled_from(["yes", "no", "", "maybe"]),
        st.integers(-2, 2),  # fields added (+) or dropped (-): ragged records
    ),
    max_size=12,
)


@settings(FUZZ, max_examples=120)
@given(rows=records, newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_every_csv_record_is_valid_or_rejected_with_its_row(
    rows: list[tuple[str, str, str, str, str, int]], newline: str, bom: bool
) -> None:
    buffer = io.StringIO()
    # A bare \r is a line break to every CSV reader; Python's writer quotes it only when it is
    # part of the line terminator, so LF files quote every field.
    quoting = csv.QUOTE_MINIMAL if newline == "\r\n" else csv.QUOTE_ALL
    writer = csv.writer(buffer, lineterminator=newline, quoting=quoting)
    writer.writerow(HEADER)
    expected_valid: list[int] = []
    seen: set[str] = set()
    for number, (lead, created, email, employees, dnc, extra) in enumerate(rows, 2):
        fields = [lead, created, email, employees, dnc]
        fields = fields + ["x"] * extra if extra >= 0 else fields[:extra]
        writer.writerow(fields)
        key = lead.strip()
        if extra == 0 and key and DATES[created] and key not in seen:
            seen.add(key)
            expected_valid.append(number)
    data = buffer.getvalue().encode()
    with tempfile.TemporaryDirectory() as tmp:
        reports, canonical, rejects = _ingest(Path(tmp), (b"\xef\xbb\xbf" if bom else b"") + data)
    report = reports["leads"]
    _accounted(report, canonical, rejects)
    assert report.rows_read == len(rows)
    assert sorted(canonical["_row"].to_list()) == expected_valid
    ragged = {n for n, r in enumerate(rows, 2) if r[5] != 0}
    malformed = rejects.filter(pl.col("_reason").str.starts_with("malformed CSV record"))
    assert {int(r) for r in malformed["_row"].to_list()} == ragged


# --- random field values through the stages --------------------------------------------------

# fmt: off
FIELD_VALUES = [
    "", " ", "n/a", "USA", "Deutschland", "DE", "Narnia", "CA", "Bavaria", "+1 212 555 0101",
    "(415) 555-2671", "call me", "a@b", "x@gmail.com", "info@acme.com", "rivalsoft.com",
    "Student", "CEO", "=HYPERLINK(\"x\")", "José", "王", "محمد", "\u200f", "ß" * 40, "R001",
    "R999", "A001", "A404", "L001", "L999", "SAL", "MQL", "Won", "Zombie", "Closed Won",
    "Analytics", "Cloud", "Request Demo", "Timing", "Not a fit", "0", "-5", "1e9", "true", "no",
    "2026-11-19", "2030-01-01",
]
value = st.one_of(st.sampled_from(FIELD_VALUES), st.text(max_size=10))
# Every column a stage reads except the ids and required dates (those are the reader's job).
FIELDS = {
    "leads.csv": [
        "FirstName", "LastName", "Email", "Phone", "Title", "Company", "Industry",
        "NumberOfEmployees", "Country", "State", "Lifecycle_Stage__c", "OwnerId",
        "HasOptedOutOfEmail", "DoNotCall", "GDPR_Consent__c", "Account__c",
    ],
    "users.csv": [
        "Team__c", "UserRole", "Product_Groups__c", "Territories__c", "Max_Open_Leads__c",
        "IsActive", "TimeZoneSidKey", "Working_Hours__c", "Out_Of_Office_From__c",
    ],
    "accounts.csv": [
        "Name", "Website", "NumberOfEmployees", "BillingCountry", "OwnerId", "Named_Account__c",
    ],
    "activities.csv": ["sfdcLeadId", "activityTypeName", "primaryAttributeValue", "productGroup"],
    "lead_history.csv": ["LeadId", "Product_Group__c", "Stage__c", "CreatedById", "Reason__c"],
    "opportunities.csv": [
        "AccountId", "Primary_Lead__c", "Product_Group__c", "StageName", "IsWon", "CloseDate",
    ],
}
# fmt: on
edits = st.lists(
    st.tuples(st.sampled_from(sorted(FIELDS)), st.integers(0, 99), st.integers(0, 99), value),
    max_size=30,
)
STAGES = ["validate", "score", "rate", "verify", "assign"]


def _edit(path: Path, changes: list[tuple[int, str, str]]) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    header = rows[0]
    for row_index, column, text in changes:
        row = rows[1 + row_index % (len(rows) - 1)]
        row[header.index(column)] = text
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)  # quotes a bare \r too
    path.write_text(buffer.getvalue(), encoding="utf-8")


@pytest.mark.slow
@settings(FUZZ, max_examples=25)
@given(changes=edits)
def test_random_field_values_lose_no_row_through_rate_verify_assign(
    changes: list[tuple[str, int, int, str]],
) -> None:
    """Any value in any column a stage reads (ids of other tables included, so references
    dangle or collide): the chain runs and every row is accounted for."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "case"
        shutil.copytree(CORPUS / "baseline", work)
        for name, columns in FIELDS.items():
            mine = [(r, columns[c % len(columns)], v) for f, r, c, v in changes if f == name]
            _edit(work / "inputs" / name, mine)
        cfg = load_config(work / "config.yaml")
        cfg.run.stages = STAGES
        cfg.inputs.max_reject_share = 1.0  # blanked lead ids in history are rejected, not fatal
        cfg.output.dir = work / "out"
        ws = Workspace(cfg, date(2026, 11, 20))
        run_pipeline(ws, retrain="never")
        counts = check_pipeline_conservation(ws.run_dir, cfg.product_groups, STAGES)
    assert counts["leads"] == 10
    assert counts["scored"] == 20
