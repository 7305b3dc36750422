"""Logging for the `serve` command: every record carries the request id and no citizen id.

Only the CLI calls `configure_logging`; library code just uses `logging.getLogger(__name__)` with
%-style arguments, so that `PersonalDataFilter` sees them (ruff `G` rules).
"""

from __future__ import annotations

import json as jsonlib
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from lgsp.masking import PersonalDataFilter

request_id_var: ContextVar[str | None] = ContextVar("lgsp_request_id", default=None)
"""The current request's `X-Request-ID`, set by the request-id middleware."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
_HANDLER_NAME = "lgsp"

# httpx and httpcore log every request's full URL at INFO (httpx/_client.py), and lookup URLs
# carry CCCD numbers (STYLE.md Part 2, trap 5).
_QUIETED_LOGGERS = ("httpx", "httpcore")


class RequestIdFilter(logging.Filter):
    """Copies the current request id onto the record as `request_id` (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return jsonlib.dumps(data, ensure_ascii=False)


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Install one stderr handler on the root logger; calling again replaces it."""
    handler = logging.StreamHandler()
    handler.name = _HANDLER_NAME
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))

    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.name == _HANDLER_NAME]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    # No format of ours names a source line, thread or process: skip finding them for each
    # record (the logging HOWTO's "Optimization"). With the access log on, every call logs a
    # line, and the stack walk of `findCaller` was a fifth of its cost (issue 21).
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    for name in _QUIETED_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
