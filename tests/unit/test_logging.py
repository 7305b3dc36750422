"""`LGSP_LOG_FORMAT`: `lgsp serve` logs one masked JSON object per line when asked to."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator

import pytest

from lgsp import cli
from lgsp.logging import request_id_var
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
