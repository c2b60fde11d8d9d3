"""Partitioned scoring gives the one-pass scores, whatever the partition size."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import SAMPLE_AS_OF, write_config
from hypothesis import given, settings
from hypothesis import strategies as st

from leadctl.commands.score_cmd import run_score
from leadctl.config import load_config
from leadctl.features.snapshots import Tables
from leadctl.io.parquet_append import row_groups, write_parquet_stream
from leadctl.io.writers import write_parquet
from leadctl.models.store import load_group, save_group
from leadctl.sample import generate_sample
from leadctl.stages import score as stage
from leadctl.stages import train as train_stage
from leadctl.stages.score_partition import (
    colleagues,
    partition_bounds,
    partition_tables,
    score_partitioned,
)
from leadctl.workspace import Workspace

pytestmark = pytest.mark.slow
TABLES = ("leads", "accounts", "activities", "opportunities", "stage_history")
GROUPS = ["Analytics", "Cloud"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("score_partition")
    generate_sample(
        root / "exports", n_leads=1500, seed=11, product_groups=2, export_date=SAMPLE_AS_OF
    )
    cfg = load_config(write_config(root / "config.yaml", root / "exports", root / "out"))
    ws = Workspace(cfg, SAMPLE_AS_OF)
    tables = Tables(*(ws.table(n) for n in TABLES))
    data = train_stage.prepare(tables, GROUPS, ws.as_of, cfg.train)
    for g in GROUPS:
        frame = train_stage.group_frame(data, g, None).collect()
        r = train_stage.train_group(frame, data, g, cfg.train, as_of=ws.as_of)
        save_group(ws.models_dir, g, r.status, r.models, r.calibration, r.card)
    models = {g: load_group(ws.models_dir, g) for g in GROUPS}
    return root, ws, tables, models


def _one_pass(world, models, points, cfg) -> tuple[pl.DataFrame, dict]:
    _, ws, tables, _ = world
    data = stage.prepare(tables, GROUPS, ws.as_of, ws.cfg.train.features, models)
    result = stage.score(data, GROUPS, models, points, cfg, ws.cfg.train.features)
    return result.scores, result.groups


def _partitioned(world, models, points, cfg, size: int, out: Path) -> dict:
    _, ws, tables, _ = world
    bounds = partition_bounds(tables.leads, size)
    assert bounds is not None and len(bounds) > 1
    return score_partitioned(
        tables, GROUPS, ws.as_of, ws.cfg.train.features, models, points, cfg, bounds, out
    ).groups


def test_bounds_are_contiguous_ranges_of_the_sorted_ids(world):
    _, _, tables, _ = world
    ids = tables.leads.select("lead_id").collect()["lead_id"].sort()
    assert partition_bounds(tables.leads, ids.len()) is None
    bounds = partition_bounds(tables.leads, 400)
    assert bounds is not None and len(bounds) == -(-ids.len() // 400)
    sizes = [ids.is_between(lo, hi).sum() for lo, hi in bounds]
    assert sum(sizes) == ids.len() and max(sizes) <= 400
    assert all(a[1] < b[0] for a, b in zip(bounds, bounds[1:], strict=False))


def test_partition_features_equal_the_one_pass_features(world):
    """A lead's features, the buying-group count included, do not depend on which other leads
    are scored with it."""
    _, ws, tables, models = world
    features = ws.cfg.train.features
    full = stage.prepare(tables, GROUPS, ws.as_of, features, models)
    known = colleagues(tables, ws.as_of, features)
    bounds = partition_bounds(tables.leads, 300)
    assert bounds is not None
    engaged = [c for c in full.base.columns if c.startswith("colleagues_engaged_")]
    assert engaged and full.base[engaged[0]].sum() > 0
    for b in bounds[:2]:
        ptables, keys, own = partition_tables(tables, b, known, ws.as_of, features)
        part = stage.prepare(
            ptables, GROUPS, ws.as_of, features, models, key_leads=keys, event_activities=own
        )
        inside = pl.col("lead_id").is_between(pl.lit(b[0]), pl.lit(b[1]))
        assert part.base.equals(full.base.filter(inside))
        assert part.per_group.equals(full.per_group.filter(inside))
    # Without the colleagues outside the range the count would be wrong: the check has teeth.
    ptables, keys, own = partition_tables(tables, bounds[0], None, ws.as_of, features)
    alone = stage.prepare(
        ptables, GROUPS, ws.as_of, features, models, key_leads=keys, event_activities=own
    )
    inside = pl.col("lead_id").is_between(pl.lit(bounds[0][0]), pl.lit(bounds[0][1]))
    assert not alone.base[engaged[0]].equals(full.base.filter(inside)[engaged[0]])


@pytest.mark.parametrize("max_leads", [5_000, 7])
def test_partitioned_scores_equal_the_one_pass_scores(world, tmp_path: Path, max_leads: int):
    _, ws, _, models = world
    cfg = ws.cfg.score.model_copy(
        update={"reasons": ws.cfg.score.reasons.model_copy(update={"max_leads": max_leads})}
    )
    expected, groups = _one_pass(world, models, {}, cfg)
    assert expected.filter(pl.col("reasons_for").list.len() > 0).height > 0
    got = _partitioned(world, models, {}, cfg, 250, tmp_path / "a" / "scores.parquet")
    assert pl.read_parquet(tmp_path / "a" / "scores.parquet").equals(expected)
    assert got == groups
    # Other partition sizes: the same bytes, and nothing left beside the output.
    _partitioned(world, models, {}, cfg, 611, tmp_path / "b" / "scores.parquet")
    assert filecmp.cmp(tmp_path / "a" / "scores.parquet", tmp_path / "b" / "scores.parquet", False)
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["scores.parquet"]


def test_points_model_groups_partition_alike(world, tmp_path: Path):
    _, ws, _, models = world
    only_cloud = {"Cloud": models["Cloud"]}
    points = {g: ws.cfg.points.for_group(g) for g in GROUPS}
    cfg = ws.cfg.score.model_copy(
        update={"reasons": ws.cfg.score.reasons.model_copy(update={"max_leads": 11})}
    )
    expected, groups = _one_pass(world, only_cloud, points, cfg)
    assert set(expected["model_kind"]) == {"points", "lightgbm"}
    got = _partitioned(world, only_cloud, points, cfg, 333, tmp_path / "scores.parquet")
    assert pl.read_parquet(tmp_path / "scores.parquet").equals(expected)
    assert got == groups


def test_run_score_partitions_above_the_configured_size(world, tmp_path: Path):
    root, ws, _, _ = world
    single = run_score(ws)
    cfg = load_config(
        write_config(
            tmp_path / "config.yaml",
            root / "exports",
            tmp_path / "out",
            score={"partition_leads": 500},
            output={"dir": str(tmp_path / "out"), "models_dir": str(ws.models_dir)},
        )
    )
    parted = run_score(Workspace(cfg, SAMPLE_AS_OF))
    assert pl.read_parquet(parted["output"]).equals(pl.read_parquet(single["output"]))
    assert {k: v for k, v in parted.items() if k != "output"} == {
        k: v for k, v in single.items() if k != "output"
    }


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 700),
    cuts_a=st.lists(st.integers(0, 700), max_size=6),
    cuts_b=st.lists(st.integers(0, 700), max_size=6),
    size=st.sampled_from([1, 7, 64, 1000]),
)
def test_streamed_parquet_bytes_depend_only_on_the_rows(
    tmp_path_factory: pytest.TempPathFactory, n: int, cuts_a, cuts_b, size: int
):
    rng = np.random.default_rng(n)
    frame = pl.DataFrame(
        {
            "lead_id": [f"L{i:05d}" for i in range(n)],
            "score": rng.uniform(0, 100, n),
            "reasons": [[f"r{j}" for j in range(i % 3)] for i in range(n)],
        },
        schema_overrides={"reasons": pl.List(pl.String)},
    )

    def cut(points: list[int]) -> list[pl.DataFrame]:
        edges = sorted({0, n, *[min(p, n) for p in points]})
        return [frame.slice(a, b - a) for a, b in zip(edges, edges[1:], strict=False)]

    got = list(row_groups(cut(cuts_a), size))
    assert all(g.height == size for g in got[:-1]) and sum(g.height for g in got) == n
    tmp = tmp_path_factory.mktemp("stream")
    write_parquet_stream(cut(cuts_a), frame.schema, tmp / "a.parquet")
    write_parquet_stream(cut(cuts_b), frame.schema, tmp / "b.parquet")
    assert filecmp.cmp(tmp / "a.parquet", tmp / "b.parquet", shallow=False)
    assert pl.read_parquet(tmp / "a.parquet").equals(frame)
    # One row group (this size): the whole-frame writer's bytes too.
    write_parquet(frame, tmp / "c.parquet")
    assert filecmp.cmp(tmp / "a.parquet", tmp / "c.parquet", shallow=False)
