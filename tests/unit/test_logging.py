"""`LGSP_LOG_FORMAT`: `lgsp serve` logs one masked JSON object per line when asked to."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from collections.abc import Iterator

import pytest

from lgsp import cli
from lgsp.logging import (
    TEXT_FORMAT,
    JsonFormatter,
    LineFormatter,
    TextFormatter,
    TurnFlushingHandler,
    request_id_var,
)
from lgsp.settings import Settings


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """`lgsp serve` configures the root logger; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def serve_and_log(monkeypatch: pytest.MonkeyPatch, message: str, *args: object) -> None:
    """Run `lgsp serve` with the server replaced by one that logs one line, in a request."""
    import lgsp.cli._serve
    import lgsp.composition

    def fake_run(app: object, *_: object, **__: object) -> None:
        token = request_id_var.set("req-7")
        try:
            logging.getLogger("lgsp.routing").warning(message, *args)
        finally:
            request_id_var.reset(token)

    monkeypatch.setattr(lgsp.composition, "create_bus", lambda settings, **kwargs: object())
    monkeypatch.setattr(lgsp.cli._serve, "listen", lambda *_, **__: socket.socket())
    monkeypatch.setattr(lgsp.cli._serve, "run_server", fake_run)
    assert cli.main(["serve"]) == 0


def test_text_is_the_default_format() -> None:
    assert Settings(_env_file=None).log_format == "text"  # type: ignore[call-arg]


def test_serve_writes_json_lines_when_log_format_is_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    monkeypatch.setenv("LGSP_LOG_FORMAT", "json")

    serve_and_log(monkeypatch, "lookup of %s failed", "091087000123")

    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert set(record) >= {"time", "level", "logger", "message", "request_id"}
    assert record["level"] == "WARNING"
    assert record["logger"] == "lgsp.routing"
    assert record["request_id"] == "req-7"
    assert record["message"] == "lookup of 091*******23 failed"
    assert "091087000123" not in lines[0]


def test_serve_writes_text_lines_by_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    serve_and_log(monkeypatch, "lookup of %s failed", "091087000123")

    err = capsys.readouterr().err
    assert "WARNING lgsp.routing [req-7] lookup of 091*******23 failed" in err
    assert not any(line.startswith("{") for line in err.splitlines())


def test_an_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LGSP_LOG_FORMAT", "xml")

    with pytest.raises(ValueError, match="log_format"):
        Settings(_env_file=None)  # type: ignore[call-arg]


class _CountingStream(io.StringIO):
    """A stream that counts its writes (each is a system call on a real stderr)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _handler() -> tuple[TurnFlushingHandler, _CountingStream]:
    handler = TurnFlushingHandler()
    stream = _CountingStream()
    handler.setStream(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler, stream


def test_the_lines_of_one_loop_turn_are_written_in_one_write() -> None:
    handler, stream = _handler()

    async def log_three() -> str:
        for n in range(3):
            handler.handle(logging.makeLogRecord({"msg": f"line {n}"}))
        written_within_the_turn = stream.getvalue()
        await asyncio.sleep(0)  # the turn ends
        return written_within_the_turn

    assert asyncio.run(log_three()) == ""
    assert stream.getvalue() == "line 0\nline 1\nline 2\n"
    assert stream.writes == 1


def test_a_line_logged_without_a_running_loop_is_written_at_once() -> None:
    handler, stream = _handler()

    handler.handle(logging.makeLogRecord({"msg": "now"}))

    assert stream.getvalue() == "now\n"


def test_flush_writes_what_the_turn_has_not_written_yet() -> None:
    handler, stream = _handler()

    async def log_and_flush() -> None:
        handler.handle(logging.makeLogRecord({"msg": "before shutdown"}))
        handler.flush()

    asyncio.run(log_and_flush())

    assert stream.getvalue() == "before shutdown\n"


@pytest.mark.parametrize("created", [0.0, 1_780_000_000.0005, 1_780_000_000.9999, 1_780_000_001.5])
def test_the_text_format_writes_the_time_as_logging_does(created: float) -> None:
    record = logging.makeLogRecord({"msg": "x", "args": None})
    record.created, record.msecs = created, (created - int(created)) * 1000
    record.request_id = "-"
    mine = TextFormatter()
    mine.format(logging.makeLogRecord({"msg": "another second, cached", "request_id": "-"}))

    assert mine.format(record) == logging.Formatter(TEXT_FORMAT).format(record)


@pytest.mark.parametrize(
    "formatter",
    [LineFormatter(TEXT_FORMAT), TextFormatter(), JsonFormatter()],
    ids=["by-its-record", "text", "json"],
)
@pytest.mark.parametrize("created", [1_780_000_000.0005, 1_780_000_001.9999])
def test_a_line_from_fields_is_the_line_of_their_record(
    formatter: LineFormatter, created: float
) -> None:
    """The access log writes `line`; any other record goes through `format`: the same text."""
    record = logging.LogRecord("lgsp.access", logging.INFO, "", 0, "GET / 200", None, None)
    record.created, record.msecs = created, int((created - int(created)) * 1000) + 0.0
    record.request_id = "req-9"

    line = formatter.line(created, "INFO", "lgsp.access", "req-9", "GET / 200")

    assert line == formatter.format(record)
