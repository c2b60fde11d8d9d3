"""release_memory gives pages back between stages without breaking anything after it."""

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from leadctl.memory import release_memory


def _rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_memory_returns_freed_pyarrow_pages_to_the_os():
    pool = pa.default_memory_pool()
    base = pa.array(np.arange(1_000_000, dtype=np.int64))
    chunks = [pc.add(base, i) for i in range(40)]  # allocated in pyarrow's pool
    assert pool.bytes_allocated() >= 40 * 8_000_000
    held = _rss_bytes()
    del chunks
    release_memory()
    assert pool.bytes_allocated() < 8_000_000
    # 320 MB were allocated; at least half of it is given back to the OS.
    assert _rss_bytes() < held - 160_000_000, "freed pool pages stayed resident"


def test_release_memory_can_run_repeatedly_and_later_allocations_work():
    for _ in range(3):
        release_memory()
    values = pa.array(np.arange(10, dtype=np.int64))
    assert values.to_pylist() == list(range(10))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_memory_below_the_threshold_leaves_the_process_alone():
    pool = pa.default_memory_pool()
    base = pa.array(np.arange(1_000_000, dtype=np.int64))
    chunks = [pc.add(base, i) for i in range(10)]
    del chunks
    held = _rss_bytes()
    assert release_memory(if_rss_above=held * 100) is False
    assert _rss_bytes() > held - 40_000_000  # the freed 80 MB were not handed back
    assert release_memory(if_rss_above=1) is True
    assert pool.bytes_allocated() < 8_000_000
