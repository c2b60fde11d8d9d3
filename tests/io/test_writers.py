"""Atomic writes and CSV formula-injection escaping."""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from leadctl.errors import InputError
from leadctl.io.writers import atomic_path, escape_formulas, write_csv, write_json, write_parquet


def test_failed_write_leaves_previous_file_untouched(tmp_path: Path) -> None:
    target = tmp_path / "assignments.csv"
    target.write_text("old complete content\n")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("boom")
    assert target.read_text() == "old complete content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["assignments.csv"]


def test_successful_write_replaces_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "scores.parquet"
    write_parquet(pl.DataFrame({"lead_id": ["a"], "score": [1.5]}), target)
    write_parquet(pl.DataFrame({"lead_id": ["b"], "score": [2.5]}), target)
    assert pl.read_parquet(target)["lead_id"].to_list() == ["b"]
    assert [p.name for p in target.parent.iterdir()] == ["scores.parquet"]


def test_os_error_during_rename_is_a_clear_error_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "manifest.json"
    target.write_text("{}\n")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("leadctl.io.writers.os.replace", full_disk)
    with pytest.raises(InputError, match=r"cannot write .*manifest.json: No space left on device"):
        write_json({"a": 1}, target)
    assert target.read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_formula_cells_are_escaped_but_numbers_and_phones_are_not() -> None:
    df = pl.DataFrame(
        {
            "company": ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "Acme"],
            "phone": ["+1 (555) 010-2030", "-12.5", "+4420", "\tTAB", None],
            "n": [1, 2, 3, 4, 5],
        }
    )
    out = escape_formulas(df)
    assert out["company"].to_list() == [
        '\'=HYPERLINK("http://x")',
        "'+cmd|' /C calc'!A0",
        "'@SUM(A1)",
        "'-2+3",
        "Acme",
    ]
    assert out["phone"].to_list() == ["+1 (555) 010-2030", "-12.5", "+4420", "'\tTAB", None]
    assert out["n"].to_list() == [1, 2, 3, 4, 5]


def test_write_csv_escapes_by_default_and_joins_lists(tmp_path: Path) -> None:
    df = pl.DataFrame({"company": ["=1+1"], "reasons": [["a", "b"]]})
    write_csv(df, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "company,reasons\n'=1+1,a; b\n"
    write_csv(df, tmp_path / "raw.csv", escape=False)
    assert (tmp_path / "raw.csv").read_text().splitlines()[1] == "=1+1,a; b"


def test_write_parquet_bytes_do_not_depend_on_how_the_frame_is_chunked(tmp_path):
    from leadctl.io.writers import PARQUET_ROW_GROUP

    n = PARQUET_ROW_GROUP * 3 + 17
    whole = pl.DataFrame({"id": range(n)}).with_columns(
        text=pl.col("id").cast(pl.String),
        reasons=pl.concat_list(pl.col("id").cast(pl.String), pl.lit("fit")),
    )
    layouts = {
        "one chunk": whole,
        "two chunks": pl.concat([whole[:300_000], whole[300_000:]], rechunk=False),
        "three chunks": pl.concat(
            [whole[:700_000], whole[700_000:701_000], whole[701_000:]], rechunk=False
        ),
    }
    digests = {}
    for name, frame in layouts.items():
        path = write_parquet(frame, tmp_path / f"{name}.parquet")
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        assert pl.read_parquet(path).equals(whole)
    assert len(set(digests.values())) == 1, digests
