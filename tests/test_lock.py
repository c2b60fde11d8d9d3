"""The run lock: refuses a live concurrent run, takes over a stale one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from leadctl.errors import LockHeldError
from leadctl.lock import LOCK_NAME, run_lock


def test_lock_is_released_after_the_block(tmp_path: Path) -> None:
    with run_lock(tmp_path, label="a") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
    assert not (tmp_path / LOCK_NAME).exists()


def test_live_holder_blocks_a_second_run(tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        owner = {"pid": sleeper.pid, "host": socket.gethostname(), "run": "as-of 2026-11-20"}
        (tmp_path / LOCK_NAME).write_text(json.dumps(owner))
        with (
            pytest.raises(LockHeldError, match=f"pid {sleeper.pid}.*as-of 2026-11-20"),
            run_lock(tmp_path, label="b"),
        ):
            pass
        assert (tmp_path / LOCK_NAME).exists()  # the holder's lock is left alone
    finally:
        sleeper.kill()
        sleeper.wait()


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    owner = {"pid": dead.pid, "host": socket.gethostname(), "run": "old"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(owner))
    with run_lock(tmp_path, label="new") as path:
        assert json.loads(path.read_text())["run"] == "new"
    assert not path.exists()


def test_half_written_lock_is_stale(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).write_text('{"pid": 12')
    with run_lock(tmp_path, label="new") as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
