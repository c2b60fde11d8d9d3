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


def run_child(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Measurement:
    """Run `cmd` to completion; stdout and stderr go to temporary files (no pipe can fill up)."""
    load = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measurement(
            cmd=cmd,
            returncode=proc.returncode,
            seconds=seconds,
            peak_rss=_maxrss_bytes(usage.ru_maxrss),
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            load_before=load,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )
