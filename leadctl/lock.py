"""A lock file that keeps two nightly runs from writing into the same output directory.

The lock holds the owner's pid and host. A lock whose process is gone (a crashed or killed run)
is stale and is taken over, so a kill -9 never blocks the next night; the temp files that run
left half-written are deleted then.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from leadctl.errors import InputError, LockHeldError

LOCK_NAME = ".leadctl.lock"


def process_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a lock or a part directory of a dead one is stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_stale(owner: dict[str, object] | None) -> bool:
    if owner is None:  # unreadable or half-written lock: its writer died before finishing
        return True
    pid = owner.get("pid")
    if owner.get("host") != socket.gethostname():
        return False  # cannot check another machine's processes: treat as held
    return not isinstance(pid, int) or not process_alive(pid)


def _sweep(directory: Path, owner: dict[str, object] | None) -> None:
    """Delete the temp files a killed run left behind (atomic writes name them .<file>.<pid>.tmp),
    so a re-run after kill -9 ends with exactly the files of a clean run."""
    pid = owner.get("pid") if owner else None
    if not isinstance(pid, int):
        return
    for leftover in directory.rglob(f".*.{pid}.tmp"):
        leftover.unlink(missing_ok=True)


def _unwritable(directory: Path, exc: OSError) -> InputError:
    return InputError(
        f"cannot write into the output directory {directory}: {exc.strerror or exc}; make it "
        "writable or choose another one (output.dir / --out)"
    )


@contextlib.contextmanager
def run_lock(directory: Path, *, label: str) -> Iterator[Path]:
    """Hold the lock on `directory` for the block; LockHeldError if a live run holds it."""
    path = directory / LOCK_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(directory, exc) from None
    payload = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "run": label})
    for _attempt in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _read(path)
            if not _is_stale(owner):
                raise LockHeldError(
                    f"another leadctl run (pid {owner.get('pid') if owner else '?'}, "
                    f"{owner.get('run') if owner else '?'}) is writing into {directory}; "
                    f"wait for it to finish, or delete {path} if you are sure it is not running"
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            _sweep(directory, owner)
            continue
        except OSError as exc:  # read-only or full output directory
            raise _unwritable(directory, exc) from None
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
        except OSError as exc:  # a full disk
            path.unlink(missing_ok=True)
            raise _unwritable(directory, exc) from None
        break
    else:
        raise LockHeldError(f"could not take the lock {path}; another run is starting")
    try:
        yield path
    finally:
        owner = _read(path)
        if owner and owner.get("pid") == os.getpid():
            path.unlink(missing_ok=True)
