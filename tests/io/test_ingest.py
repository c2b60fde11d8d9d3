"""Reading exports: mapping, value maps, dates, encodings, ragged rows, rejects, conservation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from leadctl.config import parse_config
from leadctl.errors import ConfigError, InputError
from leadctl.io.ingest import ingest_all

HEADER = "Id,Email,Created,Employees,DNC,Country\n"


def _ingest(tmp_path: Path, content: bytes, **table: object) -> tuple[dict, Path]:
    (tmp_path / "leads.csv").write_bytes(content)
    columns = {
        "lead_id": "Id",
        "created_at": "Created",
        "employees": "Employees",
        "do_not_contact": "DNC",
    }
    spec = {"path": "leads.csv", "columns": columns, **table}
    cfg = parse_config({"inputs": {"tables": {"leads": spec}}}, source=tmp_path / "c.yaml")
    reports = ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")
    return reports, tmp_path


def _leads(tmp_path: Path) -> pl.DataFrame:
    return pl.read_parquet(tmp_path / "canonical" / "leads.parquet")


def test_renames_value_maps_booleans_and_date_formats(tmp_path: Path) -> None:
    content = (
        HEADER
        + '1,A@X.COM,2025-03-05T14:22:10.000+0000,"1,200",Yes,USA\n'
        + "2,b@y.com,03/05/2025,15,No,United States\n"
        + "3,c@z.com,2025-03-05 09:00:00,,,Germany\n"
        + "4,d@z.com,2025-03-05T09:00:00Z,7,no,US\n"
    ).encode()
    reports, _ = _ingest(
        tmp_path,
        content,
        values={"country": {"USA": "US", "United States": "US"}},
        timezone="Europe/Berlin",
    )
    df = _leads(tmp_path)
    assert df["lead_id"].to_list() == ["1", "2", "3", "4"]
    assert df["email"].to_list() == ["A@X.COM", "b@y.com", "c@z.com", "d@z.com"]
    assert df["employees"].to_list() == [1200, 15, None, 7]
    assert df["do_not_contact"].to_list() == [True, False, None, False]
    assert df["country"].to_list() == ["US", "US", "Germany", "US"]
    stamps = [str(v) for v in df["created_at"].to_list()]
    # offset-aware kept as is; naive values are local to the table's time zone (CET in March)
    assert stamps == [
        "2025-03-05 14:22:10+00:00",
        "2025-03-04 23:00:00+00:00",
        "2025-03-05 08:00:00+00:00",
        "2025-03-05 09:00:00+00:00",
    ]
    assert df.schema["created_at"] == pl.Datetime("us", "UTC")
    assert reports["leads"].rows_rejected == 0


def test_malformed_rows_go_to_rejects_with_reasons_and_rows_are_conserved(tmp_path: Path) -> None:
    content = (
        HEADER
        + "1,a@x.com,2025-03-05,10,Yes,US\n"
        + "2,b@y.com\n"  # ragged: too few fields
        + "3,c@z.com,not a date,5,No,US\n"  # unparseable required date
        + ",d@z.com,2025-03-05,5,No,US\n"  # missing required id
        + "5,e@z.com,2025-03-05,-40,maybe,US\n"  # bad optional values: nulled, row kept
        + "1,dup@x.com,2025-01-01,1,no,US\n"  # duplicate primary key
        + "7,f@z.com,2025-03-05,1,no,US,extra\n"  # ragged: too many fields
    ).encode()
    reports, _ = _ingest(tmp_path, content)
    report = reports["leads"]
    assert report.rows_read == 7
    assert report.rows_valid + report.rows_rejected == report.rows_read
    assert report.rows_valid == 2
    assert report.nulled == {"employees": 1, "do_not_contact": 1}
    rejects = pl.read_csv(tmp_path / "rejects" / "leads.csv", infer_schema=False)
    assert rejects["_row"].to_list() == ["3", "4", "5", "7", "8"]
    reasons = dict(zip(rejects["_row"].to_list(), rejects["_reason"].to_list(), strict=True))
    assert reasons["3"] == "malformed CSV record: expected 6 fields, found 2"
    assert reasons["4"].startswith("created_at: not a date/time")
    assert reasons["5"] == "lead_id: missing (required)"
    assert reasons["7"] == "duplicate lead_id (first seen at row 2)"
    assert reasons["8"] == "malformed CSV record: expected 6 fields, found 7"
    assert rejects.filter(pl.col("_row") == "3")["_raw"].to_list() == ["2,b@y.com"]
    assert rejects.filter(pl.col("_row") == "5")["Email"].to_list() == ["d@z.com"]


def test_quoted_newlines_and_quotes_survive(tmp_path: Path) -> None:
    content = (HEADER + '1,"a@x.com",2025-03-05,10,Yes,"Bosnia and\nHerzegovina"\n').encode()
    _ingest(tmp_path, content)
    assert _leads(tmp_path)["country"].to_list() == ["Bosnia and\nHerzegovina"]


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ("\ufeff" + HEADER + "1,zoë@x.com,2025-03-05,10,Yes,Côte d'Ivoire\n", "utf-8"),
        (HEADER + "1,zoë@x.com,2025-03-05,10,Yes,Côte d'Ivoire\n", "cp1252"),
    ],
    ids=["utf8-bom", "cp1252"],
)
def test_encodings_are_detected(tmp_path: Path, raw: str, encoding: str) -> None:
    reports, _ = _ingest(tmp_path, raw.encode(encoding))
    df = _leads(tmp_path)
    assert df["lead_id"].to_list() == ["1"]  # BOM not glued to the first header
    assert df["email"].to_list() == ["zoë@x.com"]
    assert df["country"].to_list() == ["Côte d'Ivoire"]
    assert reports["leads"].encoding == ("utf-8-sig" if encoding == "utf-8" else "cp1252")


def test_parquet_input_with_typed_columns(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "Id": ["1", "2"],
            "Created": ["2025-01-01", "2025-01-02"],
            "Employees": [10, None],
            "DNC": ["true", "false"],
        }
    )
    frame.write_parquet(tmp_path / "leads.parquet")
    columns = {
        "lead_id": "Id",
        "created_at": "Created",
        "employees": "Employees",
        "do_not_contact": "DNC",
    }
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "leads.parquet", "columns": columns}}}},
        source=tmp_path / "c.yaml",
    )
    ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")
    df = _leads(tmp_path)
    assert df["employees"].to_list() == [10, None]
    assert df["do_not_contact"].to_list() == [True, False]


def test_missing_required_column_names_column_closest_header_and_key(tmp_path: Path) -> None:
    content = b"Id,Email,CreateDate\n1,a@x.com,2025-01-01\n"
    (tmp_path / "leads.csv").write_bytes(content)
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "leads.csv", "columns": {"lead_id": "Id"}}}}},
        source=tmp_path / "c.yaml",
    )
    with pytest.raises(InputError) as info:
        ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")
    message = str(info.value)
    assert "leads.csv" in message
    assert "required column 'created_at'" in message
    assert "closest header in the file is 'CreateDate'" in message
    assert "inputs.tables.leads.columns.created_at" in message


def test_unknown_canonical_column_in_mapping_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_bytes(b"Id,Created\n1,2025-01-01\n")
    cfg = parse_config(
        {
            "inputs": {
                "tables": {
                    "leads": {"path": "leads.csv", "columns": {"lead_id": "Id", "emial": "E"}}
                }
            }
        },
        source=tmp_path / "c.yaml",
    )
    with pytest.raises(ConfigError, match="did you mean 'email'"):
        ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")


def test_empty_file_and_missing_file_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="empty"):
        _ingest(tmp_path, b"")
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "nope.csv"}}}}, source=tmp_path / "c.yaml"
    )
    with pytest.raises(InputError, match="does not exist"):
        ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")


def test_header_only_file_gives_an_empty_table(tmp_path: Path) -> None:
    reports, _ = _ingest(tmp_path, HEADER.encode())
    assert reports["leads"].rows_read == 0
    df = _leads(tmp_path)
    assert df.height == 0
    assert df.schema["created_at"] == pl.Datetime("us", "UTC")


def test_canonical_encodings_read_back_unchanged(tmp_path: Path) -> None:
    """Times and row numbers delta-packed, ids and free text LZ4, repeated values dictionary
    pages under zstd: the values read back are what was mapped, and equal runs give equal bytes."""
    import pyarrow.parquet as pq

    rows = [
        f"{i},u{i}@x.com,2025-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,{i},no,{['US', 'DE'][i % 2]}"
        for i in range(400)
    ]
    content = (HEADER + "\n".join(rows) + "\n").encode()
    _ingest(tmp_path, content)
    df = _leads(tmp_path)
    assert df["lead_id"].to_list() == [str(i) for i in range(400)]
    assert df["email"].to_list() == [f"u{i}@x.com" for i in range(400)]
    assert df["country"].to_list() == [["US", "DE"][i % 2] for i in range(400)]
    assert str(df["created_at"][3]) == "2025-03-04 03:00:00+00:00"
    meta = pq.ParquetFile(tmp_path / "canonical" / "leads.parquet").metadata.row_group(0)
    chunks = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    assert "DELTA_BINARY_PACKED" in chunks["created_at"].encodings
    assert "DELTA_BINARY_PACKED" in chunks["_row"].encodings
    assert chunks["lead_id"].compression.startswith("LZ4")
    assert chunks["country"].compression == "ZSTD"
    assert "RLE_DICTIONARY" in chunks["country"].encodings
    first = (tmp_path / "canonical" / "leads.parquet").read_bytes()
    again = tmp_path / "again"
    again.mkdir()
    _ingest(again, content)
    assert (again / "canonical" / "leads.parquet").read_bytes() == first


def test_parquet_unmapped_columns_are_read_only_for_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A single Parquet export is read without the columns no mapping uses; rejected rows get
    them back, so canonical table and rejects CSV are what reading every column gives."""
    from leadctl.io import ingest

    n = 700
    frame = pl.DataFrame(
        {
            "Guid": [f"g-{i:05d}" for i in range(n)],
            "Id": [None if i % 97 == 5 else str(i) for i in range(n)],
            "Number": list(range(n)),
            "Created": ["2025-01-01" if i % 53 else "not a date" for i in range(n)],
            "Note": [None if i % 7 else f"=cmd {i}" for i in range(n)],
        }
    )
    frame.write_parquet(tmp_path / "leads.parquet", row_group_size=200)
    columns = {"lead_id": "Id", "created_at": "Created"}
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "leads.parquet", "columns": columns}}}},
        source=tmp_path / "c.yaml",
    )
    fetched: list[list[str]] = []
    real = ingest._whole_rejects

    def spy(source, rejects, unread):  # type: ignore[no-untyped-def]
        fetched.append(unread)
        return real(source, rejects, unread)

    monkeypatch.setattr(ingest, "_whole_rejects", spy)
    fast = ingest_all(cfg.inputs, tmp_path / "fast", tmp_path / "fast_rejects")
    assert ["Guid", "Number", "Note"] in fetched
    monkeypatch.setattr(ingest, "_skip_unmapped", lambda source, mapping: [])
    full = ingest_all(cfg.inputs, tmp_path / "full", tmp_path / "full_rejects")
    assert fast["leads"].rows_rejected == full["leads"].rows_rejected > 0
    assert vars(fast["leads"]) == vars(full["leads"])
    assert pl.read_parquet(tmp_path / "fast" / "leads.parquet").equals(
        pl.read_parquet(tmp_path / "full" / "leads.parquet")
    )
    fast_csv = (tmp_path / "fast_rejects" / "leads.csv").read_bytes()
    assert fast_csv == (tmp_path / "full_rejects" / "leads.csv").read_bytes()
    assert b"Guid" in fast_csv.splitlines()[0] and b"g-00005" in fast_csv
