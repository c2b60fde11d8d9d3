"""The report's HTML: a page template and hand-written inline SVG charts (no network, no JS)."""
