"""A score killed mid-way leaves its part files; the next score removes them, not a live one's."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from leadctl.io.parts import parts_dir, remove_abandoned_parts


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_parts_of_dead_processes_go_and_live_ones_stay(tmp_path: Path) -> None:
    output = tmp_path / "scores.parquet"
    dead = tmp_path / f".scores.parquet.{_dead_pid()}.parts"
    mine = tmp_path / f".scores.parquet.{os.getpid()}.parts"
    parent = tmp_path / f".scores.parquet.{os.getppid()}.parts"
    other = tmp_path / ".ratings.parquet.1.parts"
    for d in (dead, mine, parent, other):
        d.mkdir()
        (d / "part-00000.parquet").write_bytes(b"x")

    assert remove_abandoned_parts(output) == [dead]
    assert not dead.exists()
    assert mine.exists() and parent.exists() and other.exists()


def test_parts_dir_is_private_and_removed_also_on_errors(tmp_path: Path) -> None:
    output = tmp_path / "ratings.parquet"
    dead = tmp_path / f".ratings.parquet.{_dead_pid()}.parts"
    dead.mkdir()
    with parts_dir(output) as work:
        assert work == tmp_path / f".ratings.parquet.{os.getpid()}.parts"
        assert work.is_dir() and not any(work.iterdir())
        assert not dead.exists()
        (work / "part-00000.parquet").write_bytes(b"x")
    assert not work.exists()
    try:
        with parts_dir(output) as work:
            (work / "part-00000.parquet").write_bytes(b"x")
            raise RuntimeError("killed mid-way")
    except RuntimeError:
        pass
    assert not work.exists()
