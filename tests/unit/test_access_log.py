"""The access line `lgsp serve` writes per call, without `logging` (issue 21).

A line through `logging` (a `LogRecord`, filters, formatter, locks) cost ~9.5 µs a call;
`lgsp.logging.AccessLog` writes the same text itself when it would reach `configure_logging`'s
handler alone. These tests pin that line in both formats, compare it with the line `logging`
writes for the same call, and check that whatever would change the line through `logging`
(the logger's level, a filter, another handler, `LGSP_ACCESS_LOG=false`) still does.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import pytest
from starlette.types import Receive, Scope, Send

from lgsp.logging import ACCESS_LOG, TurnFlushingHandler, configure_logging, request_id_var
from tests.fixtures.protocol import serve_one

NOW = 1_780_000_000.25  # 2026-05-28T20:26:40.250 UTC
ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'  # uvicorn's (httptools_impl.RequestResponseCycle)
ACCESS_LOGGER = logging.getLogger("uvicorn.access")

Configure = Callable[[str], io.StringIO]


@pytest.fixture
def bus_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """`configure_logging(json=…)`, its handler the root's only one (pytest's put aside) and
    writing to a `StringIO`, the clock stopped at `NOW`; all undone afterwards, and the
    `uvicorn.access` logger as a fresh process has it (a uvicorn `Config` with the access
    log off clears it for the whole process)."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    logger_state = ("handlers", "propagate", "disabled", "filters")
    saved_access = {name: getattr(ACCESS_LOGGER, name) for name in logger_state}
    ACCESS_LOGGER.handlers, ACCESS_LOGGER.filters = [], []
    ACCESS_LOGGER.propagate, ACCESS_LOGGER.disabled = True, False
    monkeypatch.setattr(time, "time", lambda: NOW)
    monkeypatch.setattr(time, "time_ns", lambda: int(NOW * 1000) * 1_000_000)  # Python 3.13

    def configure(log_format: str) -> io.StringIO:
        root.handlers = []
        configure_logging(json=log_format == "json")
        (handler,) = root.handlers
        assert isinstance(handler, TurnFlushingHandler)
        stream = io.StringIO()
        handler.setStream(stream)
        return stream

    yield configure
    for handler in root.handlers:
        handler.close()
    root.handlers, root.level = saved[0], saved[1]
    for name, value in saved_access.items():
        setattr(ACCESS_LOGGER, name, value)
    ACCESS_LOGGER.setLevel(logging.NOTSET)


def answer_in_request(request_id: str) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request_id_var.set(request_id)  # as the request-id middleware does
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return app


LOOKUP = b"GET /dancu/citizens/091087000123?page=2 HTTP/1.1\r\nHost: x\r\n\r\n"
PINNED = {
    "text": (
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(NOW))},250 INFO uvicorn.access "
        '[req-7] 127.0.0.1:8000 - "GET /dancu/citizens/091*******23?page=2 HTTP/1.1" 200\n'
    ),
    "json": (
        '{"time": "2026-05-28T20:26:40.250000+00:00", "level": "INFO", '
        '"logger": "uvicorn.access", "request_id": "req-7", '
        '"message": "127.0.0.1:8000 - '
        '\\"GET /dancu/citizens/091*******23?page=2 HTTP/1.1\\" 200"}\n'
    ),
}


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_call_logs_the_pinned_access_line(bus_logging: Configure, log_format: str) -> None:
    stream = bus_logging(log_format)

    asyncio.run(serve_one(answer_in_request("req-7"), LOOKUP, access_log=True))

    assert stream.getvalue() == PINNED[log_format]


def test_a_query_parameter_named_like_a_personal_field_is_masked_in_the_access_line(
    bus_logging: Configure,
) -> None:
    """The integrator review: `?phone=…&name=…` was logged as sent; masked as in the journal,
    and a credential hidden as there."""
    stream = bus_logging("text")
    request = b"GET /dvc/v1/dossiers?phone=0912345678&name=Ho%C3%A0ng&trang=2&access_token=eyJ"
    request += b" HTTP/1.1\r\n"

    asyncio.run(
        serve_one(answer_in_request("req-7"), request + b"Host: x\r\n\r\n", access_log=True)
    )

    assert (
        '"GET /dvc/v1/dossiers?phone=0*********&name=H****&trang=2&access_token=*** HTTP/1.1"'
        in (stream.getvalue())
    )


@pytest.mark.parametrize("turn_off", [None, "filter"])
def test_the_access_line_through_logging_is_masked_too(
    bus_logging: Configure, turn_off: str | None
) -> None:
    """A filter sends the line through `logging`: the query is masked there as well."""
    stream = bus_logging("text")
    if turn_off:
        ACCESS_LOGGER.addFilter(lambda record: True)
    path = "/dvc/v1/dossiers?HoTenChuHo=Nguy%E1%BB%85n+An"

    ACCESS_LOG.info(ACCESS_FORMAT, "127.0.0.1:51000", "GET", path, "1.1", 200)

    assert stream.getvalue().endswith(
        '] 127.0.0.1:51000 - "GET /dvc/v1/dossiers?HoTenChuHo=N*****+A* HTTP/1.1" 200\n'
    )


def test_no_access_line_when_the_access_log_is_off(bus_logging: Configure) -> None:
    """`LGSP_ACCESS_LOG=false`: uvicorn's `Config` takes the logger's handlers and propagation."""
    stream = bus_logging("text")

    asyncio.run(serve_one(answer_in_request("req-7"), LOOKUP, access_log=False))

    assert stream.getvalue() == ""


def _no_record(*args: object, **kwargs: object) -> NoReturn:
    raise AssertionError("the access line went through `logging`")


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(
    ("request_id", "path"),
    [
        ("req-7", "/dancu/citizens/091087000123"),
        (None, "/dancu/citizens/%3091087000123?q=%22a%22"),  # outside a request; encoded id
        ("r\u00e9q", "/x/\u00e9\\\x1b/123456789"),  # as uvicorn decodes a raw path: latin-1
    ],
    ids=["id", "encoded-id-no-request", "latin-1-escapes-cmnd"],
)
def test_the_access_line_is_the_one_logging_writes(
    bus_logging: Configure,
    monkeypatch: pytest.MonkeyPatch,
    log_format: str,
    request_id: str | None,
    path: str,
) -> None:
    stream = bus_logging(log_format)
    args = ("127.0.0.1:51000", "GET", path, "1.1", 200)
    token = request_id_var.set(request_id)
    try:
        ACCESS_LOGGER.info(ACCESS_FORMAT, *args)
        through_logging = stream.getvalue()
        stream.seek(0)
        stream.truncate()
        with monkeypatch.context() as patched:
            patched.setattr(logging.Logger, "_log", _no_record)
            ACCESS_LOG.info(ACCESS_FORMAT, *args)
    finally:
        request_id_var.reset(token)

    assert stream.getvalue() == through_logging
    assert "091087000123" not in through_logging


def _raise_level(logger: logging.Logger) -> None:
    logger.setLevel(logging.WARNING)


def _disable(logger: logging.Logger) -> None:
    logger.disabled = True


def _filter_out(logger: logging.Logger) -> None:
    logger.addFilter(lambda record: False)


@pytest.mark.parametrize("turn_off", [_raise_level, _disable, _filter_out])
def test_no_access_line_when_the_logging_config_turns_the_logger_off(
    bus_logging: Configure, turn_off: Callable[[logging.Logger], None]
) -> None:
    stream = bus_logging("text")
    turn_off(ACCESS_LOGGER)

    ACCESS_LOG.info(ACCESS_FORMAT, "127.0.0.1:51000", "GET", "/", "1.1", 200)

    assert stream.getvalue() == ""


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_another_handler_gets_the_access_line_too(bus_logging: Configure) -> None:
    stream = bus_logging("text")
    other = _Recorder()
    ACCESS_LOGGER.addHandler(other)
    try:
        ACCESS_LOG.info(ACCESS_FORMAT, "127.0.0.1:51000", "GET", "/", "1.1", 200)
    finally:
        ACCESS_LOGGER.removeHandler(other)

    assert [record.getMessage() for record in other.records] == [
        '127.0.0.1:51000 - "GET / HTTP/1.1" 200'
    ]
    assert stream.getvalue().endswith('] 127.0.0.1:51000 - "GET / HTTP/1.1" 200\n')


def test_the_access_line_waits_for_the_end_of_the_loop_turn(bus_logging: Configure) -> None:
    stream = bus_logging("text")

    async def log_two() -> str:
        logging.getLogger("lgsp.routing").warning("before")
        ACCESS_LOG.info(ACCESS_FORMAT, "127.0.0.1:51000", "GET", "/", "1.1", 200)
        written_within_the_turn = stream.getvalue()
        await asyncio.sleep(0)
        return written_within_the_turn

    assert asyncio.run(log_two()) == ""
    lines = stream.getvalue().splitlines()
    assert [line.split(" ", 4)[-1] for line in lines] == [
        "[-] before",
        '[-] 127.0.0.1:51000 - "GET / HTTP/1.1" 200',
    ]
