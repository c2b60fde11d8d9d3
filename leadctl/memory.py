"""Give freed memory back to the operating system between the stages of one `run`.

`leadctl run` runs every stage in one process. glibc (numpy, LightGBM) and pyarrow's pool keep
freed pages for reuse, so without this the night's peak is one stage's peak plus what the
earlier stages left cached. Releasing after each stage keeps the peak at the largest stage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
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


def release_memory() -> None:
    """Collect garbage, then ask pyarrow's pool and glibc to return unused pages."""
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    _libc_trim()
