"""The floor: what any implementation must spend to read the night's inputs and score them.

Reads every export once with polars (all columns, all rows), then runs raw LightGBM prediction
of each trained model (fit, engagement, propensity per product group) on one row per lead. No
features, no reason codes, no writing: the time below which `leadctl run` cannot go.

The rows predicted on are the night's real feature matrices (`--as-of`: built with leadctl's own
scoring features before the clock starts, from the canonical tables `validate` wrote), because
tree depth, and with it prediction time, depends on the values: uniform random rows stop at
shallow leaves and made the first floor about 2x too low. Without `--as-of` (or when the
canonical tables are missing) random rows are used and the JSON says `"rows_kind": "synthetic"`.

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
from leadctl.errors import LeadctlError
from leadctl.models.store import KINDS, group_dir

# Parquet exports are read in slices of this many rows, so the 10 M set's 228 M activities do
# not have to fit in memory at once; every 1 M-set export is one slice.
READ_SLICE_ROWS = 25_000_000


def _read_parquet_rows(path: Path) -> int:
    """Read every column of every row, a slice at a time; returns the row count."""
    scan = pl.scan_parquet(path)
    total = scan.select(pl.len()).collect().item()
    for offset in range(0, total, READ_SLICE_ROWS):
        frame = scan.slice(offset, READ_SLICE_ROWS).collect()
        del frame
    return int(total)


def read_inputs(paths: dict[str, Path]) -> tuple[dict[str, int], int]:
    """Read every export fully; returns rows per table and the leads count."""
    rows: dict[str, int] = {}
    for name, path in paths.items():
        if path.suffix == ".parquet" or path.is_dir():
            rows[name] = _read_parquet_rows(path)
        else:
            rows[name] = pl.read_csv(path, infer_schema=False).height
    return rows, rows.get("leads", 0)


def real_matrices(config: Path, as_of: str) -> dict[str, np.ndarray] | None:
    """Each group's model matrix as `leadctl score` builds it tonight (None without models or
    canonical tables). Built before any timing starts; only prediction is timed."""
    from leadctl.cli_common import workspace
    from leadctl.commands.score_cmd import load_models, scorable
    from leadctl.features.spec import encode
    from leadctl.stages.score import _group_frame

    ws = workspace(config, as_of)
    if not (ws.canonical_dir / "leads.parquet").is_file():
        return None
    groups = ws.product_groups()
    models = load_models(ws, groups)
    if not models:
        return None
    data = scorable(ws, groups, models)
    out = {}
    for group, model in models.items():
        out[group] = encode(_group_frame(data, group), model.features["propensity"])
    del data
    return out


def predict_real(models_dir: Path, matrices: dict[str, np.ndarray], threads: int) -> dict[str, Any]:
    """Raw prediction of each group's models on that group's real matrix (the columns each kind
    was trained on, as the stage hands them over)."""
    from leadctl.models.store import load_group

    jobs = []
    for group, X in matrices.items():
        model = load_group(models_dir, group)
        position = {f.name: i for i, f in enumerate(model.features["propensity"])}
        for kind in KINDS:
            cols = [position[f.name] for f in model.features[kind]]
            part = X if cols == list(range(X.shape[1])) else np.ascontiguousarray(X[:, cols])
            jobs.append((group, kind, model.boosters[kind], part))
    start = time.perf_counter()
    for _, _, booster, part in jobs:
        booster.predict(part, raw_score=True, num_threads=threads)
    seconds = time.perf_counter() - start
    return {
        "models": len(jobs),
        "rows": max((m.shape[0] for m in matrices.values()), default=0),
        "rows_kind": "real features",
        "predict_seconds": seconds,
        "groups_with_models": sorted(matrices),
    }


def predict_all(models_dir: Path, groups: list[str], n_rows: int, threads: int) -> dict[str, Any]:
    """Raw prediction of every model file on n_rows random rows (no data set features)."""
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
        "rows_kind": "synthetic",
        "predict_seconds": seconds,
        "groups_with_models": sorted({g for g, _, _ in boosters}),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--as-of", default=None, help="predict on this night's real features")
    args = parser.parse_args(argv)
    cfg = load_config(args.config)
    paths = {name: t.path for name, t in cfg.inputs.tables.items()}
    start = time.perf_counter()
    rows, leads = read_inputs(paths)
    read_seconds = time.perf_counter() - start
    matrices, why_synthetic = None, "no --as-of; the harness builds real features up to 1 M leads"
    if args.as_of:
        try:
            matrices = real_matrices(args.config, args.as_of)
            why_synthetic = "no canonical tables or models"
        except LeadctlError as exc:  # e.g. models trained with another config
            why_synthetic = f"real features failed: {exc}"
    if matrices:
        pred = predict_real(cfg.output.models, matrices, cfg.score.num_threads)
    else:
        groups = list(cfg.product_groups)
        pred = predict_all(cfg.output.models, groups, leads, cfg.score.num_threads)
        pred["why_synthetic"] = why_synthetic[:300]
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
