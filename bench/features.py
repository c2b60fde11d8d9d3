"""Time the engagement-feature build for one snapshot: leadctl (polars) against plain pandas.

Each engine runs in its own process (`python -m bench.features --engine polars|pandas ...`),
reads the canonical Parquet tables `leadctl validate` wrote, builds every lead's lead-level and
product-group engagement features at the scoring snapshot, and prints its timings as JSON.
The frames are written afterwards (not timed) so the harness can check both agree.

`--engine account-keys` writes the (lead_id, account_key) mapping both engines are given.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from leadctl.config import load_config
from leadctl.features import engagement as E
from leadctl.features.fit import account_keys
from leadctl.features.snapshots import cutoff

TABLE_FILES = ("leads", "accounts", "activities", "opportunities", "stage_history")


def _scan(canonical: Path, name: str) -> pl.LazyFrame:
    return pl.scan_parquet(canonical / f"{name}.parquet")


def write_account_keys(canonical: Path, out: Path) -> None:
    """leadctl's lead → account mapping, as a Parquet file both engines read."""
    acct = account_keys(_scan(canonical, "leads"), _scan(canonical, "accounts")).select(
        "lead_id", "account_key"
    )
    acct.sink_parquet(out)


def run_polars(
    canonical: Path,
    acct_file: Path,
    groups: list[str],
    as_of: date,
    cfg: Any,
    recycled: str,
    disqualified: str,
) -> tuple[dict[str, float], pl.DataFrame, pl.DataFrame]:
    """leadctl's own engagement functions, called the way `build_features` calls them for
    scoring (one snapshot): the per-type summary materialised once and shared."""
    start = time.perf_counter()
    snap = cutoff(as_of)
    leads = _scan(canonical, "leads")
    activities = _scan(canonical, "activities")
    types = E.activity_vocabulary(activities, cfg, snap)
    lead_keys = (
        leads.select("lead_id")
        .unique()
        .with_columns(snapshot_at=pl.lit(snap, dtype=pl.Datetime("us", "UTC")))
    )
    keys = lead_keys.join(pl.LazyFrame({"product_group": groups}), how="cross").select(E.GROUP_KEYS)
    acct = pl.scan_parquet(acct_file)
    events = E.point_in_time_events(activities, lead_keys, [snap], cfg.lookback_days)
    summary = E.type_summary(events, cfg).collect(engine="streaming").lazy()
    active = E.active_leads(activities, [snap], cfg) if cfg.buying_group else None
    base = E.base_engagement(
        events,
        lead_keys,
        types,
        cfg,
        created=leads.select("lead_id", "created_at"),
        account_keys=acct,
        opportunities=_scan(canonical, "opportunities"),
        summary=summary,
        active=active,
    )
    group = E.group_engagement(
        events,
        keys,
        cfg,
        stage_history=_scan(canonical, "stage_history"),
        recycled_stage=recycled,
        disqualified_stage=disqualified,
        summary=summary,
    )
    base_df, group_df = pl.collect_all([base, group])
    return {"seconds": time.perf_counter() - start}, base_df, group_df


def run_pandas(
    canonical: Path,
    acct_file: Path,
    groups: list[str],
    as_of: date,
    cfg: Any,
    recycled: str,
    disqualified: str,
) -> tuple[dict[str, float], pl.DataFrame, pl.DataFrame]:
    """The pandas baseline: reading with pandas, then the features (timed separately too)."""
    from bench import pandas_baseline as PB

    start = time.perf_counter()
    inputs = PB.read_inputs(canonical, acct_file)
    read = time.perf_counter() - start
    snap = PB.pd.Timestamp(cutoff(as_of))
    types = PB.activity_vocabulary(inputs.activities, cfg, snap)
    ev = PB.events_at(inputs.activities, snap, cfg)
    base = PB.base_engagement(inputs, ev, types, cfg, snap)
    group = PB.group_engagement(
        inputs, ev, groups, cfg, snap, recycled_stage=recycled, disqualified_stage=disqualified
    )
    seconds = time.perf_counter() - start
    base_df = pl.from_pandas(base)
    group_df = pl.from_pandas(group)
    return {"seconds": seconds, "read_seconds": read}, base_df, group_df


def compare(a: Path, b: Path, keys: list[str]) -> dict[str, Any]:
    """Largest absolute difference per column between two feature files (nulls must match)."""
    left = pl.read_parquet(a).sort(keys)
    right = pl.read_parquet(b).sort(keys)
    out: dict[str, Any] = {
        "rows": [left.height, right.height],
        "columns_only_in_one": sorted(set(left.columns) ^ set(right.columns)),
        "max_abs_diff": {},
        "null_mismatches": {},
    }
    if left.height != right.height:
        return out
    for key in keys:
        if key == "snapshot_at":
            continue
        if not left[key].cast(pl.String).equals(right[key].cast(pl.String)):
            out["key_mismatch"] = key
            return out
    for col in left.columns:
        if col in keys or col not in right.columns:
            continue
        x = left[col].cast(pl.Float64).fill_nan(None)
        y = right[col].cast(pl.Float64).fill_nan(None)
        nulls = int((x.is_null() != y.is_null()).sum())
        if nulls:
            out["null_mismatches"][col] = nulls
        diff = (x - y).abs().max()
        out["max_abs_diff"][col] = float(diff) if diff is not None else 0.0
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["polars", "pandas", "account-keys"], required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--canonical", type=Path, required=True)
    parser.add_argument(
        "--work", type=Path, required=True, help="folder for the mapping and outputs"
    )
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    acct_file = args.work / "account_keys.parquet"
    if args.engine == "account-keys":
        write_account_keys(args.canonical, acct_file)
        print(json.dumps({"written": str(acct_file)}))
        return
    cfg = load_config(args.config)
    groups = list(cfg.product_groups)
    as_of = date.fromisoformat(args.as_of)
    runner = run_polars if args.engine == "polars" else run_pandas
    timings, base, group = runner(
        args.canonical,
        acct_file,
        groups,
        as_of,
        cfg.train.features,
        cfg.lifecycle.recycled_stage,
        cfg.lifecycle.disqualified_stage,
    )
    base.write_parquet(args.work / f"{args.engine}_base.parquet")
    group.write_parquet(args.work / f"{args.engine}_group.parquet")
    print(
        json.dumps(
            {
                **timings,
                "base_rows": base.height,
                "group_rows": group.height,
                "features": base.width + group.width - 5,
            }
        )
    )


if __name__ == "__main__":
    main()
