"""Private directories for a stage's temporary part files (score and rate in lead ranges).

One place owns the naming `.<output>.<pid>.parts` next to the output, so the cleanup of
directories a killed process left (hundreds of MB at 10 M leads) always matches what is made.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from leadctl.lock import process_alive

log = logging.getLogger("leadctl.io")


def _name(output: Path, pid: int | str) -> str:
    return f".{output.name}.{pid}.parts"


def remove_abandoned_parts(output: Path) -> list[Path]:
    """Delete part directories of `output` left by a killed process (kill -9, out of memory).
    A directory whose process still runs is left alone."""
    removed = []
    for work in sorted(output.parent.glob(_name(output, "*"))):
        pid = work.name.removeprefix(f".{output.name}.").removesuffix(".parts")
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            shutil.rmtree(work, ignore_errors=True)
            removed.append(work)
            log.info("removed %s, left by an interrupted process %s", work.name, pid)
    return removed


@contextmanager
def parts_dir(output: Path) -> Iterator[Path]:
    """An empty directory next to `output` for this process's part files, removed when the
    block ends (also on errors); abandoned ones of `output` are removed first."""
    remove_abandoned_parts(output)
    work = output.with_name(_name(output, os.getpid()))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
