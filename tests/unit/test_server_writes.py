"""`lgsp serve`'s protocol writes an answer's head together with its body (issue 21).

uvicorn writes the status line and header fields when the app sends `http.response.start`
and the body at the next message: two system calls where one will do. The protocol holds the
head until the first body part; an answer cut short still ends with its head sent, and what
HTTP/1.1 writes besides (an interim 100, a streamed body, pipelined answers) goes out as it
did. The app's `send` is uvicorn's own coroutine, with no coroutine of the protocol's around it.
"""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

from lgsp.connection import drop_message
from tests.fixtures.protocol import GET, answer, serve_one


async def answer_then_drop(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"9")]}
    )
    await send(drop_message())


@pytest.mark.parametrize(
    ("request_", "closed"),
    [(GET, False), (GET.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"), True)],
    ids=["keep-alive", "connection-close"],
)
def test_the_head_and_the_body_go_out_in_one_write(request_: bytes, closed: bool) -> None:
    transport = asyncio.run(serve_one(answer, request_))

    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\nok")
    assert transport.closed is closed


def test_a_dropped_answer_still_sends_its_head_before_the_close() -> None:
    transport = asyncio.run(serve_one(answer_then_drop, GET))

    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.closed


@pytest.mark.parametrize("app", [answer, answer_then_drop], ids=["answered", "dropped"])
def test_an_answered_call_is_freed_without_the_garbage_collector(app: Any) -> None:
    """The protocol's `send` wrapper and the request's cycle refer to each other while the
    answer goes out; after it, nothing of the call may wait for a collection (issue 21: ~23
    objects a call, the collections ~30 µs of CPU a call)."""
    scopes: list[weakref.ref[Marker]] = []

    async def watched(scope: Scope, receive: Receive, send: Send) -> None:
        scope["marker"] = Marker()  # lives as long as the scope
        scopes.append(weakref.ref(scope["marker"]))
        await app(scope, receive, send)

    gc.disable()  # no collection first: it walked a worker's whole heap (2 to 5 s in a run)
    try:
        asyncio.run(serve_one(watched, GET))  # the protocol is gone with it
        assert len(scopes) == 1
        assert scopes[0]() is None
    finally:
        gc.enable()


class Marker:
    """Something in a scope that a weak reference can watch (a dict cannot be)."""


START = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
OK = {"type": "http.response.body", "body": b"ok"}


def test_the_app_sends_through_uvicorns_own_coroutine() -> None:
    """A coroutine of the protocol's around each message cost a frame per message, and a
    closure made per request (issue 21)."""
    coroutines: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in (START, OK):
            sending = send(message)
            coroutines.append(sending)
            await sending

    transport = asyncio.run(serve_one(app, GET))

    assert [type(c).__name__ for c in coroutines] == ["coroutine", "coroutine"]
    assert {c.cr_code for c in coroutines} == {RequestResponseCycle.send.__code__}
    assert transport.writes == [transport.writes[0]]
    assert transport.writes[0].endswith(b"\r\n\r\nok")


def test_an_answer_to_head_has_its_head_written_and_the_connection_kept() -> None:
    transport = asyncio.run(serve_one(answer, GET.replace(b"GET", b"HEAD")))

    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"content-length: 2\r\n\r\n")
    assert not transport.closed


async def streamed(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for part in (b"one", b"two"):
        await send({"type": "http.response.body", "body": part, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


def test_a_streamed_body_has_its_first_part_with_the_head_and_the_rest_as_it_comes() -> None:
    transport = asyncio.run(serve_one(streamed, GET))

    assert len(transport.writes) == 3
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n3\r\none\r\n")
    assert transport.writes[1:] == [b"3\r\ntwo\r\n", b"0\r\n\r\n"]


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    body = (await receive())["body"]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_the_interim_100_continue_goes_out_at_once_before_the_answer() -> None:
    request = b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"

    transport = asyncio.run(serve_one(echo, request))

    assert len(transport.writes) == 2
    assert transport.writes[0] == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert transport.writes[1].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[1].endswith(b"\r\n\r\nhi")


def test_pipelined_requests_are_answered_in_order_each_in_one_write() -> None:
    first = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirst"
    second = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecond"

    transport = asyncio.run(serve_one(echo, first + second))

    assert [write.rpartition(b"\r\n\r\n")[2] for write in transport.writes] == [
        b"first",
        b"second",
    ]
    assert transport.writes[1].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.closed


def failing_after(message: dict[str, Any]) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(message)
        raise RuntimeError("the app failed mid-answer")

    return app


def test_an_app_failing_after_the_head_has_the_head_sent_then_the_connection_closed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = asyncio.run(serve_one(failing_after(START), GET))

    assert transport.writes == [transport.writes[0]]
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"content-length: 2\r\n\r\n")
    assert transport.closed
    assert "Exception in ASGI application" in caplog.text
