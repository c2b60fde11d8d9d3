"""Logging set-up: text or JSON lines on stderr. ids and counts, never names/e-mails/phones."""

from __future__ import annotations

import json
import logging
import sys

_state = {"quiet": False}


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for cron logs and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("stage", "rows", "table", "seconds"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        return json.dumps(payload, sort_keys=True)


def configure_logging(*, level: int = logging.INFO, fmt: str = "text", quiet: bool = False) -> None:
    """Send leadctl's log records to stderr in the chosen format."""
    _state["quiet"] = quiet
    logger = logging.getLogger("leadctl")
    logger.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def is_quiet() -> bool:
    """Whether summaries should be suppressed (--quiet)."""
    return _state["quiet"]
