"""Closing a client's connection without an answer: the ASGI extension `lgsp serve` offers.

ASGI has no message for "close without answering": an app that raises before
`http.response.start` gets a 500 from its server, one that raises after it has its status line
sent already. So a dropped connection (the `drop` and `cut` faults) is a message of our own,
`{"type": "lgsp.connection.drop"}`, that `lgsp serve`'s protocol (`lgsp.server`) announces in
`scope["extensions"]` and obeys by closing the socket: before any byte of the answer, or in the
middle of its body. Without that server (an in-process `httpx.ASGITransport`), the audit
recorder raises `ConnectionDropped` instead, which such a client sees as the
`httpx.RemoteProtocolError` a closed socket gives it.
"""

from __future__ import annotations

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DROP = "lgsp.connection.drop"
"""The extension's name in `scope["extensions"]`, and the type of its one message."""
DROPPED_STATUS = 502
"""The status of a dropped call in its audit record: what a proxy in front would report."""


class ConnectionDropped(httpx.RemoteProtocolError):
    """A drop asked for where no server can close the connection (an in-process client)."""


def drop_message() -> Message:
    return {"type": DROP}


def is_drop(message: Message) -> bool:
    return bool(message["type"] == DROP)


def server_drops(scope: Scope) -> bool:
    """Whether the server serving `scope` closes the connection on a drop message."""
    return DROP in (scope.get("extensions") or {})


def honouring_drops(app: ASGIApp, dropped: list[Scope]) -> ASGIApp:
    """`app` as a server that offers the extension would run it, for an in-process transport
    that cannot close a socket (the pytest plugin's): after a drop nothing more is sent, the
    call's scope is put in `dropped`, and the call ends in `ConnectionDropped`."""

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        scope["extensions"] = {**(scope.get("extensions") or {}), DROP: {}}
        closed = False

        async def sending(message: Message) -> None:
            nonlocal closed
            if is_drop(message):
                closed = True
                dropped.append(scope)
            elif not closed:
                await send(message)

        await app(scope, receive, sending)
        if closed:
            raise ConnectionDropped("The gateway closed the connection.")

    return served
