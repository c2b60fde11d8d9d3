"""Give freed memory back to the operating system between the stages of one `run`.

`leadctl run` runs every stage in one process. glibc (numpy, LightGBM) and pyarrow's pool keep
freed pages for reuse, so without this the night's peak is one stage's peak plus what the
earlier stages left cached. Releasing after each stage keeps the peak at the largest stage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys


def _libc_trim() -> None:
    """malloc_trim(0): glibc only; a no-op elsewhere (musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c")
    if not name:
        return
    try:
        libc = ctypes.CDLL(name)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    trim(0)


# `run` releases only when the process holds this much: a full garbage collection costs tens of
# milliseconds in a large Python heap, which small nights (and the test suite) should not pay
# after every stage; big nights are where the pages matter.
RELEASE_ABOVE_BYTES = 1 << 30


def resident_bytes() -> int | None:
    """This process's resident set (Linux /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def release_memory(if_rss_above: int = 0) -> bool:
    """Collect garbage, then ask pyarrow's pool and glibc to return unused pages.

    With `if_rss_above`, only when the process holds more than that (or its size is unknown).
    Returns whether it released.
    """
    if if_rss_above:
        rss = resident_bytes()
        if rss is not None and rss <= if_rss_above:
            return False
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    _libc_trim()
    return True
