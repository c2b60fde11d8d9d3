"""The HTML report: every section present, charts inline, nothing fetched from the network."""

from __future__ import annotations

import re

import polars as pl
import pytest
from stages import report_frames as F

from leadctl.report_html import svg
from leadctl.report_html.render import html_table, render_chart, render_page
from leadctl.stages.report import SECTIONS, build_report
from leadctl.stages.report_common import Chart, ReportInputs

# Anything that would make a browser fetch something: URLs in attributes or CSS, scripts,
# stylesheets, frames, images, fonts.
EXTERNAL = [
    re.compile(
        r"""(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", re.I
    ),
    re.compile(r"@import", re.I),
    re.compile(r"url\s*\(", re.I),
    re.compile(r"<script", re.I),
    re.compile(r"<link\b", re.I),
    re.compile(r"<(?:iframe|img|object|embed|audio|video|source)\b", re.I),
    re.compile(r"@font-face", re.I),
    re.compile(r"https?://", re.I),
]


@pytest.fixture(scope="module")
def page() -> str:
    sections = build_report(F.inputs(), F.context())
    return render_page(
        sections, as_of=F.AS_OF, product_groups=F.GROUPS, max_rows=40, warnings=["w <1>"]
    )


def test_page_holds_every_section(page: str) -> None:
    for key, title in SECTIONS.items():
        assert f'<section id="{key}">' in page
        assert f"<h2>{title}</h2>" in page
        assert f'href="#{key}"' in page  # navigation
    assert page.startswith("<!DOCTYPE html>")
    assert "As of 2026-11-20" in page


def test_page_makes_no_external_request(page: str) -> None:
    for pattern in EXTERNAL:
        assert not pattern.search(page), pattern.pattern
    # the only links are in-page anchors
    assert set(re.findall(r'href="([^"]*)"', page)) <= {f"#{key}" for key in SECTIONS}


def test_charts_are_inline_svg(page: str) -> None:
    assert page.count("<svg ") >= 20
    assert page.count("<svg ") == page.count("</svg>")
    # the heat-map labels its cells with rate / leads
    assert "40.0% / 10" in page
    # the calibration and gains charts are drawn
    assert "calibration (predicted vs observed)" in page
    assert "gains (cumulative share of conversions)" in page


def test_page_shows_warnings_and_messages_escaped(page: str) -> None:
    assert '<div class="warn">w &lt;1&gt;</div>' in page
    assert "past its review date" in page


def test_partial_report_renders_not_available_messages() -> None:
    sections = build_report(ReportInputs(tables=F.inputs().tables), F.context())
    html = render_page(sections, as_of=F.AS_OF, product_groups=F.GROUPS, max_rows=5, warnings=[])
    assert "not available: zombies.csv missing — run `leadctl expire`" in html
    for key in SECTIONS:
        assert f'<section id="{key}">' in html
    for pattern in EXTERNAL:
        assert not pattern.search(html)


def test_rendering_is_deterministic() -> None:
    def once() -> str:
        return render_page(
            build_report(F.inputs(), F.context()),
            as_of=F.AS_OF,
            product_groups=F.GROUPS,
            max_rows=40,
            warnings=[],
        )

    assert once() == once()


def test_html_table_escapes_and_truncates() -> None:
    frame = pl.DataFrame(
        {"reason": ["<b>x</b>", "y", "z"], "share": [0.25, None, 1.0], "n": [1, 2, 3]}
    )
    html = html_table("t", frame, max_rows=2)
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x" not in html
    assert "25.0%" in html
    assert "2 of 3 rows shown" in html and "tables/t.csv" in html


def test_bar_chart_handles_missing_values_and_scales() -> None:
    out = svg.bar_chart("t", ["a", "b"], {"x": [2.0, None], "y": [4.0, 1.0]})
    assert out.count("<rect ") == 3 + 2  # three bars + two legend swatches
    assert ">4</text>" in out
    assert svg.bar_chart("t", ["a"], {"x": [0.5]}, percent=True).count("50.0%") >= 1


def test_chart_from_table_filters_rows() -> None:
    tables = {"t": pl.DataFrame({"g": ["A", "B"], "k": ["x", "x"], "v": [1.0, 99.0]})}
    out = render_chart(Chart("bar", "A only", "t", "k", ("v",), (("g", "A"),)), tables)
    assert "x · v: 1</title>" in out and "v: 99" not in out
    assert render_chart(Chart("bar", "none", "t", "k", ("v",), (("g", "C"),)), tables) == ""


def test_heatmap_line_and_calibration_charts() -> None:
    heat = svg.heatmap(
        "h", ["A", "B"], ["1", "2"], {("A", "1"): 0.4, ("B", "2"): None}, {("A", "1"): "40% / 10"}
    )
    assert "40% / 10" in heat and heat.count("<rect ") == 4
    line = svg.line_chart("l", [0.5, 1.0], [0.8, 1.0])
    assert "<polyline" in line and "50.0% → 80.0%" in line
    calib = svg.calibration_chart("c", [0.1, 0.3], [0.12, 0.2], [100, 50])
    assert calib.count("<circle") == 2


@pytest.mark.parametrize(
    ("value", "percent", "text"),
    [
        (None, False, "-"),
        (float("nan"), True, "-"),
        (0.125, True, "12.5%"),
        (1234.0, False, "1,234"),
        (2.5, False, "2.5"),
        (0.333333, False, "0.33"),
    ],
)
def test_value_format(value: float | None, percent: bool, text: str) -> None:
    assert svg.fmt_value(value, percent) == text
