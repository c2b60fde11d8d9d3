"""The floor: what any implementation must spend to read the night's inputs and score them.

Reads every export once with polars (all columns, all rows), then runs raw LightGBM prediction
of each trained model (fit, engagement, propensity per product group) on one row per lead. No
features, no reason codes, no writing: the time below which `leadctl run` cannot go.

Run in its own process so its peak RSS is measured alone:
`python -m bench.floor --config bench/data/.../config.yaml` prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import polars as pl

from leadctl.config import load_config
from leadctl.models.store import KINDS, group_dir


def read_inputs(paths: dict[str, Path]) -> tuple[dict[str, int], int]:
    """Read every export fully; returns rows per table and the leads count."""
    rows: dict[str, int] = {}
    leads = 0
    for name, path in paths.items():
        frame = (
            pl.read_parquet(path)
            if path.suffix == ".parquet" or path.is_dir()
            else pl.read_csv(path, infer_schema=False)
        )
        rows[name] = frame.height
        if name == "leads":
            leads = frame.height
        del frame
    return rows, leads


def predict_all(models_dir: Path, groups: list[str], n_rows: int, threads: int) -> dict[str, Any]:
    """Raw prediction of every model file on n_rows rows; matrices are built before timing."""
    boosters = []
    for group in groups:
        for kind in KINDS:
            path = group_dir(models_dir, group) / f"{kind}.txt"
            if path.is_file():
                boosters.append((group, kind, lgb.Booster(model_file=str(path))))
    rng = np.random.default_rng(0)
    matrices: dict[int, np.ndarray] = {}
    for _, _, booster in boosters:
        width = booster.num_feature()
        if width not in matrices:
            matrices[width] = rng.uniform(0.0, 30.0, size=(n_rows, width)).astype(np.float32)
    start = time.perf_counter()
    for _, _, booster in boosters:
        booster.predict(matrices[booster.num_feature()], raw_score=True, num_threads=threads)
    seconds = time.perf_counter() - start
    return {
        "models": len(boosters),
        "rows": n_rows,
        "predict_seconds": seconds,
        "groups_with_models": sorted({g for g, _, _ in boosters}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    paths = {name: t.path for name, t in cfg.inputs.tables.items()}
    start = time.perf_counter()
    rows, leads = read_inputs(paths)
    read_seconds = time.perf_counter() - start
    pred = predict_all(cfg.output.models, list(cfg.product_groups), leads, cfg.score.num_threads)
    print(
        json.dumps(
            {
                "read_seconds": read_seconds,
                "rows": rows,
                **pred,
                "seconds": read_seconds + pred["predict_seconds"],
            }
        )
    )


if __name__ == "__main__":
    main()
