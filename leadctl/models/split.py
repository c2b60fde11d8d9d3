"""Train / held-out split: the latest snapshots are held out (never a random split across time).

The held-out rows are halved by lead: one half picks the number of trees and fits the
calibration, the other measures the metrics the card reports, so those are honest. Without
usable dates (one snapshot, or no positives late enough) the split is stratified by label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

MIN_HOLDOUT_POSITIVES = 20


@dataclass
class Split:
    kind: str  # time | stratified
    train: np.ndarray  # boolean masks over the frame's rows
    valid: np.ndarray  # early stopping + calibration
    test: np.ndarray  # reported metrics
    note: str


def _alternate_leads(frame: pl.DataFrame, mask: np.ndarray) -> np.ndarray:
    """Within `mask`, every other lead (by lead_id order) goes to the first half."""
    leads = frame.filter(pl.Series(mask)).select(pl.col("lead_id").unique().sort())
    first = set(leads["lead_id"].gather_every(2).to_list()) if leads.height else set()
    return mask & frame["lead_id"].is_in(list(first)).to_numpy()


def _stratified(frame: pl.DataFrame, share: float) -> np.ndarray:
    """Held-out mask: within each label class, rows spread evenly by lead_id order."""
    ranked = (
        frame.select(
            pl.int_range(pl.len()).alias("_i"),
            pl.col("label"),
            pl.col("lead_id"),
        )
        .sort(["label", "lead_id", "_i"])
        .with_columns(pl.int_range(pl.len()).over("label").alias("_k"))
    )
    k = ranked["_k"].to_numpy().astype(np.float64)
    hold = np.floor((k + 1) * share) > np.floor(k * share)
    out = np.zeros(frame.height, dtype=bool)
    out[ranked["_i"].to_numpy()] = hold
    return out


def make_split(frame: pl.DataFrame, *, holdout_snapshots: int, stratified_share: float) -> Split:
    """Split rows (lead_id, snapshot_at, label) into train / valid / test masks."""
    y = frame["label"].to_numpy().astype(bool)
    dates = frame["snapshot_at"].unique().sort()
    note = ""
    if dates.len() >= 2:
        h = min(holdout_snapshots, dates.len() - 1)
        first_held = dates[dates.len() - h]
        hold = (frame["snapshot_at"] >= first_held).to_numpy()
        if y[hold].sum() >= MIN_HOLDOUT_POSITIVES and y[~hold].sum() >= MIN_HOLDOUT_POSITIVES:
            valid = _alternate_leads(frame, hold)
            return Split(
                "time",
                ~hold,
                valid,
                hold & ~valid,
                f"held out the latest {h} snapshot(s) from {first_held:%Y-%m-%d}",
            )
        note = (
            f"too few positives to hold out the latest {h} snapshot(s) "
            f"({int(y[hold].sum())} held out, {int(y[~hold].sum())} before); "
        )
    else:
        note = "one snapshot date (no usable dates for a time-based split); "
    hold = _stratified(frame, stratified_share)
    valid = np.zeros(frame.height, dtype=bool)
    valid[np.flatnonzero(hold)[::2]] = True
    return Split(
        "stratified",
        ~hold,
        valid,
        hold & ~valid,
        note + f"fell back to a stratified split holding out {stratified_share:.0%} of rows",
    )
