"""Hand-written static SVG charts: bar, Pareto, heat-map, line (gains) and calibration.

Why not a charting library: the report must open with no network and no JavaScript, and the
same data must give the same bytes. Every number is formatted with fixed precision, and the
SVG is inline (no xmlns URL needed inside HTML5).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH = 720
HEIGHT = 280
PALETTE = ("#9fb3c8", "#1f5f99", "#d9822b", "#3c8d5a")  # previous / current / extra series
MAX_CATEGORIES = 40


def _n(value: float) -> str:
    """A coordinate with one decimal: stable text for the same number."""
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def fmt_value(value: float | None, percent: bool) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if percent:
        return f"{value * 100:.1f}%"
    if float(value).is_integer() and abs(value) < 1e12:
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0 or math.isnan(value):
        return 1.0
    exp = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        top = step * 10**exp
        if top >= value - 1e-12:
            return float(top)
    return float(10 ** (exp + 1))


def _open(title: str, height: int = HEIGHT) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="18" class="ct">{escape(title)}</text>',
    ]


def _legend(series: Sequence[str], x0: float = 70) -> list[str]:
    """Series names on a row under the title."""
    out = []
    for i, name in enumerate(series):
        x = x0 + i * 160
        out.append(
            f'<rect x="{_n(x)}" y="24" width="10" height="10" '
            f'fill="{_series_colour(i, len(series))}"/>'
        )
        out.append(f'<text x="{_n(x + 14)}" y="33" class="lg">{escape(name)}</text>')
    return out


def _series_colour(index: int, count: int) -> str:
    return PALETTE[1] if count == 1 else PALETTE[index % len(PALETTE)]


def _y_axis(
    top: float, percent: bool, left: float, plot_top: float, plot_h: float, right: float
) -> list[str]:
    out = []
    for i in range(5):
        value = top * i / 4
        y = plot_top + plot_h - plot_h * i / 4
        out.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(right)}" y2="{_n(y)}" class="grid"/>'
        )
        out.append(
            f'<text x="{_n(left - 4)}" y="{_n(y + 4)}" class="ax" '
            f'text-anchor="end">{fmt_value(value, percent)}</text>'
        )
    return out


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    percent: bool = False,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series."""
    categories = list(categories)[:MAX_CATEGORIES]
    names = list(series)
    values = {
        k: [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v) for v in vs
        ][: len(categories)]
        for k, vs in series.items()
    }
    present = [v for vs in values.values() for v in vs if v is not None]
    low = min([0.0, *present])
    top = _nice_max(max([0.0, *present]))
    span = top - low if top > low else 1.0
    left, right, plot_top, plot_h = 70.0, WIDTH - 10.0, 48.0, HEIGHT - 118.0
    out = _open(title)
    if len(names) > 1:
        out += _legend(names)
    out += _y_axis(top, percent, left, plot_top, plot_h, right)
    n = max(len(categories), 1)
    slot = (right - left) / n
    bar_w = max(slot * 0.8 / max(len(names), 1), 1.0)
    zero_y = plot_top + plot_h * (top / span) if low < 0 else plot_top + plot_h
    for ci, category in enumerate(categories):
        for si, name in enumerate(names):
            value = values[name][ci] if ci < len(values[name]) else None
            if value is None:
                continue
            x = left + ci * slot + slot * 0.1 + si * bar_w
            h = plot_h * abs(value) / span
            y = zero_y - h if value >= 0 else zero_y
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(bar_w)}" height="{_n(h)}" '
                f'fill="{_series_colour(si, len(names))}"><title>{escape(str(category))} · '
                f"{escape(name)}: "
                f"{fmt_value(value, percent)}</title></rect>"
            )
            if n <= 16:
                out.append(
                    f'<text x="{_n(x + bar_w / 2)}" y="{_n(y - 3)}" class="vl" '
                    'text-anchor="middle">'
                    f"{fmt_value(value, percent)}</text>"
                )
        cx = left + ci * slot + slot / 2
        label = str(category) if len(str(category)) <= 18 else str(category)[:17] + "…"
        out.append(
            f'<text x="{_n(cx)}" y="{_n(plot_top + plot_h + 14)}" class="ax" text-anchor="end" '
            f'transform="rotate(-30 {_n(cx)} {_n(plot_top + plot_h + 14)})">{escape(label)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def pareto_chart(
    title: str,
    categories: Sequence[str],
    counts: Sequence[float],
    cumulative: Sequence[float | None],
) -> str:
    """Bars of counts (most frequent first) with the cumulative share as a line (right axis)."""
    categories = list(categories)[:MAX_CATEGORIES]
    counts = [float(c or 0) for c in counts][: len(categories)]
    top = _nice_max(max([0.0, *counts]))
    left, right, plot_top, plot_h = 70.0, WIDTH - 50.0, 48.0, HEIGHT - 118.0
    out = _open(title)
    out += _legend(["count", "cumulative share"])
    out += _y_axis(top, False, left, plot_top, plot_h, right)
    for i in range(5):
        y = plot_top + plot_h - plot_h * i / 4
        out.append(f'<text x="{_n(right + 4)}" y="{_n(y + 4)}" class="ax">{i * 25}%</text>')
    n = max(len(categories), 1)
    slot = (right - left) / n
    points = []
    for ci, category in enumerate(categories):
        x = left + ci * slot + slot * 0.15
        h = plot_h * counts[ci] / top
        out.append(
            f'<rect x="{_n(x)}" y="{_n(plot_top + plot_h - h)}" width="{_n(slot * 0.7)}" '
            f'height="{_n(h)}" '
            f'fill="{PALETTE[0]}"><title>{escape(str(category))}: '
            f"{fmt_value(counts[ci], False)}</title></rect>"
        )
        share = cumulative[ci] if ci < len(cumulative) else None
        if share is not None:
            points.append((left + ci * slot + slot / 2, plot_top + plot_h - plot_h * float(share)))
        cx = left + ci * slot + slot / 2
        label = str(category) if len(str(category)) <= 18 else str(category)[:17] + "…"
        out.append(
            f'<text x="{_n(cx)}" y="{_n(plot_top + plot_h + 14)}" class="ax" text-anchor="end" '
            f'transform="rotate(-30 {_n(cx)} {_n(plot_top + plot_h + 14)})">{escape(label)}</text>'
        )
    if points:
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>'
        )
        out += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="3" fill="{PALETTE[1]}"/>' for x, y in points]
    out.append("</svg>")
    return "\n".join(out)


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: dict[tuple[str, str], float | None],
    labels: dict[tuple[str, str], str],
    *,
    percent: bool = True,
) -> str:
    """A grid (rows x columns) shaded by value, each cell labelled (e.g. "12.5% / 40")."""
    present = [v for v in values.values() if v is not None and not math.isnan(v)]
    top = max(present) if present else 0.0
    cell_w, cell_h, left, plot_top = 110.0, 40.0, 60.0, 40.0
    height = int(plot_top + cell_h * len(rows) + 30)
    out = _open(title, height)
    for ci, col in enumerate(columns):
        out.append(
            f'<text x="{_n(left + ci * cell_w + cell_w / 2)}" y="{_n(plot_top - 6)}" class="ax" '
            f'text-anchor="middle">{escape(str(col))}</text>'
        )
    for ri, row in enumerate(rows):
        y = plot_top + ri * cell_h
        out.append(
            f'<text x="{_n(left - 8)}" y="{_n(y + cell_h / 2 + 4)}" class="ax" '
            f'text-anchor="end">{escape(str(row))}</text>'
        )
        for ci, col in enumerate(columns):
            value = values.get((row, col))
            share = 0.0 if value is None or top <= 0 or math.isnan(value) else value / top
            shade = int(round(245 - share * 190))
            fill = (
                f"rgb({shade},{min(250, shade + 10)},{min(255, shade + 40)})"
                if value is not None
                else "#f4f4f4"
            )
            ink = "#ffffff" if share > 0.6 else "#1d2a36"
            x = left + ci * cell_w
            text = labels.get((row, col), fmt_value(value, percent))
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(cell_w - 2)}" '
                f'height="{_n(cell_h - 2)}" fill="{fill}">'
                f"<title>{escape(str(row))}{escape(str(col))}: {escape(text)}</title></rect>"
            )
            out.append(
                f'<text x="{_n(x + cell_w / 2)}" y="{_n(y + cell_h / 2 + 4)}" class="hv" '
                f'fill="{ink}" '
                f'text-anchor="middle">{escape(text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _frame_xy(
    left: float,
    plot_top: float,
    size_w: float,
    size_h: float,
    top_x: float,
    top_y: float,
    percent: bool,
    x_label: str,
    y_label: str,
) -> list[str]:
    out = []
    for i in range(5):
        y = plot_top + size_h - size_h * i / 4
        x = left + size_w * i / 4
        out.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + size_w)}" y2="{_n(y)}" '
            'class="grid"/>'
        )
        out.append(
            f'<text x="{_n(left - 4)}" y="{_n(y + 4)}" class="ax" '
            f'text-anchor="end">{fmt_value(top_y * i / 4, percent)}</text>'
        )
        out.append(
            f'<text x="{_n(x)}" y="{_n(plot_top + size_h + 14)}" class="ax" '
            f'text-anchor="middle">{fmt_value(top_x * i / 4, percent)}</text>'
        )
    out.append(
        f'<text x="{_n(left + size_w / 2)}" y="{_n(plot_top + size_h + 30)}" class="ax" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="14" y="{_n(plot_top + size_h / 2)}" class="ax" text-anchor="middle" '
        f'transform="rotate(-90 14 {_n(plot_top + size_h / 2)})">{escape(y_label)}</text>'
    )
    return out


def line_chart(
    title: str,
    xs: Sequence[float | None],
    ys: Sequence[float | None],
    *,
    percent: bool = True,
    x_label: str = "",
    y_label: str = "",
    diagonal: bool = True,
) -> str:
    """A curve from the origin through (x, y) points (e.g. gains); the diagonal is random order."""
    pts = [
        (float(x), float(y))
        for x, y in zip(xs, ys, strict=False)
        if x is not None and y is not None
    ]
    top_x = _nice_max(max([0.0, *[p[0] for p in pts]])) if not percent else 1.0
    top_y = _nice_max(max([0.0, *[p[1] for p in pts]])) if not percent else 1.0
    left, plot_top, size_w, size_h = 70.0, 30.0, 420.0, HEIGHT - 80.0
    out = _open(title)
    out += _frame_xy(left, plot_top, size_w, size_h, top_x, top_y, percent, x_label, y_label)

    def at(x: float, y: float) -> str:
        return f"{_n(left + size_w * x / top_x)},{_n(plot_top + size_h - size_h * y / top_y)}"

    if diagonal:
        out.append(f'<polyline points="{at(0, 0)} {at(top_x, top_y)}" fill="none" class="ref"/>')
    if pts:
        path = " ".join(at(x, y) for x, y in [(0.0, 0.0), *pts])
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{PALETTE[1]}" stroke-width="2"/>'
        )
        for x, y in pts:
            out.append(
                f'<circle cx="{at(x, y).split(",")[0]}" cy="{at(x, y).split(",")[1]}" r="3" '
                f'fill="{PALETTE[1]}">'
                f"<title>{fmt_value(x, percent)} → {fmt_value(y, percent)}</title></circle>"
            )
    out.append("</svg>")
    return "\n".join(out)


def calibration_chart(
    title: str,
    predicted: Sequence[float | None],
    observed: Sequence[float | None],
    counts: Sequence[int],
) -> str:
    """Observed conversion rate against mean predicted propensity per bin; perfect = diagonal."""
    pts = [
        (float(p), float(o), int(c))
        for p, o, c in zip(predicted, observed, counts, strict=False)
        if p is not None and o is not None
    ]
    top = _nice_max(max([0.0, *[max(p, o) for p, o, _ in pts]]))
    top = min(top, 1.0) if top <= 1.0 else top
    left, plot_top, size = 70.0, 30.0, HEIGHT - 80.0
    out = _open(title)
    out += _frame_xy(left, plot_top, size, size, top, top, True, "mean predicted", "observed")

    def xy(x: float, y: float) -> tuple[str, str]:
        return _n(left + size * x / top), _n(plot_top + size - size * y / top)

    (x0, y0), (x1, y1) = xy(0, 0), xy(top, top)
    out.append(f'<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" class="ref"/>')
    if pts:
        out.append(
            f'<polyline points="{" ".join(",".join(xy(p, o)) for p, o, _ in pts)}" fill="none" '
            f'stroke="{PALETTE[1]}" stroke-width="1.5"/>'
        )
    most = max([c for _, _, c in pts], default=1) or 1
    for p, o, c in pts:
        cx, cy = xy(p, o)
        r = 3 + 5 * math.sqrt(c / most)
        out.append(
            f'<circle cx="{cx}" cy="{cy}" r="{_n(r)}" fill="{PALETTE[2]}" fill-opacity="0.8">'
            f"<title>predicted {fmt_value(p, True)}, observed {fmt_value(o, True)}, {c:,} "
            "leads</title></circle>"
        )
    out.append("</svg>")
    return "\n".join(out)
