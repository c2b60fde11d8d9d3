"""Run one command as a child process and measure its wall time and peak resident memory.

Peak RSS comes from the kernel's accounting of that one child: `os.wait4` returns the child's
rusage, whose ru_maxrss (KiB on Linux) is the largest resident set the child, or any of its own
waited-for children, ever had. Nothing is sampled, so short spikes are not missed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    """What one child process did."""

    cmd: list[str]
    returncode: int
    seconds: float
    peak_rss: int  # bytes
    cpu_seconds: float  # user + system time of the child (and its waited-for children)
    load_before: float  # 1-minute load average when it started: other work on the machine
    stdout: str
    stderr: str


def _maxrss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def _rss_of_tree(pid: int) -> int:
    """Resident bytes of `pid` and its live descendants, from /proc (0 where it cannot be read)."""
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            todo.extend(int(c) for c in children)
        except (OSError, ValueError):
            continue
    return total


def _guard(
    proc: subprocess.Popen[bytes], limit: int, hit: threading.Event, done: threading.Event
) -> None:
    """Kill the child when it holds more than `limit` bytes: the machine is shared."""
    while not done.wait(0.5):
        if _rss_of_tree(proc.pid) > limit:
            hit.set()
            proc.kill()
            return


def run_child(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    rss_limit: int | None = None,
) -> Measurement:
    """Run `cmd` to completion; stdout and stderr go to temporary files (no pipe can fill up).

    With `rss_limit` (bytes) the child is killed once it holds more memory than that; its
    stderr then says so and its return code is -9.
    """
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        hit, done = threading.Event(), threading.Event()
        guard = None
        if rss_limit is not None and sys.platform.startswith("linux"):
            guard = threading.Thread(target=_guard, args=(proc, rss_limit, hit, done), daemon=True)
            guard.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        if guard is not None:
            guard.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
        if hit.is_set():
            stderr += f"\nkilled by the benchmark: more than {rss_limit / 1e9:.1f} GB resident"
        return Measurement(
            cmd=cmd,
            returncode=proc.returncode,
            seconds=seconds,
            peak_rss=_maxrss_bytes(usage.ru_maxrss),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            load_before=load,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=stderr,
        )
