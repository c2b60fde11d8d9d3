"""Ingest fast paths agree with the slow (general) paths they stand in for.

The zoned-timestamp fast path (Arrow's ISO 8601 cast) must give, wherever it gives a value, what
the configured formats give through polars' strptime; cells it leaves null go the slow way, so
the mapped column is the same as before, whatever the cells look like.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.config import parse_config
from leadctl.io.mapping import (
    DEFAULT_DATETIME_FORMATS,
    _arrow_zoned_utc,
    _blank,
    _datetime_candidates,
    _parse_temporal,
    _parse_zoned,
    _text,
)
from leadctl.schemas import UTC_DATETIME

PROPS = settings(derandomize=True, deadline=None, max_examples=300)


def _slow(cells: list[str | None], tz: str = "UTC") -> list[datetime | None]:
    """What the default formats give, tried in order (the first one that reads a cell wins)."""
    frame = pl.DataFrame({"t": cells}, schema={"t": pl.String})
    candidates = _datetime_candidates(pl.col("t"), DEFAULT_DATETIME_FORMATS, tz)
    return frame.select(pl.coalesce(candidates).alias("t")).to_series().to_list()


def _fast(cells: list[str | None]) -> list[datetime | None] | None:
    out = _arrow_zoned_utc(pl.Series("t", cells, dtype=pl.String))
    return None if out is None else out.to_list()


def _stamp(moment: datetime, sep: str, fraction: int | None, zone: str) -> str:
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M:%S")
    if fraction is not None:
        text += f".{fraction:03d}"
    return text + zone


offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)
moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31))


def _zone(minutes: int | None) -> str:
    if minutes is None:
        return "Z"
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


@PROPS
@given(
    moment=moments,
    sep=st.sampled_from(["T", " "]),
    fraction=st.one_of(st.none(), st.integers(0, 999)),
    minutes=st.one_of(st.none(), offsets),
)
def test_zoned_fast_path_equals_strptime_on_well_formed_stamps(
    moment: datetime, sep: str, fraction: int | None, minutes: int | None
) -> None:
    cell = _stamp(moment.replace(microsecond=0), sep, fraction, _zone(minutes))
    fast = _fast([cell])
    assert fast is not None and fast[0] is not None, cell  # every such cell is on the fast path
    assert fast == _slow([cell]), cell
    # and it is the instant the text names: local time minus the offset
    local = moment.replace(microsecond=(fraction or 0) * 1000)
    expected = local - timedelta(minutes=minutes or 0)
    assert fast[0].replace(tzinfo=None) == expected


ALPHABET = "0123456789-:T .+Zz,/"


@PROPS
@given(
    moment=moments,
    fraction=st.one_of(st.none(), st.integers(0, 999)),
    minutes=st.one_of(st.none(), offsets),
    edits=st.lists(
        st.tuples(st.integers(0, 30), st.sampled_from(list(ALPHABET) + [""])), max_size=3
    ),
)
def test_zoned_fast_path_never_disagrees_on_mutated_stamps(
    moment: datetime, fraction: int | None, minutes: int | None, edits: list[tuple[int, str]]
) -> None:
    cell = _stamp(moment.replace(microsecond=0), "T", fraction, _zone(minutes))
    for at, char in edits:  # replace (or delete) characters: impossible dates, odd shapes
        at = min(at, len(cell))
        cell = cell[:at] + char + cell[at + 1 :]
    fast = _fast([cell])
    if fast is None:  # Arrow refused a shaped cell: the whole batch goes the slow way
        return
    if fast[0] is not None:
        assert fast == _slow([cell]), cell


@pytest.mark.parametrize(
    "cell",
    [
        "2024-11-20T01:55:60.000+0000",  # leap second: chrono reads it, Arrow does not
        "2024-02-30T01:55:43.000+0000",  # no such day
        "2024-11-20T24:00:00Z",
        "2024-11-20T01:55:43.000+2400",  # offsets of a day or more do not exist
        "2024-11-20T01:55:43.000+0060",
    ],
)
def test_cells_arrow_refuses_send_the_batch_the_slow_way(cell: str) -> None:
    cells = ["2024-11-20T01:55:43.000+0000", cell]
    assert _fast(cells) is None
    _, _ = _mapped(cells, "UTC")  # and the mapped column still equals the slow path (below)


def _table_config():  # type: ignore[no-untyped-def]
    config = {"inputs": {"tables": {"leads": {"path": "x.csv"}}}}
    return parse_config(config, source=Path("c.yaml")).inputs.tables["leads"]


def _mapped(cells: list[str | None], tz: str) -> tuple[list, list]:
    """(values, blank flags) of _parse_zoned against the slow path on the same cells."""
    cfg = _table_config()
    batch = pl.DataFrame({"Created": cells}, schema={"Created": pl.String})
    value, blank = _parse_zoned(batch, "created_at", "Created", cfg, tz)
    texts = batch.select(_text("Created", cfg, "created_at").alias("created_at"))
    slow = _parse_temporal(texts, "created_at", UTC_DATETIME, cfg, tz)
    assert value.to_list() == slow.to_list()
    assert blank.to_list() == texts.get_column("created_at").is_null().to_list()
    assert value.dtype == UTC_DATETIME
    return value.to_list(), blank.to_list()


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York"])
def test_mapped_datetime_column_equals_the_slow_path_in_any_time_zone(tz: str) -> None:
    cells = [
        "2024-11-20T01:55:43.000+0000",
        "2024-03-31T02:30:00.000+0200",  # offset given: the zone's DST gap does not matter
        "2024-03-10T02:30:00.000-0500",
        "2024-10-27T02:30:00.000+0100",  # Berlin's repeated hour, offset given
        "2024-11-03T01:30:00.123-0400",
        "2024-11-20T04:22:38Z",
        "2024-11-20T04:22:38.250Z",
        "2024-11-20 04:22:38Z",
        "  2024-11-20T04:22:38Z ",  # spaces around: slow path after trimming
        "2024-03-31 02:30:00",  # naive, inside Berlin's DST gap: null there
        "2024-10-27 02:30:00",  # naive, Berlin's repeated hour: the earlier one
        "2024-11-03 01:30",
        "03/10/2024 02:30",
        "1969-12-31T23:59:59Z",  # before 1970: null
        "1970-01-01T00:30:00.000+0100",  # before 1970 in UTC
        "2024-11-20T01:55:43+05:30",
        "2024-11-20t01:55:43z",
        "",
        "   ",
        None,
        "yesterday",
    ]
    values, blank = _mapped(cells, tz)
    assert values[0] == datetime(2024, 11, 20, 1, 55, 43, tzinfo=values[0].tzinfo)
    assert values[1].replace(tzinfo=None) == datetime(2024, 3, 31, 0, 30)
    assert values[13] is None and values[14] is None
    assert blank[-4:] == [True, True, True, False]


@PROPS
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=" \t\u00a0\u3000ab", max_size=3),
            st.sampled_from(["x", " x ", "\u2003", "é", "\u0085", ""]),
        ),
        max_size=8,
    )
)
def test_blank_equals_trimmed_text_is_null(cells: list[str | None]) -> None:
    cfg = _table_config()
    batch = pl.DataFrame({"Id": cells}, schema={"Id": pl.String})
    blank = batch.select(_blank("Id", pl.String)).to_series().to_list()
    slow = batch.select(_text("Id", cfg, "lead_id").is_null()).to_series().to_list()
    assert blank == slow


def test_parquet_export_read_by_row_group_in_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Row groups read one at a time (large ones in parts) and handed out in slices: every row
    once, in file order, numbered from 1; the directory-of-parts path reads the same."""
    from leadctl.io import readers
    from leadctl.io.ingest import ingest_all

    monkeypatch.setattr(readers, "PARQUET_BATCH_ROWS", 7)
    monkeypatch.setattr(readers, "PARQUET_READ_ROWS", 10)
    n = 95
    frame = pl.DataFrame(
        {
            "Id": [f"L{i}" for i in range(n)],
            "Created": [f"2025-01-{i % 28 + 1:02d}T10:00:00Z" for i in range(n)],
            "Employees": list(range(n)),
        }
    )
    frame.write_parquet(tmp_path / "leads.parquet", row_group_size=23)  # 23, 23, 23, 23, 3
    (tmp_path / "parts").mkdir()
    frame.slice(0, 40).write_parquet(tmp_path / "parts" / "a.parquet")
    frame.slice(40).write_parquet(tmp_path / "parts" / "b.parquet")
    columns = {"lead_id": "Id", "created_at": "Created", "employees": "Employees"}
    for source in ("leads.parquet", "parts"):
        cfg = parse_config(
            {"inputs": {"tables": {"leads": {"path": source, "columns": columns}}}},
            source=tmp_path / "c.yaml",
        )
        reports = ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")
        out = pl.read_parquet(tmp_path / "canonical" / "leads.parquet")
        assert reports["leads"].rows_read == n
        assert out["_row"].to_list() == list(range(1, n + 1))
        assert out["lead_id"].to_list() == frame["Id"].to_list()
        assert out["employees"].to_list() == list(range(n))
        assert reports["leads"].coverage["employees"] == 1.0


def test_unreadable_parquet_is_an_input_error(tmp_path: Path) -> None:
    from leadctl.errors import InputError
    from leadctl.io.ingest import ingest_all

    good = tmp_path / "good.parquet"
    pl.DataFrame({"Id": ["1"] * 1000, "Created": ["2025-01-01"] * 1000}).write_parquet(good)
    data = good.read_bytes()
    (tmp_path / "leads.parquet").write_bytes(data[:8] + b"\0" * 200 + data[208:])
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "leads.parquet"}}}}, source=tmp_path / "c.yaml"
    )
    with pytest.raises(InputError, match="leads"):
        ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")


def test_duplicate_keys_found_while_writing_match_the_file(tmp_path: Path) -> None:
    """Coverage counted while writing equals the file's; duplicates still rejected."""
    from leadctl.io.ingest import ingest_all

    frame = pl.DataFrame(
        {
            "Id": ["1", "2", "1", "3"],
            "Created": ["2025-01-01T00:00:00Z"] * 4,
            "Employees": [1, None, 3, None],
        }
    )
    frame.write_parquet(tmp_path / "leads.parquet")
    columns = {"lead_id": "Id", "created_at": "Created", "employees": "Employees"}
    cfg = parse_config(
        {"inputs": {"tables": {"leads": {"path": "leads.parquet", "columns": columns}}}},
        source=tmp_path / "c.yaml",
    )
    report = ingest_all(cfg.inputs, tmp_path / "canonical", tmp_path / "rejects")["leads"]
    out = pl.read_parquet(tmp_path / "canonical" / "leads.parquet")
    assert out["lead_id"].to_list() == ["1", "2", "3"]
    assert report.rows_rejected == 1
    assert report.coverage["employees"] == pytest.approx(1 / 3)
