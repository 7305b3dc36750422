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
from typing import TypeGuard

from lgsp.masking import PersonalDataFilter, mask_personal_data, mask_query

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


class LineFormatter(logging.Formatter):
    """A formatter that also writes a line from its fields, with no `LogRecord` (`AccessLog`):
    `line` gives the text `format` gives a record of those fields, byte for byte (its `msecs`
    from `created`, as `LogRecord` sets it). Not an `ABC`: the access log checks each line's
    formatter with `isinstance`, which an `ABCMeta` class answers in Python (issue 21)."""

    def line(self, created: float, levelname: str, name: str, request_id: str, message: str) -> str:
        """The line `format` gives a record of these fields; a subclass writes it without
        building the record."""
        record = logging.makeLogRecord(
            {
                "name": name,
                "levelname": levelname,
                "levelno": logging.getLevelName(levelname),
                "msg": message,
                "created": created,
                "msecs": int((created - int(created)) * 1000) + 0.0,
                "request_id": request_id,
            }
        )
        return self.format(record)


_JSON = jsonlib.JSONEncoder(ensure_ascii=False)
"""`json.dumps(…, ensure_ascii=False)` without building an encoder for each line."""


class JsonFormatter(LineFormatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        data = _json_fields(
            record.created,
            record.levelname,
            record.name,
            getattr(record, "request_id", None),
            record.getMessage(),
        )
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exception"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return _JSON.encode(data)

    def line(self, created: float, levelname: str, name: str, request_id: str, message: str) -> str:
        return _JSON.encode(_json_fields(created, levelname, name, request_id, message))


def _json_fields(
    created: float, levelname: str, name: str, request_id: str | None, message: str
) -> dict[str, object]:
    return {
        "time": datetime.fromtimestamp(created, tz=UTC).isoformat(),
        "level": levelname,
        "logger": name,
        "request_id": request_id,
        "message": message,
    }


class TextFormatter(LineFormatter):
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
            self._new_second(second)
        return f"{self._second_text},{int(record.msecs):03d}"  # logging's `default_msec_format`

    def _new_second(self, second: int) -> None:
        self._second_text = time.strftime(self.default_time_format, self.converter(second))
        self._second = second

    def line(self, created: float, levelname: str, name: str, request_id: str, message: str) -> str:
        # `formatTime`'s text in the same f-string, the milliseconds as `LogRecord` has them.
        second = int(created)
        if second != self._second:
            self._new_second(second)
        return (
            f"{self._second_text},{int((created - second) * 1000):03d} "
            f"{levelname} {name} [{request_id}] {message}"
        )


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
            line = self.format(record)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        self._add(line)

    def write_line(self, line: str) -> None:
        """Write a line formatted already, as `emit` writes a record's."""
        with self.lock or nullcontext():
            self._add(line)

    def _add(self, line: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._pending.append(line + self.terminator)
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


class AccessLog:
    """Stands in for uvicorn's `uvicorn.access` logger in `lgsp serve`'s protocol (`lgsp.server`).

    A line per call through `logging` (a `LogRecord`, the filters, the formatter, the locks)
    cost ~90k instructions a call, a third of them for no line of text (issue 21). When the
    line would reach `configure_logging`'s handler alone, this writes the text that handler
    would write, to its stream in the same loop turn; anything else (the logger disabled or
    its level raised, a filter, another handler) takes `logging`'s way, as uvicorn would.
    """

    __slots__ = ("_logger",)

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def info(self, msg: str, *args: object) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):  # disabled, its level or `logging.disable`
            return
        if len(args) == 5 and type(target := args[2]) is str and "?" in target:
            # uvicorn's (client, method, path?query, version, status): a query parameter named
            # like a personal field is masked as the journal masks it (`phone=0*********`).
            path, query = target.split("?", 1)
            args = (*args[:2], f"{path}?{mask_query(query)}", *args[3:])
        handler = _sole_handler(logger)
        if handler is None:
            logger.info(msg, *args, stacklevel=2)
            return
        try:
            message = msg % args if args else msg  # as `LogRecord.getMessage`
        except (TypeError, ValueError):  # `PersonalDataFilter` writes what it can
            logger.info(msg, *args, stacklevel=2)
            return
        formatter: LineFormatter = handler.formatter  # type: ignore[assignment]  # `_plain`
        handler.write_line(
            formatter.line(
                time.time(),  # `created`, as `LogRecord` has it
                "INFO",
                logger.name,
                request_id_var.get() or "-",  # as `RequestIdFilter`
                mask_personal_data(message),  # as `PersonalDataFilter`
            )
        )


def _sole_handler(logger: logging.Logger) -> TurnFlushingHandler | None:
    """The handler an INFO record of `logger` would reach, if it is the only one and does no
    more than `configure_logging` made it do (its two filters, a `LineFormatter`)."""
    if logger.filters:
        return None
    found: TurnFlushingHandler | None = None
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            if found is not None or not _plain(handler):
                return None
            found = handler
        current = current.parent if current.propagate else None
    return found


def _plain(handler: logging.Handler) -> TypeGuard[TurnFlushingHandler]:
    filters = handler.filters
    return (
        type(handler) is TurnFlushingHandler
        and handler.level <= logging.INFO
        and isinstance(handler.formatter, LineFormatter)
        and len(filters) == 2
        and type(filters[0]) is RequestIdFilter
        and type(filters[1]) is PersonalDataFilter
    )


ACCESS_LOG = AccessLog(logging.getLogger("uvicorn.access"))


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
