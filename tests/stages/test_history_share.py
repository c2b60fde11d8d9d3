"""Inside `leadctl run`, expire and report read the stage history table once
(`lifecycle.shared_scan`); each gets the same frames as when it reads the file itself."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal
from stages import report_frames as F

from leadctl.stages.expire_history import read_history
from leadctl.stages.lifecycle import run_cache, shared_scan
from leadctl.stages.report import narrow


def _write_history(path: Path) -> pl.LazyFrame:
    F.history().with_row_index("_row").write_parquet(path)
    return pl.scan_parquet(path)


def test_shared_scan_reads_a_plain_scan_once_inside_a_run_only(tmp_path: Path) -> None:
    path = tmp_path / "stage_history.parquet"
    scan = _write_history(path)
    assert shared_scan(scan) is None  # no run: the stage reads the file itself
    with run_cache():
        first = shared_scan(scan)
        assert first is not None
        assert shared_scan(pl.scan_parquet(path)) is first
        assert_frame_equal(first, pl.read_parquet(path))
        assert shared_scan(scan.filter(pl.col("lead_id").is_not_null())) is None
        assert shared_scan(scan.select("lead_id")) is None
        assert shared_scan(F.history().lazy()) is None
        # a rewritten file is another table
        F.history().head(3).with_row_index("_row").write_parquet(path)
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        again = shared_scan(pl.scan_parquet(path))
        assert again is not None and again.height == 3


def test_expire_history_is_the_same_from_the_shared_table(tmp_path: Path) -> None:
    scan = _write_history(tmp_path / "stage_history.parquet")
    groups = F.context().product_groups
    as_of = date(2026, 11, 9)
    alone = read_history(scan, groups, as_of)
    with run_cache():
        assert shared_scan(scan) is not None
        inside = read_history(scan, groups, as_of)
    assert_frame_equal(inside.events, alone.events)
    assert_frame_equal(inside.other_leads.sort("lead_id"), alone.other_leads.sort("lead_id"))


def test_report_narrow_is_the_same_from_the_shared_table(tmp_path: Path) -> None:
    scan = _write_history(tmp_path / "stage_history.parquet")
    ctx = F.context()
    inputs = F.inputs()
    inputs.tables["stage_history"] = scan
    alone = narrow(inputs, ctx).tables["stage_history"].collect()
    with run_cache():
        whole = shared_scan(scan)
        inside = narrow(inputs, ctx).tables["stage_history"].collect()
        assert shared_scan(scan) is whole
    assert_frame_equal(inside, alone)
    assert 0 < alone.height < pl.read_parquet(tmp_path / "stage_history.parquet").height
