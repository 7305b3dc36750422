"""Handing a request rewritten in the bus's own dialect to an instance's core, and holding the
answer until a door has translated it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.dialects import lgspaccesstoken as lat
from formats.ngsp import request_object

CREDENTIAL_HEADERS = frozenset({b"authorization", lat.HEADER.encode()})
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
KEPT_FROM_CORE = frozenset({b"retry-after", b"www-authenticate", b"allow", b"location"})


@dataclass
class Answer:
    """What the core answered, held until it is translated."""

    messages: list[Message] = field(default_factory=list)
    failure: Exception | None = None
    recorded: bool = True
    """Whether a recorder of the instance kept the call (the core's); else the door's reply
    to it is recorded (`Door._reply`)."""

    @property
    def status(self) -> int:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        return int(start["status"]) if start is not None else 0

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        return list(start.get("headers", [])) if start is not None else []

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    @property
    def translatable(self) -> bool:
        """A whole answer: not a dropped connection (a fault), which passes as it is."""
        return self.status != 0 and all(
            m["type"] in ("http.response.start", "http.response.body") for m in self.messages
        )

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)
        if self.failure is not None:
            raise self.failure


async def exchange(
    app: ASGIApp, scope: Scope, receive: Receive, *, recorded: bool = True
) -> Answer:
    answer = Answer(recorded=recorded)

    async def hold(message: Message) -> None:
        answer.messages.append(message)

    try:
        await app(scope, receive, hold)
    except Exception as error:  # the core rendered its 500 (or dropped) before raising
        answer.failure = error
    return answer


async def respond(
    send: Send,
    status: int,
    document: object,
    *,
    kept: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    body: bytes | None = None,
) -> None:
    payload = body if body is not None else json.dumps(document, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *kept,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def respond_bytes(send: Send, status: int, body: bytes, media_type: str) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    value = next((v for k, v in scope.get("headers", []) if k.lower() == name), None)
    return None if value is None else value.decode("latin-1")


def core_scope(
    scope: Scope, *, base: str, path: str, credential: str | None, extra: list[tuple[bytes, bytes]]
) -> Scope:
    """The request as the bus's own dialect would send it to the instance at `base`."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in CREDENTIAL_HEADERS]
    if credential is not None:
        headers.append((b"authorization", credential.encode("latin-1")))
    full = base + path
    return {
        **scope,
        "root_path": base,
        "path": full,
        "raw_path": quote(full).encode(),
        "headers": headers + extra,
    }


def problem_of(body: bytes) -> dict[str, Any]:
    """The core's problem document (or token answer), {} when it is none; what the core
    passed on from a system too, so JSON nested past the stack is {}, not a 500."""
    return (request_object(body) if len(body) <= 64 * 1024 else None) or {}


async def read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def body_once(body: bytes) -> Receive:
    """A `receive` that gives `body` once, then a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive
