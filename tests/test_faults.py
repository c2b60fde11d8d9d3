"""Faults: a full disk, a read-only output directory, kill -9 at random points of `leadctl run`.

Each fault must end in a documented exit code and a message naming the path (no traceback),
leave no temp file or lock behind, never leave a half-written file where a reader looks, and
the re-run after the fault is cleared must end byte-identical to a clean run. The night is the
corpus's baseline case (a handful of rows), so a run takes about a second plus start-up.
"""

from __future__ import annotations

import errno
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from corpus.support import (
    CORPUS,
    DEFAULT_AS_OF,
    invoke,
    leftovers,
    output_digests,
    run_args,
    run_without_root_override,
)

import leadctl.io.writers as writers


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline case copied once, with a clean run in clean/ (faulty runs use other --out
    directories over the same inputs, so their outputs must match clean/ byte for byte)."""
    work = tmp_path_factory.mktemp("faults") / "baseline"
    shutil.copytree(CORPUS / "baseline", work)
    code, _, stderr, exc = invoke(run_args(work / "config.yaml", work / "clean", DEFAULT_AS_OF))
    assert exc is None and code == 0, stderr
    return work


def _args(night: Path, out: Path) -> list[str]:
    return ["--quiet", *run_args(night / "config.yaml", out, DEFAULT_AS_OF)]


def _subprocess(night: Path, out: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leadctl", *_args(night, out)],
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,  # type: ignore[call-overload]
    )


def _complete_files(out: Path) -> None:
    """What a reader (or the CRM import) sees is complete: every visible file parses."""
    for path in out.rglob("*"):
        if not path.is_file() or path.name.endswith(".tmp") or path.name.startswith(".leadctl"):
            continue
        if path.suffix == ".parquet":
            pl.read_parquet(path)
        elif path.suffix == ".csv":
            pl.read_csv(path, infer_schema=False)
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            assert path.read_text(encoding="utf-8").rstrip().endswith("</html>"), path


def _rerun_matches_clean(night: Path, out: Path) -> None:
    code, _, stderr, exc = invoke(_args(night, out))
    assert exc is None and code == 0, stderr
    assert leftovers(out) == []
    assert output_digests(out) == output_digests(night / "clean")


def _check_failure(
    code: int, stderr: str, out: Path, *words: str, manifest_gone: bool = True
) -> None:
    assert code == 3, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.startswith("Error:") or "\nError:" in stderr, stderr
    for word in words:
        assert word.lower() in stderr.lower(), (word, stderr)
    assert leftovers(out) == [], "temp files or the lock left behind"
    if manifest_gone:
        assert not (out / DEFAULT_AS_OF / "manifest.json").exists()
    _complete_files(out)


# ---------------------------------------------------------------------------------- full disk


class _DiskFull:
    """Fail the n-th atomic write (and every one after it) with ENOSPC at its flush to disk."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.calls = 0
        self.real = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self.fail_at and self.calls >= self.fail_at:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.real(fd)


def _count_writes(night: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    counter = _DiskFull(0)
    monkeypatch.setattr(writers.os, "fsync", counter)
    code, _, stderr, _ = invoke(_args(night, out))
    monkeypatch.undo()
    assert code == 0, stderr
    return counter.calls


@pytest.mark.slow
def test_disk_full_at_any_write_fails_clearly_and_the_rerun_matches(
    night: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    total = _count_writes(night, tmp_path / "count", monkeypatch)
    assert total > 20, "every output goes through the atomic writers"
    positions = sorted({1, 2, total // 4, total // 2, 3 * total // 4, total - 1, total})
    for fail_at in positions:
        out = tmp_path / f"full_{fail_at}"
        monkeypatch.setattr(writers.os, "fsync", _DiskFull(fail_at))
        code, _, stderr, exc = invoke(_args(night, out))
        monkeypatch.undo()
        assert exc is None, f"write {fail_at}: unhandled {exc!r}"
        _check_failure(code, stderr, out, "cannot write", "No space left on device", str(out))
        _rerun_matches_clean(night, out)


def test_disk_full_keeps_the_earlier_files_of_the_night(
    night: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run that cannot write leaves last run's files as they were (minus its manifest,
    which would otherwise vouch for a night that did not finish)."""
    out = tmp_path / "full_again"
    shutil.copytree(night / "clean", out)
    before = output_digests(out)
    monkeypatch.setattr(writers.os, "fsync", _DiskFull(1))
    code, _, stderr, exc = invoke(_args(night, out))
    monkeypatch.undo()
    assert exc is None, repr(exc)
    _check_failure(code, stderr, out, "cannot write", "No space left on device")
    assert output_digests(out) == before
    _rerun_matches_clean(night, out)


def _file_size_limit(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
def test_a_real_file_size_limit_fails_clearly_and_the_rerun_matches(
    night: Path, tmp_path: Path
) -> None:
    """The kernel refuses the write (EFBIG, as a full disk gives ENOSPC) inside polars, pyarrow
    and Python writers alike; CPython ignores SIGXFSZ, so the process sees the error."""
    named = set()
    for limit in (1_500, 6_000, 20_000):
        out = tmp_path / f"limit_{limit}"
        result = _subprocess(night, out, preexec_fn=lambda limit=limit: _file_size_limit(limit))
        _check_failure(result.returncode, result.stderr, out, "cannot write", "File too large")
        named.add(result.stderr.split("cannot write ", 1)[1].split(":", 1)[0])
        _rerun_matches_clean(night, out)
    assert len(named) >= 2, f"the limits should stop different writers: {named}"


# ---------------------------------------------------------------------------- read-only output


def _readonly_run(night: Path, out: Path) -> tuple[int, str]:
    """Run against a read-only directory; root ignores file modes, so it gives that right up."""
    if os.geteuid() == 0:
        code, _, stderr = run_without_root_override(_args(night, out))
        return code, stderr
    code, _, stderr, exc = invoke(_args(night, out))
    assert exc is None, repr(exc)
    return code, stderr


def test_read_only_output_directory_fails_clearly(night: Path, tmp_path: Path) -> None:
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    try:
        code, stderr = _readonly_run(night, out)
    finally:
        out.chmod(0o755)
    _check_failure(code, stderr, out, "output directory", str(out), "permission denied")
    _rerun_matches_clean(night, out)


def test_read_only_night_directory_fails_clearly(night: Path, tmp_path: Path) -> None:
    """The output directory is writable but tonight's folder in it is not (a previous run by
    another user): the lock is taken and released, the message names the file."""
    out = tmp_path / "readonly_night"
    shutil.copytree(night / "clean", out)
    before = output_digests(out)
    run_dir = out / DEFAULT_AS_OF
    folders = [run_dir, *(p for p in run_dir.rglob("*") if p.is_dir())]
    for folder in folders:
        folder.chmod(0o555)
    try:
        code, stderr = _readonly_run(night, out)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    # Nothing could be touched, so last run's manifest still describes the files as they are.
    _check_failure(
        code, stderr, out, "cannot", str(run_dir), "permission denied", manifest_gone=False
    )
    assert output_digests(out) == before, "a failed write must leave the earlier files as they were"
    _rerun_matches_clean(night, out)


# -------------------------------------------------------------------------------------- kill -9


@pytest.mark.slow
def test_kill_9_at_random_points_then_rerun_matches_a_clean_run(
    night: Path, tmp_path: Path
) -> None:
    out = tmp_path / "killed"
    rng = random.Random(20261120)
    command = [sys.executable, "-m", "leadctl", *_args(night, out)]
    started = time.perf_counter()
    _subprocess(night, tmp_path / "timing")
    duration = time.perf_counter() - started
    for _round in range(4):  # two kills in a row (the second one over the first's debris)
        for _kill in range(2):
            proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, duration))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            _complete_files(out)  # between a kill and the re-run, nothing half-written shows
        _rerun_matches_clean(night, out)


def test_temp_files_of_a_killed_run_are_removed_by_the_next_run(
    night: Path, tmp_path: Path
) -> None:
    """kill -9 in the middle of an atomic write leaves `.<file>.<pid>.tmp` and the lock; the next
    run takes the stale lock over and deletes that run's temp files (and no one else's)."""
    out = tmp_path / "killed_mid_write"
    shutil.copytree(night / "clean", out)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid is now free: the lock looks exactly like a killed run's
    (out / ".leadctl.lock").write_text(
        json.dumps({"pid": dead.pid, "host": os.uname().nodename, "run": "as-of 2026-11-20"})
    )
    half = out / DEFAULT_AS_OF / f".scores.parquet.{dead.pid}.tmp"
    half.write_bytes((out / DEFAULT_AS_OF / "scores.parquet").read_bytes()[:100])
    other = out / DEFAULT_AS_OF / f".notes.txt.{dead.pid + 1}.tmp"  # not the dead run's file
    other.write_text("someone else's")
    code, _, stderr, exc = invoke(_args(night, out))
    assert exc is None and code == 0, stderr
    assert not half.exists()
    assert other.exists()
    other.unlink()
    assert leftovers(out) == []
    assert output_digests(out) == output_digests(night / "clean")
