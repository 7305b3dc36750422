"""A service call's unforeseen error is answered 500 by the lean gateway unless its answer has
begun; begun, nothing more is sent and the error goes on to the server (`lgsp.routing.dispatch`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from lgsp.routing import dispatch
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer

pytestmark = pytest.mark.anyio

CALL = f"{KG}/dancu/v1/citizens/091048993438"


def fail() -> None:
    raise RuntimeError("an unforeseen failure")


async def failing_stream() -> Any:
    yield b"{"
    fail()


async def starts(app: FastAPI, token: str) -> list[int]:
    """The status of each answer start the bus sends for one call."""
    sent: list[Message] = []

    async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
        async def record(message: Message) -> None:
            sent.append(message)
            await send(message)

        await app(scope, receive, record)

    transport = httpx.ASGITransport(app=recorded, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as client:
        await client.get(CALL, headers=bearer(token))
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


async def test_an_error_before_the_answer_is_answered_500(
    app: FastAPI, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def invoke_service(*_args: object) -> Response:
        fail()
        raise AssertionError("unreachable")

    monkeypatch.setattr(dispatch, "invoke", invoke_service)

    assert await starts(app, demo_token) == [500]


@pytest.mark.parametrize(
    "answer",
    [
        JSONResponse({"ok": True}, background=BackgroundTask(fail)),
        StreamingResponse(failing_stream(), media_type="application/json"),
    ],
    ids=["plain-answer-then-its-background", "streamed-answer"],
)
async def test_an_error_once_the_answer_has_begun_sends_nothing_more(
    app: FastAPI, demo_token: str, monkeypatch: pytest.MonkeyPatch, answer: Response
) -> None:
    async def invoke_service(*_args: object) -> Response:
        return answer

    monkeypatch.setattr(dispatch, "invoke", invoke_service)

    assert await starts(app, demo_token) == [200]
