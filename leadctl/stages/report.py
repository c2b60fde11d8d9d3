"""The report: every section computed from the night's files, in the order the HTML shows them.

Pure: frames and config in, `Section`s out (tables, chart specs, messages, key numbers). The
command (`leadctl report`) reads the inputs, writes the tables and renders the HTML. A section
whose inputs are missing says so ("not available: ... — run `leadctl <stage>`") instead of
failing, so the report works on a partial pipeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import polars as pl

from leadctl.errors import ConfigError
from leadctl.stages.lifecycle import shared_scan
from leadctl.stages.report_common import (
    ReportContext,
    ReportInputs,
    Section,
    Unavailable,
    as_utc,
    config_stage_check,
    round_floats,
    ts,
)
from leadctl.stages.report_compare import Side, compare_section
from leadctl.stages.report_feedback import feedback_section
from leadctl.stages.report_funnel import funnel_section
from leadctl.stages.report_lifecycle import lifecycle_section
from leadctl.stages.report_load import load_section
from leadctl.stages.report_model import model_section
from leadctl.stages.report_overrides import overrides_section
from leadctl.stages.report_rating import Labelled, labelled_population, rating_section
from leadctl.stages.report_scorecard import scorecard_section
from leadctl.stages.report_sla import sla_section

log = logging.getLogger("leadctl.report")

# Section keys and titles in report order (the HTML and the summary follow it).
SECTIONS: dict[str, str] = {
    "scorecard": "Weekly scorecard",
    "funnel": "Funnel and velocity",
    "conversion_by_rating": "Conversion by rating",
    "model_quality": "Model quality and drift",
    "sla": "SLA and persistence compliance",
    "feedback": "Sales feedback",
    "overrides": "Override rules",
    "lifecycle": "Expirations, zombies and recycles",
    "rep_load": "Rep load and fairness",
    "before_after": "Before / after",
}


def check_config(ctx: ReportContext) -> None:
    """report.funnel_stages must name lifecycle stages."""
    unknown = config_stage_check(ctx.report, ctx.lifecycle)
    if unknown:
        raise ConfigError(
            f"report.funnel_stages names unknown stage(s) {unknown}; lifecycle.stages are "
            f"{ctx.lifecycle.stages}"
        )


def _guarded(key: str, build: Callable[[], Section]) -> Section:
    """Build one section; a file with unexpected contents makes that section unavailable only."""
    try:
        return build()
    except pl.exceptions.PolarsError as exc:
        log.warning("report section %s could not be computed: %s", key, type(exc).__name__)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        section = Section(key=key, title=SECTIONS[key], intro="")
        section.unavailable.append(
            f"not available: an input has unexpected contents ({type(exc).__name__}: {first})"
        )
        section.warnings.append(
            f"report section '{SECTIONS[key]}' could not be computed: {type(exc).__name__}"
        )
        return section


def narrow(inputs: ReportInputs, ctx: ReportContext) -> ReportInputs:
    """A copy whose large tables hold only what the windowed sections can use, read once.

    Stage history: every change of the leads that changed stage since the earliest window
    (two funnel periods, the scorecard weeks); sales touches: those of leads in the assignment
    log. Everything else reads the same frames. Sections that need the whole history (a lead's
    current stage) ask `full_table`.
    """
    since = min(ctx.period(1)[0], ctx.end - timedelta(days=7 * ctx.report.weeks))
    tables = dict(inputs.tables)
    history = tables.get("stage_history")
    if history is not None and {"lead_id", "changed_at"} <= set(history.collect_schema().names()):
        whole = shared_scan(history)  # inside `leadctl run`: expire read it already
        source = history if whole is None else whole.lazy()
        tables["stage_history"] = _recent_leads_history(
            as_utc(source, "changed_at"), since, ctx.end
        ).lazy()
    touches = tables.get("sales_touches")
    logs = [
        f.select(pl.col("lead_id").cast(pl.String))
        for d, f in inputs.assignment_logs.items()
        if d <= ctx.as_of and "lead_id" in f.collect_schema().names()
    ]
    if touches is not None and logs and "lead_id" in touches.collect_schema().names():
        leads = pl.concat(logs).unique()
        tables["sales_touches"] = touches.join(leads, on="lead_id", how="semi").collect().lazy()
    return replace(inputs, tables=tables, full_tables={**inputs.tables, **inputs.full_tables})


def _recent_leads_history(history: pl.LazyFrame, since: datetime, end: datetime) -> pl.DataFrame:
    """Every row of `history` whose lead_id has a change in [since, end), in the table's order.

    The table is read once (the window's lead ids come from the frame in memory) and filtered
    by `is_in`: the same rows as the semi-join of the table with the window's ids it replaced
    (which read the file twice, hashed every id in the join and gave the rows in
    thread-timing order): ~0.95 -> ~0.83 CPU-s at 1 M leads.
    """
    frame = history.collect()
    window = (pl.col("changed_at") >= ts(since)) & (pl.col("changed_at") < ts(end))
    ids = (
        frame.lazy()
        .filter(window)
        .select(pl.col("lead_id").drop_nulls().unique())
        .collect()
        .to_series()
    )
    return frame.filter(pl.col("lead_id").is_in(ids.implode()).fill_null(False))


def build_report(
    inputs: ReportInputs, ctx: ReportContext, *, compare: Side | None = None
) -> list[Section]:
    """Every section of the report, in order (tables sorted, floats rounded: stable bytes)."""
    check_config(ctx)
    try:
        inputs = narrow(inputs, ctx)
    except pl.exceptions.PolarsError as exc:  # the sections will say what is wrong with the file
        log.warning("report inputs not narrowed: %s", type(exc).__name__)
    lab: Labelled | Unavailable
    try:
        lab = labelled_population(inputs, ctx)
    except Unavailable as exc:
        lab = exc
    this = Side(inputs, ctx, f"this run (as of {ctx.as_of})", inputs.outputs.get("ratings.parquet"))
    builders: dict[str, Callable[[], Section]] = {
        "scorecard": lambda: scorecard_section(inputs, ctx),
        "funnel": lambda: funnel_section(inputs, ctx),
        "conversion_by_rating": lambda: rating_section(inputs, ctx, lab),
        "model_quality": lambda: model_section(inputs, ctx, lab),
        "sla": lambda: sla_section(inputs, ctx),
        "feedback": lambda: feedback_section(inputs, ctx),
        "overrides": lambda: overrides_section(inputs, ctx, lab),
        "lifecycle": lambda: lifecycle_section(inputs, ctx),
        "rep_load": lambda: load_section(inputs, ctx),
        "before_after": lambda: compare_section(this, compare),
    }
    sections = []
    for key in SECTIONS:
        section = _guarded(key, builders[key])
        section.tables = {name: round_floats(frame) for name, frame in section.tables.items()}
        sections.append(section)
    return sections


def report_warnings(sections: list[Section]) -> list[str]:
    return [w for s in sections for w in s.warnings]
