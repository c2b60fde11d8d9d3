"""The report page: one self-contained HTML file (inline CSS and SVG; no script, no font fetch)."""

from __future__ import annotations

from string import Template

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 0; color: #1d2a36; background: #f7f9fb; }
header { background: #1f3b57; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; opacity: 0.85; }
nav { background: #fff; border-bottom: 1px solid #dde3ea; padding: 8px 28px; font-size: 14px; }
nav a { margin-right: 14px; color: #1f5f99; text-decoration: none; }
main { padding: 8px 28px 40px 28px; max-width: 1200px; }
section { background: #fff; border: 1px solid #dde3ea; border-radius: 6px; margin: 18px 0;
          padding: 6px 20px 16px 20px; }
h2 { font-size: 18px; margin: 12px 0 6px 0; }
h3 { font-size: 14px; margin: 16px 0 6px 0; color: #34495e; }
p.intro { color: #4a5a6a; font-size: 14px; }
.na { color: #7a5a00; background: #fff8e1; border-left: 4px solid #e0b000;
  padding: 6px 10px; margin: 6px 0; font-size: 14px; }
.warn { color: #8a1f11; background: #fdecea; border-left: 4px solid #d9534f;
  padding: 6px 10px; margin: 6px 0; font-size: 14px; }
.note { color: #23475f; background: #eef5fb; border-left: 4px solid #5b9bd5;
  padding: 6px 10px; margin: 6px 0; font-size: 14px; }
.charts { display: flex; flex-wrap: wrap; gap: 10px; }
svg.chart { background: #fff; border: 1px solid #eef1f4; }
svg .ct { font-size: 13px; font-weight: 600; fill: #1d2a36; }
svg .ax { font-size: 10px; fill: #55636f; }
svg .lg { font-size: 11px; fill: #1d2a36; }
svg .vl { font-size: 9px; fill: #34495e; }
svg .hv { font-size: 12px; }
svg .grid { stroke: #e6eaee; stroke-width: 1; }
svg .ref { stroke: #b0b8c0; stroke-width: 1; stroke-dasharray: 4 3; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0 4px 0; }
th, td { border: 1px solid #e1e6eb; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f0f3f6; }
td.t, th.t { text-align: left; }
.more { font-size: 12px; color: #6a7a8a; }
.status-ok { color: #2e7d32; } .status-partial { color: #b26a00; } .status-na { color: #8a1f11; }
"""

PAGE = Template(
    """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<style>$css</style>
</head>
<body>
<header>
<h1>$title</h1>
<p>$subtitle</p>
</header>
<nav>$nav</nav>
<main>
$overview
$sections
</main>
</body>
</html>
"""
)
