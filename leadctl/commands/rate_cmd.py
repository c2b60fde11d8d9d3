"""`leadctl rate`: ratings, MQL decisions and the nurture list; `--suggest` proposes cutoffs.

The shell around leadctl.stages.rate: reads scores and canonical tables through the Workspace,
reads last night's state snapshot, writes ratings.parquet, nurture.csv and tonight's snapshot.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
import typer
from rich.panel import Panel
from rich.table import Table

from leadctl.cli_common import (
    DEFAULT_CONFIG,
    AsOfOpt,
    ConfigOpt,
    InputDirOpt,
    JsonOpt,
    OutOpt,
    app,
    console,
    handle_errors,
    print_json,
    workspace,
)
from leadctl.config.rating import ENGAGEMENT_GRADES, FIT_GRADES
from leadctl.errors import InputError
from leadctl.io.parquet_append import concat_parquet_files
from leadctl.io.parts import parts_dir, remove_abandoned_parts
from leadctl.io.writers import atomic_path, write_csv, write_parquet
from leadctl.logs import is_quiet
from leadctl.stages import rate as stage
from leadctl.stages.lifecycle import current_stages, open_load
from leadctl.stages.rate_overrides import RuleReview, review_rules
from leadctl.stages.rate_partition import all_thresholds, cutoffs_table, lead_ranges, rate_ranges
from leadctl.stages.rate_suggest import daily_capacity, suggest_cutoffs
from leadctl.workspace import Workspace

log = logging.getLogger("leadctl.rate")
COLLECT_ENGINE: Literal["in-memory"] = "in-memory"


def state_path(ws: Workspace, as_of: date) -> Path:
    """Tonight's snapshot: one file per as-of date, so re-running a night reads the same input."""
    return ws.state_dir / "rate" / f"{as_of.isoformat()}.parquet"


def previous_state(ws: Workspace) -> tuple[pl.LazyFrame | None, date | None]:
    """The latest snapshot strictly before as_of (none: the first night)."""
    folder = ws.state_dir / "rate"
    dated = []
    for path in folder.glob("*.parquet") if folder.is_dir() else []:
        try:
            day = date.fromisoformat(path.stem)
        except ValueError:
            continue
        if day < ws.as_of:
            dated.append((day, path))
    if not dated:
        return None, None
    day, path = max(dated)
    try:
        frame = pl.scan_parquet(path)
        columns = frame.collect_schema().names()
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(
            f"rate state {path} cannot be read ({type(exc).__name__}); move it away to start "
            "from a first night, or restore it from backup"
        ) from None
    missing = [c for c in stage.STATE_SCHEMA if c not in columns]
    if missing:
        raise InputError(
            f"rate state {path} lacks column(s) {missing}; it was not written by this version of "
            "rate: move it away to start from a first night"
        )
    return frame, day


def _strictly_increasing(keys: pl.DataFrame) -> bool:
    """True when every (lead_id, product_group) row is above the one before, so no pair repeats.

    score writes its rows sorted by the keys: comparing neighbours is a cheap proof of "no
    duplicates" for a 3 M-row file, where a group-by on two strings costs ~0.75 CPU-s. Any
    other order (or a null) says nothing, and the caller falls back to the group-by.
    """
    if keys.height < 2:
        return True
    lead = keys["lead_id"].cast(pl.String)
    group = keys["product_group"].cast(pl.String)
    if lead.null_count() or group.null_count():
        return False
    prev_lead, next_lead = lead.slice(0, keys.height - 1), lead.slice(1)
    prev_group, next_group = group.slice(0, keys.height - 1), group.slice(1)
    above = (next_lead > prev_lead) | ((next_lead == prev_lead) & (next_group > prev_group))
    return bool(above.all())


def _scores(ws: Workspace) -> tuple[pl.LazyFrame, list[tuple[str, str]] | None]:
    """The scores, and the lead ranges to rate them in (None: one pass; only sorted scores
    with more leads than score.partition_leads are rated in ranges)."""
    scores = ws.read_output("scores.parquet", produced_by="score")
    path = ws.output("scores.parquet")
    missing = stage.missing_score_columns(scores.collect_schema().names())
    if missing:
        raise InputError(
            f"{path} lacks column(s) {missing} (see docs/pipeline.md): re-run `leadctl score "
            f"--as-of {ws.as_of}`"
        )
    keys = scores.select(stage.KEYS).collect()
    if _strictly_increasing(keys):
        return scores, lead_ranges(keys, ws.cfg.score.partition_leads)
    dupes = (
        keys.group_by(stage.KEYS).len().filter(pl.col("len") > 1).sort(stage.KEYS, nulls_last=True)
    )
    if dupes.height:
        examples = ", ".join(
            f"{r['lead_id']}/{r['product_group']}" for r in dupes.head(5).iter_rows(named=True)
        )
        raise InputError(
            f"{path} has {dupes.height} (lead_id, product_group) pair(s) more than once "
            f"(e.g. {examples}): re-run `leadctl score --as-of {ws.as_of}`"
        )
    return scores, None


def _inputs(
    ws: Workspace, *, with_current: bool = True
) -> tuple[stage.RateInputs, list[str], date | None, list[tuple[str, str]] | None]:
    """Without `with_current`, rate derives the stages of its rows from the history itself.
    The last item: the lead ranges to rate in (`_scores`)."""
    scores, ranges = _scores(ws)
    seen = scores.select(pl.col("product_group").cast(pl.String).drop_nulls().unique()).collect()
    groups = sorted(set(ws.product_groups()) | set(seen["product_group"].to_list()))
    leads = ws.table("leads")
    history = ws.table("stage_history")
    current = (
        current_stages(history, leads, groups, ws.cfg.lifecycle, ws.as_of) if with_current else None
    )
    previous, previous_day = previous_state(ws)
    inputs = stage.RateInputs(
        scores=scores,
        leads=leads,
        activities=ws.table("activities"),
        accounts=ws.table("accounts"),
        opportunities=ws.table("opportunities"),
        current=current,
        previous=previous,
        stage_history=history,
    )
    return inputs, groups, previous_day, ranges


def _review(ws: Workspace) -> RuleReview:
    review = review_rules(ws.cfg.rate.overrides, ws.as_of, ws.cfg.report.review_warning_days)
    for rule in review.expired:
        # Rule names and dates only: owners may be people, and logs never name people.
        log.warning(
            "override rule '%s' passed its review date %s and no longer applies",
            rule["name"],
            rule["review_by"],
        )
    return review


def _cutoffs_dict(cutoffs: pl.DataFrame) -> dict[str, Any]:
    def num(value: float | None) -> float | None:
        return None if value is None else round(value, 4)

    return {
        row["product_group"]: {
            "method": row["method"],
            "fit": {g: num(row[f"fit_{g}"]) for g in "ABC"},
            "engagement": {str(i): num(row[f"engagement_{i}"]) for i in (1, 2, 3)},
        }
        for row in cutoffs.filter(pl.col("product_group").is_not_null()).iter_rows(named=True)
    }


def run_rate(ws: Workspace) -> dict[str, Any]:
    """Rate tonight's scores, write ratings.parquet, nurture.csv and the state snapshot.

    More leads than score.partition_leads: rated one lead_id range at a time (same rows)."""
    review = _review(ws)
    inputs, _, previous_day, ranges = _inputs(ws, with_current=False)
    # Parts a killed ranged rate left behind (hundreds of MB at 10 M), whatever tonight's size.
    remove_abandoned_parts(ws.output("ratings.parquet"))
    if ranges is None:
        rows, groups, cutoffs = _rate_one_pass(ws, inputs)
    else:
        log.info(
            "rating in %d lead ranges of at most %d leads",
            len(ranges),
            ws.cfg.score.partition_leads,
        )
        rows, groups, cutoffs = _rate_in_ranges(ws, inputs, ranges)
    totals = {
        key: sum(int(g[key]) for g in groups.values())
        for key in ("mqls", "new_mqls", "override_mqls", "new_override_mqls", "nurture")
    }
    log.info(
        "rated %d rows: %d new MQLs, %d new override MQLs, %d to nurture",
        rows,
        totals["new_mqls"],
        totals["new_override_mqls"],
        totals["nurture"],
    )
    warnings = [
        f"override rule '{r['name']}' passed its review date {r['review_by']} and no longer applies"
        for r in review.expired
    ]
    return {
        "as_of": ws.as_of.isoformat(),
        "rows": rows,
        **totals,
        "groups": groups,
        "cutoffs": _cutoffs_dict(cutoffs),
        "expired_rules": review.expired,
        "rules_due_for_review": review.due_soon,
        "previous_state": previous_day.isoformat() if previous_day else None,
        "outputs": ["ratings.parquet", "nurture.csv"],
        "warnings": warnings,
    }


def _rate_one_pass(
    ws: Workspace, inputs: stage.RateInputs
) -> tuple[int, dict[str, dict[str, Any]], pl.DataFrame]:
    """(rows, per-group summary, cutoffs) after writing the outputs from one frame."""
    # One collect of one sorted frame; the outputs are cheap selections of it. The in-memory
    # engine: this plan (window ranks, many joins onto the same rows) runs faster there.
    rated = stage.rated(inputs, ws.cfg.rate, ws.cfg.lifecycle, ws.as_of).collect(
        engine=COLLECT_ENGINE
    )
    result = stage.split(rated.lazy())
    ratings, nurture, state, cutoffs = pl.collect_all(
        [result.ratings, result.nurture, result.state, result.cutoffs], engine="in-memory"
    )
    del rated
    # One chunk each, so the Parquet row groups (and the file bytes) do not depend on how the
    # engine happened to split the work.
    ratings, state = ratings.rechunk(), state.rechunk()
    write_parquet(ratings, ws.output("ratings.parquet"))
    write_csv(nurture, ws.output("nurture.csv"), escape=ws.cfg.output.escape_formulas)
    write_parquet(state, state_path(ws, ws.as_of))
    groups = stage.summarize(ratings, nurture, ws.cfg.lifecycle.recycled_stage)
    return ratings.height, groups, cutoffs


def _rate_in_ranges(
    ws: Workspace, inputs: stage.RateInputs, ranges: list[tuple[str, str]]
) -> tuple[int, dict[str, dict[str, Any]], pl.DataFrame]:
    """`_rate_one_pass` one lead range at a time (rate_partition): each range's ratings, state
    and nurture rows go to temporary parts, then into the outputs one part at a time.

    ratings.parquet and the state snapshot hold the one-pass rows; their bytes follow
    parquet_append (not those of the one-pass write). nurture.csv is byte-identical."""
    cfg = ws.cfg
    thresholds = all_thresholds(inputs.scores, cfg.rate)
    target = ws.output("ratings.parquet")
    recycled = cfg.lifecycle.recycled_stage
    rows, cells, nurtured = 0, [], Counter[str | None]()
    with parts_dir(target) as parts:
        ranged = rate_ranges(inputs, cfg.rate, cfg.lifecycle, ws.as_of, ranges, thresholds)
        for i, part in enumerate(ranged):
            part.ratings.write_parquet(parts / f"ratings-{i:05d}.parquet", compression="lz4")
            part.state.write_parquet(parts / f"state-{i:05d}.parquet", compression="lz4")
            write_csv(
                part.nurture, parts / f"nurture-{i:05d}.csv", escape=cfg.output.escape_formulas
            )
            cells.append(stage.summary_cells(part.ratings, recycled))
            nurtured.update(stage.nurture_counts(part.nurture))
            rows += part.ratings.height
            del part
        n = len(ranges)
        _concat_csv([parts / f"nurture-{i:05d}.csv" for i in range(n)], ws.output("nurture.csv"))
        concat_parquet_files([parts / f"ratings-{i:05d}.parquet" for i in range(n)], target)
        concat_parquet_files(
            [parts / f"state-{i:05d}.parquet" for i in range(n)], state_path(ws, ws.as_of)
        )
    groups = stage.summarize_cells(stage.merge_cells(cells), dict(nurtured))
    return rows, groups, cutoffs_table(thresholds)


def _concat_csv(files: list[Path], target: Path) -> None:
    """The CSV parts as one file: the first one's header, every part's rows in order."""
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        for i, path in enumerate(files):
            with open(path, "rb") as part:
                if i:
                    part.readline()  # the header again (column names: one line)
                shutil.copyfileobj(part, out, 1 << 20)


def _rule_warnings(summary: dict[str, Any]) -> None:
    for rule in summary.get("expired_rules", []):
        console.print(
            Panel(
                f"Override rule [bold]{rule['name']}[/] (owner {rule['owner']}) passed its review "
                f"date {rule['review_by']} ({rule['days_overdue']} days ago) and NO LONGER "
                "APPLIES.\nRe-evaluate it with its owner, then set a new review_by (or remove it).",
                title="WARNING: expired override rule",
                border_style="bold red",
            ),
            highlight=False,
        )
    for rule in summary.get("rules_due_for_review", []):
        console.print(
            f"[yellow]Override rule {rule['name']} (owner {rule['owner']}) is due for review by "
            f"{rule['review_by']} ({rule['days_left']} days left).[/]",
            highlight=False,
        )


def render_rate(summary: dict[str, Any]) -> None:
    """A rating grid (fit A-D × engagement 1-4) per product group, then rule warnings."""
    for group, data in summary["groups"].items():
        grid = data["grid"]
        table = Table(title=f"{group}: ratings as of {summary['as_of']}", title_justify="left")
        table.add_column("fit \\ engagement")
        for number in ENGAGEMENT_GRADES:
            table.add_column(str(number), justify="right")
        table.add_column("total", justify="right")
        for letter in FIT_GRADES:
            counts = [int(grid.get(f"{letter}{n}", 0)) for n in ENGAGEMENT_GRADES]
            table.add_row(letter, *[f"{c:,}" for c in counts], f"{sum(counts):,}")
        cut = summary.get("cutoffs", {}).get(group)
        console.print(table)
        console.print(
            f"  MQLs {data['mqls']:,} (new {data['new_mqls']:,}) · override MQLs "
            f"{data['override_mqls']:,} (new {data['new_override_mqls']:,}) · "
            f"re-entries {data['reentries']:,} · to nurture {data['nurture']:,}",
            highlight=False,
        )
        if cut:

            def fmt(values: dict[str, float | None]) -> str:
                return " ".join(
                    f"{k}≥{'-' if v is None else f'{v:.1f}'}" for k, v in values.items()
                )

            console.print(
                f"  cutoffs ({cut['method']}): fit {fmt(cut['fit'])} · engagement "
                f"{fmt(cut['engagement'])}",
                highlight=False,
            )
        if data["by_rule"]:
            rules = ", ".join(f"{k} {v:,}" for k, v in data["by_rule"].items())
            console.print(f"  override rules (rows matched): {rules}", highlight=False)
    _rule_warnings(summary)


def run_suggest(ws: Workspace) -> dict[str, Any]:
    """Candidate cutoffs per product group against the teams' daily capacity (writes nothing)."""
    review = _review(ws)
    inputs, groups, previous_day, _ = _inputs(ws)
    cfg = ws.cfg
    if inputs.current is None:  # _inputs(ws) builds it unless with_current=False
        raise AssertionError("internal: rate suggest needs the current stages")
    load = open_load(inputs.current, inputs.leads, cfg.lifecycle)
    capacity = daily_capacity(ws.table("reps"), load, groups, cfg.rate.suggest, ws.as_of)
    prepared = stage.prepare(inputs, review.active, cfg.lifecycle, ws.as_of).collect()
    proposals = suggest_cutoffs(prepared, capacity, cfg.rate, cfg.lifecycle, ws.as_of)
    return {
        "as_of": ws.as_of.isoformat(),
        "capacity": capacity.to_dicts(),
        "groups": proposals,
        "previous_state": previous_day.isoformat() if previous_day else None,
        "expired_rules": review.expired,
        "rules_due_for_review": review.due_soon,
    }


def render_suggest(summary: dict[str, Any]) -> None:
    """One table of candidates per group; the recommended one is marked, with a config snippet."""
    capacity = {row["product_group"]: row for row in summary["capacity"]}

    def pct(values: list[float]) -> str:
        return "/".join(f"{v * 100:.3g}" for v in values)

    def cuts(values: list[float | None]) -> str:
        return ", ".join("null" if v is None else f"{v:g}" for v in values)

    for group, data in summary["groups"].items():
        cap = capacity.get(group, {})
        table = Table(
            title=(
                f"{group}: {cap.get('reps', 0)} reps, {cap.get('free_slots', 0):g} free slots → "
                f"capacity {data['capacity_per_day']:g} new MQLs/day"
            ),
            title_justify="left",
        )
        for col in (
            "cutoffs",
            "fit A/B/C %",
            "eng 1/2/3 %",
            "new MQLs",
            "Δ",
            "conversions",
            "Δ",
            "fits",
        ):
            table.add_column(col, justify="right")
        trials = [("current", data["current"])]
        trials += [
            (f"×{t['factor']:g}" + (" (fits)" if t["searched"] else ""), t)
            for t in data["candidates"]
        ]
        best = None
        for label, trial in trials:
            chosen = (
                trial.get("factor") is not None and trial["factor"] == data["recommended_factor"]
            )
            best = trial if chosen else best
            table.add_row(
                f"{'→ ' if chosen else ''}{label}",
                pct(trial["fit_shares"]),
                pct(trial["engagement_shares"]),
                f"{trial['new_mqls']:,}",
                f"{trial['delta_new_mqls']:+,}",
                f"{trial['expected_conversions']:,.1f}",
                f"{trial['delta_conversions']:+,.1f}",
                "yes" if trial["fits"] else "no",
                style="bold" if chosen else None,
            )
        console.print(table)
        if data["current"]["new_override_mqls"]:
            console.print(
                f"  New MQLs include {data['current']['new_override_mqls']:,} sent by override "
                "rules (the same under every cutoff).",
                highlight=False,
            )
        if best is not None:
            if not data["recommended_fits"]:
                console.print(
                    "  No candidate fits the capacity; the tightest is marked.", style="yellow"
                )
            console.print(
                f"  rate.group_cutoffs.{group}: {{method: share, fit: {best['fit_shares']}, "
                f"engagement: {best['engagement_shares']}}}\n"
                f"  (as fixed scores tonight: fit [{cuts(best['fit_cutoffs'])}], "
                f"engagement [{cuts(best['engagement_cutoffs'])}])",
                highlight=False,
            )
    if summary.get("previous_state") is None:
        console.print(
            "First night (no earlier rate state): new MQLs include every lead already over the "
            "cutoffs, not just one day's arrivals.",
            style="yellow",
        )
    console.print(
        "New MQLs: what tonight's run would send; conversions: their summed propensity. "
        "Nothing was changed: copy the cutoffs you choose into the config.",
        style="dim",
    )
    _rule_warnings(summary)


@app.command("rate")
@handle_errors
def rate_command(
    config: ConfigOpt = DEFAULT_CONFIG,
    as_of: AsOfOpt = "today",
    out: OutOpt = None,
    input_dir: InputDirOpt = None,
    json_out: JsonOpt = False,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest", help="Propose cutoffs that fit rep capacity; prints, writes nothing."
        ),
    ] = False,
) -> None:
    """Rate scored leads per product group (A-D × 1-4), apply the action matrix and override rules.

    Reads <out>/<as-of>/scores.parquet; writes ratings.parquet, nurture.csv and a state snapshot
    (for hysteresis and re-entry counts). Override rules past review_by stop applying and are
    reported loudly. With --suggest, nothing is written.
    """
    ws = workspace(config, as_of, out, input_dir)
    summary = run_suggest(ws) if suggest else run_rate(ws)
    if json_out:
        print_json(summary)
    elif not is_quiet():
        (render_suggest if suggest else render_rate)(summary)
