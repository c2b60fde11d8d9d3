"""Turn report sections into one self-contained HTML page (tables and inline SVG charts).

Deterministic: the only date on the page is the as-of date, rows keep the order the tables were
sorted in, and numbers are formatted with fixed precision.
"""

from __future__ import annotations

import math
from datetime import date
from html import escape
from typing import Any

import polars as pl

from leadctl.report_html import svg
from leadctl.report_html.template import CSS, PAGE
from leadctl.stages.report_common import Chart, Section

# Columns shown as percentages (shares, rates and compliance are stored as 0-1 fractions).
_PERCENT_HINTS = (
    "rate",
    "share",
    "compliance",
    "conversion",
    "utilisation",
    "capture",
    "relative_change",
    "observed",
    "predicted",
    "bin_mid",
)


def _is_percent(column: str) -> bool:
    return any(h in column for h in _PERCENT_HINTS) and not column.startswith("reached")


def _cell(value: Any, column: str) -> tuple[str, bool]:
    """(text, is_text) for one table cell."""
    if value is None:
        return "-", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), True
    if isinstance(value, float):
        if math.isnan(value):
            return "-", False
        if _is_percent(column) and not column.endswith("_wow"):
            return f"{value * 100:.1f}%", False
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}", False
    if isinstance(value, int):
        return f"{value:,}", False
    if isinstance(value, date):
        return value.isoformat(), True
    return str(value), True


def html_table(name: str, frame: pl.DataFrame, max_rows: int) -> str:
    text_types = (pl.String, pl.Date, pl.Boolean)
    head = "".join(
        f'<th class="{"t" if frame.schema[c] in text_types else ""}">{escape(c)}</th>'
        for c in frame.columns
    )
    rows = []
    for record in frame.head(max_rows).iter_rows():
        cells = []
        for column, value in zip(frame.columns, record, strict=True):
            text, is_text = _cell(value, column)
            cells.append(
                f'<td class="t">{escape(text)}</td>' if is_text else f"<td>{escape(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if frame.height > max_rows:
        more = (
            f'<p class="more">{max_rows} of {frame.height:,} rows shown; all rows in '
            f"tables/{escape(name)}.csv and .parquet</p>"
        )
    elif frame.height == 0:
        more = '<p class="more">no rows</p>'
    body = "".join(rows)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<h3>{escape(name)}</h3>\n{table}{more}"


def _filtered(chart: Chart, tables: dict[str, pl.DataFrame]) -> pl.DataFrame | None:
    frame = tables.get(chart.table)
    if frame is None:
        return None
    for column, value in chart.where:
        frame = frame.filter(pl.col(column) == value)
    return frame


def _label(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def render_chart(chart: Chart, tables: dict[str, pl.DataFrame]) -> str:
    """One chart's SVG, from the rows of its table that match its filter ("" if none)."""
    frame = _filtered(chart, tables)
    if frame is None or frame.height == 0:
        return ""
    if chart.kind == "bar":
        cats = [_label(v) for v in frame[chart.x].to_list()]
        series = {y: frame[y].cast(pl.Float64).to_list() for y in chart.y}
        if all(v is None for vs in series.values() for v in vs):
            return ""
        return svg.bar_chart(chart.title, cats, series, percent=chart.percent)
    if chart.kind == "pareto":
        return svg.pareto_chart(
            chart.title,
            [_label(v) for v in frame[chart.x].to_list()],
            frame[chart.y[0]].cast(pl.Float64).to_list(),
            frame[chart.y[1]].cast(pl.Float64).to_list(),
        )
    if chart.kind == "heatmap":
        row_col, value_col = chart.y
        rows = frame[row_col].unique(maintain_order=True).to_list()
        cols = frame[chart.x].unique(maintain_order=True).to_list()
        values, labels = {}, {}
        for rec in frame.iter_rows(named=True):
            key = (str(rec[row_col]), str(rec[chart.x]))
            values[key] = rec[value_col]
            if chart.label:
                labels[key] = str(rec[chart.label])
        return svg.heatmap(
            chart.title,
            [str(r) for r in rows],
            [str(c) for c in cols],
            values,
            labels,
            percent=chart.percent,
        )
    if chart.kind == "line":
        return svg.line_chart(
            chart.title,
            frame[chart.x].cast(pl.Float64).to_list(),
            frame[chart.y[0]].cast(pl.Float64).to_list(),
            percent=chart.percent,
            x_label="share of leads",
            y_label="share of conversions",
        )
    if chart.kind == "calibration":
        counts = frame["leads"].to_list() if "leads" in frame.columns else [1] * frame.height
        return svg.calibration_chart(
            chart.title,
            frame[chart.x].cast(pl.Float64).to_list(),
            frame[chart.y[0]].cast(pl.Float64).to_list(),
            counts,
        )
    raise ValueError(f"unknown chart kind {chart.kind}")


def render_section(section: Section, max_rows: int) -> str:
    parts = [f'<section id="{escape(section.key)}">', f"<h2>{escape(section.title)}</h2>"]
    if section.intro:
        parts.append(f'<p class="intro">{escape(section.intro)}</p>')
    parts += [f'<div class="na">{escape(m)}</div>' for m in section.unavailable]
    parts += [f'<div class="warn">{escape(m)}</div>' for m in section.warnings]
    parts += [f'<div class="note">{escape(m)}</div>' for m in section.notes]
    charts = [c for c in (render_chart(ch, section.tables) for ch in section.charts) if c]
    if charts:
        parts.append('<div class="charts">\n' + "\n".join(charts) + "\n</div>")
    for name, frame in section.tables.items():
        parts.append(html_table(name, frame, max_rows))
    parts.append("</section>")
    return "\n".join(parts)


def _status_class(status: str) -> str:
    return {"ok": "status-ok", "partial": "status-partial"}.get(status, "status-na")


def render_page(
    sections: list[Section],
    *,
    as_of: date,
    product_groups: list[str],
    max_rows: int,
    warnings: list[str],
) -> str:
    """The whole report as one HTML string."""
    nav = " ".join(f'<a href="#{escape(s.key)}">{escape(s.title)}</a>' for s in sections)
    rows = "".join(
        f'<tr><td class="t"><a href="#{escape(s.key)}">{escape(s.title)}</a></td>'
        f'<td class="t {_status_class(s.status)}">{escape(s.status)}</td></tr>'
        for s in sections
    )
    overview = ['<section id="overview"><h2>Overview</h2>']
    overview += [f'<div class="warn">{escape(w)}</div>' for w in warnings]
    overview.append(
        '<table><thead><tr><th class="t">section</th><th '
        f'class="t">status</th></tr></thead><tbody>{rows}</tbody></table>'
    )
    overview.append("</section>")
    return PAGE.substitute(
        title=escape(f"leadctl report — {as_of.isoformat()}"),
        subtitle=escape(f"As of {as_of.isoformat()} · product groups: {', '.join(product_groups)}"),
        css=CSS,
        nav=nav,
        overview="\n".join(overview),
        sections="\n".join(render_section(s, max_rows) for s in sections),
    )
