"""Shared pieces of the report: its inputs, its sections, periods and small polars helpers.

The report reads many files that other stages write; any of them may be missing on a partial
pipeline. Section code asks `ReportInputs` for what it needs and gets an `Unavailable` exception
(with a message saying which command makes the file) instead of a crash, so each section can say
"not available: ..." and the rest of the report still renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import polars as pl

from leadctl.config.lifecycle import LifecycleConfig
from leadctl.config.reporting import ReportConfig

UTC_DT = pl.Datetime("us", "UTC")

# Which command writes each file the report reads (for "run `leadctl <stage>`" messages).
PRODUCERS: dict[str, str] = {
    "scores.parquet": "score",
    "ratings.parquet": "rate",
    "verified.parquet": "verify",
    "verify_failures.csv": "verify",
    "assignments.csv": "assign",
    "overflow.csv": "assign",
    "stage_updates.csv": "expire",
    "sla_breaches.csv": "expire",
    "persistence_breaches.csv": "expire",
    "feedback_issues.csv": "expire",
    "zombies.csv": "expire",
    "illegal_transitions.csv": "expire",
    "state/rate/": "rate",
    "state/assignments_log/": "assign",
    "models/<group>/card.json": "train",
}


class Unavailable(Exception):
    """An input a section needs is missing; the message is shown in the report instead."""


def missing_file(name: str) -> str:
    producer = PRODUCERS.get(name, "run")
    return f"not available: {name} missing — run `leadctl {producer}`"


@dataclass
class ReportInputs:
    """Everything the report may read, as lazy frames; absent files are simply not in the dicts.

    `tables`: configured canonical tables; `outputs`: stage outputs of the run directory by file
    name (CSV files read as text); `rate_snapshots` / `assignment_logs`: state snapshots by the
    as-of date in their file name; `cards`: model cards by product group.
    """

    tables: dict[str, pl.LazyFrame] = field(default_factory=dict)
    outputs: dict[str, pl.LazyFrame] = field(default_factory=dict)
    rate_snapshots: dict[date, pl.LazyFrame] = field(default_factory=dict)
    assignment_logs: dict[date, pl.LazyFrame] = field(default_factory=dict)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The unnarrowed canonical tables where `tables` holds a narrowed copy (see report.narrow).
    full_tables: dict[str, pl.LazyFrame] = field(default_factory=dict)

    def full_table(self, name: str, columns: list[str] | tuple[str, ...] = ()) -> pl.LazyFrame:
        """The whole canonical table, even where `tables` holds only the recent part."""
        if name in self.full_tables:
            return _with_columns(
                self.full_tables[name], columns, f"canonical table {name}", "validate"
            )
        return self.table(name, columns)

    def table(self, name: str, columns: list[str] | tuple[str, ...] = ()) -> pl.LazyFrame:
        """A canonical table with `columns` present, or Unavailable saying how to get it."""
        frame = self.tables.get(name)
        if frame is None:
            raise Unavailable(
                f"not available: canonical table {name} is not configured (inputs.tables.{name}) "
                "— add it to the config and run `leadctl validate`"
            )
        return _with_columns(frame, columns, f"canonical table {name}", "validate")

    def output(self, name: str, columns: list[str] | tuple[str, ...] = ()) -> pl.LazyFrame:
        """A stage output with `columns` present, or Unavailable naming the command to run."""
        frame = self.outputs.get(name)
        if frame is None:
            raise Unavailable(missing_file(name))
        return _with_columns(frame, columns, name, PRODUCERS.get(name, "run"))

    def has(self, name: str) -> bool:
        return name in self.outputs or name in self.tables


def _with_columns(
    frame: pl.LazyFrame, columns: list[str] | tuple[str, ...], what: str, producer: str
) -> pl.LazyFrame:
    if columns:
        present = set(frame.collect_schema().names())
        lacking = [c for c in columns if c not in present]
        if lacking:
            raise Unavailable(
                f"not available: {what} lacks column(s) {', '.join(lacking)} — re-run `leadctl "
                f"{producer}`"
            )
    return frame


@dataclass(frozen=True)
class ReportContext:
    """The typed settings every section needs (the command builds it from the config)."""

    as_of: date
    product_groups: list[str]
    report: ReportConfig
    lifecycle: LifecycleConfig
    # Override rules from the rate config: rule, owner, review_by (Date); empty if none configured.
    override_rules: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"rule": pl.String, "owner": pl.String, "review_by": pl.Date}
        )
    )
    # The reason expire gives the stage updates it makes (expire.reason).
    expire_reason: str = "Expired - no activity"

    @property
    def end(self) -> datetime:
        """The end of the as-of day (exclusive): everything on the as-of date counts."""
        return day_end(self.as_of)

    def period(self, back: int = 0) -> tuple[datetime, datetime]:
        """[start, end) of the reporting period `back` periods before the current one."""
        days = self.report.period_days
        end = self.end - timedelta(days=days * back)
        return end - timedelta(days=days), end

    @property
    def won_stage(self) -> str:
        return self.report.funnel_stages[-1]


ChartKind = Literal["bar", "pareto", "heatmap", "line", "calibration"]


@dataclass(frozen=True)
class Chart:
    """A chart the HTML draws from one of the section's tables (filtered to one product group)."""

    kind: ChartKind
    title: str
    table: str
    x: str
    y: tuple[str, ...]
    where: tuple[tuple[str, str], ...] = ()  # column == value filters
    percent: bool = False  # y values are shares: draw them as percentages
    label: str | None = None  # heat-map: a column with the text shown in each cell


@dataclass
class Section:
    """One part of the report: its tables (written as Parquet + CSV), charts and messages."""

    key: str
    title: str
    intro: str
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.tables:
            return "; ".join(self.unavailable) or "not available: no data"
        return "partial" if self.unavailable else "ok"


def day_end(d: date) -> datetime:
    """Midnight UTC after day `d`: the exclusive end of that day."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1)


def ts(value: datetime) -> pl.Expr:
    """A UTC datetime literal comparable with canonical timestamps."""
    return pl.lit(value).cast(UTC_DT)


def as_utc(frame: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
    """Make `columns` UTC datetimes whether they arrive as text (CSV), naive, zoned or dates."""
    schema = frame.collect_schema()
    exprs = []
    for name in columns:
        if name not in schema:
            continue
        dtype = schema[name]
        col = pl.col(name)
        if dtype == pl.String:
            exprs.append(
                col.str.to_datetime(time_unit="us", time_zone="UTC", strict=False).alias(name)
            )
        elif dtype == pl.Date:
            exprs.append(col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC").alias(name))
        elif isinstance(dtype, pl.Datetime):
            zoned = (
                col.dt.replace_time_zone("UTC")
                if dtype.time_zone is None
                else col.dt.convert_time_zone("UTC")
            )
            exprs.append(zoned.dt.cast_time_unit("us").alias(name))
        elif dtype == pl.Null:
            exprs.append(col.cast(UTC_DT).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def as_float(frame: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
    schema = frame.collect_schema()
    return frame.with_columns(
        pl.col(c).cast(pl.Float64, strict=False) for c in columns if c in schema
    )


def as_bool(frame: pl.LazyFrame, *columns: str) -> pl.LazyFrame:
    """Booleans that may arrive as "true"/"false" text from a CSV."""
    schema = frame.collect_schema()
    exprs = []
    for name in columns:
        if name not in schema:
            continue
        if schema[name] == pl.String:
            exprs.append(
                pl.col(name).str.to_lowercase().is_in(["true", "1", "yes", "t", "y"]).alias(name)
            )
        else:
            exprs.append(pl.col(name).cast(pl.Boolean, strict=False).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den as a float, null when the denominator is 0 (no division warnings, no inf)."""
    return pl.when(den > 0).then(num.cast(pl.Float64) / den.cast(pl.Float64)).otherwise(None)


def per_group(frame: pl.LazyFrame, groups: list[str]) -> pl.LazyFrame:
    """Rows without a product group apply to every configured group (as in lifecycle)."""
    target = pl.DataFrame({"product_group": groups}, schema={"product_group": pl.String}).lazy()
    with_group = frame.filter(
        pl.col("product_group").is_not_null() & pl.col("product_group").is_in(groups)
    )
    general = (
        frame.filter(pl.col("product_group").is_null())
        .drop("product_group")
        .join(target, how="cross")
    )
    cols = frame.collect_schema().names()
    return pl.concat([with_group.select(cols), general.select(cols)])


def ensure_group(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Add a null product_group where a table has none (it then applies to every group)."""
    if "product_group" in frame.collect_schema().names():
        return frame.with_columns(pl.col("product_group").cast(pl.String))
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias("product_group"))


def rating_parts(frame: pl.LazyFrame) -> pl.LazyFrame:
    """fit_grade / engagement_grade from `rating` ("B3") where a snapshot lacks them."""
    names = frame.collect_schema().names()
    exprs = []
    if "fit_grade" not in names:
        exprs.append(pl.col("rating").str.slice(0, 1).alias("fit_grade"))
    if "engagement_grade" not in names:
        exprs.append(pl.col("rating").str.slice(1).alias("engagement_grade"))
    frame = frame.with_columns(exprs) if exprs else frame
    return frame.with_columns(
        pl.col("fit_grade").cast(pl.String), pl.col("engagement_grade").cast(pl.String)
    )


def latest_on_or_before(snapshots: dict[date, Any], day: date) -> date | None:
    eligible = [d for d in snapshots if d <= day]
    return max(eligible) if eligible else None


def reasons_known(lifecycle: LifecycleConfig) -> list[str]:
    return sorted(lifecycle.reasons)


def round_floats(df: pl.DataFrame, digits: int = 6) -> pl.DataFrame:
    """Round float columns so tiny float noise never changes the written bytes."""
    floats = [n for n, t in df.schema.items() if t in (pl.Float32, pl.Float64)]
    return df.with_columns(pl.col(n).round(digits) for n in floats) if floats else df


def config_stage_check(cfg: ReportConfig, lifecycle: LifecycleConfig) -> list[str]:
    """report.funnel_stages entries that the lifecycle does not know."""
    return [s for s in cfg.funnel_stages if s not in lifecycle.stages]
