"""The per-run cache: `leadctl run` derives the latest stage rows once for rate and assign."""

from __future__ import annotations

import os
from datetime import UTC as UTC_TZ
from datetime import date, datetime
from pathlib import Path

import polars as pl

from leadctl.stages import lifecycle
from leadctl.stages.lifecycle import clear_run_cache, run_cache, scan_identity, shared
from leadctl.stages.rate_stages import history_latest, latest_frames

UTC = pl.Datetime("us", "UTC")
AS_OF = date(2026, 11, 20)


def _history(stages: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "lead_id": ["a", "a", "b", "c"][: len(stages)],
            "product_group": ["Cloud", "Cloud", None, "Security"][: len(stages)],
            "stage": stages,
            "changed_at": [datetime(2026, 11, d, tzinfo=UTC_TZ) for d in (1, 2, 3, 21)][
                : len(stages)
            ],
            "changed_by": ["u1"] * len(stages),
            "reason": [None] * len(stages),
        },
        schema_overrides={"changed_at": UTC, "reason": pl.String, "product_group": pl.String},
    )


def test_only_a_plain_scan_of_one_file_has_an_identity(tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    _history(["MQL", "SAL", "MQL", "SQL"]).write_parquet(path)
    st = path.stat()
    assert scan_identity(pl.scan_parquet(path)) == (str(path.resolve()), st.st_size, st.st_mtime_ns)
    assert scan_identity(_history(["MQL"]).lazy()) is None  # in memory
    assert scan_identity(pl.scan_parquet(path).filter(pl.col("stage") == "MQL")) is None
    assert scan_identity(pl.scan_parquet(path).select("lead_id")) is None
    other = tmp_path / "g.parquet"
    _history(["MQL"]).write_parquet(other)
    assert scan_identity(pl.scan_parquet([path, other])) is None


def test_shared_computes_once_inside_a_run_and_every_time_outside() -> None:
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert shared("k", compute) == 1
    assert shared("k", compute) == 2  # no run: not kept
    with run_cache():
        assert shared("k", compute) == 3
        assert shared("k", compute) == 3
        assert shared(None, compute) == 4  # no key: never shared
        with run_cache():  # nested: the same cache
            assert shared("k", compute) == 3
        clear_run_cache()
        assert shared("k", compute) == 5
    assert lifecycle._RUN_CACHE is None
    assert shared("k", compute) == 6


def test_latest_frames_equal_history_latest_and_are_shared_per_file_and_as_of(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stage_history.parquet"
    _history(["MQL", "SAL", "MQL", "SQL"]).write_parquet(path)
    by_group, general = pl.collect_all(history_latest(pl.scan_parquet(path), AS_OF))
    with run_cache():
        first = latest_frames(pl.scan_parquet(path), AS_OF)
        assert (
            first[0]
            .sort("lead_id", "product_group")
            .equals(by_group.sort("lead_id", "product_group"))
        )
        assert first[1].sort("lead_id").equals(general.sort("lead_id"))
        again = latest_frames(pl.scan_parquet(path), AS_OF)
        assert again[0] is first[0] and again[1] is first[1]
        # Another as-of is another question.
        later = latest_frames(pl.scan_parquet(path), date(2026, 11, 21))
        assert later[0] is not first[0]
        assert "SQL" in later[0]["_s_stage"].to_list()
        # A rewritten file is another input (size / mtime differ).
        _history(["MQL", "Won", "MQL"]).write_parquet(path)
        os.utime(path, ns=(1, 1))
        changed = latest_frames(pl.scan_parquet(path), AS_OF)
        assert changed[0]["_s_stage"].to_list() == ["Won"]
        # An in-memory frame is never taken from the cache.
        memory = latest_frames(_history(["Lost"]).lazy(), AS_OF)
        assert memory[0]["_s_stage"].to_list() == ["Lost"]


def test_lead_frame_equals_lead_stages_with_extra_and_shares_the_base(tmp_path: Path) -> None:
    from leadctl.config.lifecycle import LifecycleConfig
    from leadctl.stages.rate_stages import lead_frame, lead_stages

    history = tmp_path / "stage_history.parquet"
    _history(["MQL", "SAL", "MQL", "SQL"]).write_parquet(history)
    leads_path = tmp_path / "leads.parquet"
    pl.DataFrame(
        {
            "lead_id": ["c", "a", None, "d", "b"],
            "stage": [None, "Inquiry", "MQL", None, "SAL"],
            "created_at": [datetime(2026, 1, d, tzinfo=UTC_TZ) for d in range(1, 6)],
            "owner_id": ["r1", None, "r2", "r3", "r1"],
        },
        schema_overrides={"created_at": UTC, "stage": pl.String},
    ).write_parquet(leads_path)
    lifecycle = LifecycleConfig()
    owner = [pl.col("owner_id").cast(pl.String).alias("_owner")]
    scan_h, scan_l = pl.scan_parquet(history), pl.scan_parquet(leads_path)
    by_group, general = latest_frames(scan_h, AS_OF)
    expected = lead_stages(scan_l, by_group.lazy(), general.lazy(), lifecycle, owner).collect()
    got = lead_frame(scan_l, scan_h, lifecycle, AS_OF, owner)
    assert got.select(expected.columns).equals(expected)  # same rows, in the leads' order
    with run_cache():
        first = lead_frame(scan_l, scan_h, lifecycle, AS_OF)
        assert first.equals(expected.drop("_owner"))
        assert lead_frame(pl.scan_parquet(leads_path), scan_h, lifecycle, AS_OF) is first
        with_owner = lead_frame(scan_l, scan_h, lifecycle, AS_OF, owner)
        assert with_owner.select(expected.columns).equals(expected)
        # Leads given in memory (another order): never shared, and joined by id.
        shuffled = scan_l.collect().reverse().lazy()
        other = lead_frame(shuffled, scan_h, lifecycle, AS_OF, owner)
        assert other.sort("lead_id").select(expected.columns).equals(expected.sort("lead_id"))
        # Leads whose order changes from one read to the next: the ids do not line up, so the
        # extra columns are joined by id (either way, the same values per lead).
        moving = scan_l.sort(pl.int_range(pl.len()).shuffle())
        joined = lead_frame(moving, scan_h, lifecycle, AS_OF, owner)
        assert joined.sort("lead_id").select(expected.columns).equals(expected.sort("lead_id"))
