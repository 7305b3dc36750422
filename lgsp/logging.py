"""Logging for the `serve` command: every record carries the request id and no citizen id.

Only the CLI calls `configure_logging`; library code just uses `logging.getLogger(__name__)` with
%-style arguments, so that `PersonalDataFilter` sees them (ruff `G` rules).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import time
from contextlib import nullcontext
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


class TextFormatter(logging.Formatter):
    """`TEXT_FORMAT`, with the date and time written once a second rather than per record:
    with the access log on, every call logs a line (issue 21)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"  # logging's `default_msec_format`


class TurnFlushingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes the lines of one event-loop turn to the stream in one write.

    stderr is line-buffered: a line per call (the access log) was a system call per call. A
    record logged on a thread with a running loop waits for the end of the loop's turn, which
    writes every line of that turn at once; on any other thread it is written at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._pending.append(line)
        if loop is None:
            self._write_pending()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._end_of_turn)

    def _end_of_turn(self) -> None:
        with self.lock or nullcontext():
            self._scheduled = False
            self._write_pending()

    def _write_pending(self) -> None:
        if not self._pending:
            return
        text, self._pending = "".join(self._pending), []
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:  # as `StreamHandler.emit` reports a stream that fails
            self.handleError(logging.makeLogRecord({"msg": text}))

    def flush(self) -> None:
        with self.lock or nullcontext():
            self._write_pending()
        super().flush()


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Install one stderr handler on the root logger; calling again replaces it."""
    handler = TurnFlushingHandler()
    handler.name = _HANDLER_NAME
    handler.addFilter(RequestIdFilter())
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(JsonFormatter() if json else TextFormatter())

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
