"""Pure ASGI middleware on the hot path (no BaseHTTPMiddleware: STYLE.md Part 2, trap 8)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lgsp.errors import (
    InvalidPath,
    LgspError,
    RequestHeadersTooLarge,
    RequestTooLarge,
    problem_body,
    problem_head,
)
from lgsp.logging import request_id_var

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class _RequestIds:
    """32 hex digits, like a UUID's: a random prefix per process, then a counter. Unique
    without a `uuid4()` (and its system call) per request (issue 21); ids are not secrets."""

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)  # a forked worker gets its own prefix

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._count = itertools.count()

    def new(self) -> str:
        return f"{self._prefix}{next(self._count) & 0xFFFFFFFFFFFFFFFF:016x}"


_request_ids = _RequestIds()


class RequestIdMiddleware:
    """Reads or creates `X-Request-ID`, exposes it to logs and handlers, echoes it back.

    A caller's id is kept when it is a sane token (so a test can follow its own id through the
    bus); anything else is replaced rather than echoed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _last(scope["headers"], _REQUEST_ID_KEY)
        request_id = given if given and _VALID_REQUEST_ID.match(given) else _request_ids.new()
        token = request_id_var.set(request_id)
        echoed = (_REQUEST_ID_KEY, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                if not any(key == _REQUEST_ID_KEY for key, _ in headers):
                    message["headers"] = [*headers, echoed]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


def _last(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The last value of header `name` (ASGI names are lower case), as `dict(headers)` would
    give it, without building a dict per call."""
    found = None
    for key, value in headers:
        if key == name:
            found = value
    return None if found is None else found.decode("latin-1")


MAX_HEADERS = 100
"""Header fields one request may carry (Apache's `LimitRequestFields` default)."""
MAX_HEADER_BYTES = 32 * 1024
"""Bytes of header names and values one request may carry: four times what a real call needs
with the longest access token we accept (8 KiB)."""
_DOT_SEGMENTS = frozenset({".", ".."})
_ENCODED_DELIMITER = re.compile(rb"%(?:2f|5c|3f|23)", re.IGNORECASE)
"""`/`, `\\`, `?` and `#`: decoded, each would change what the next hop reads as the path."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestGuardMiddleware:
    """Refuses, before any handler reads them, requests no handler should have to defend against:

    - too many or too large header fields (431, RFC 6585 §5). The server in front cannot be
      relied on: uvicorn's h11 bounds a header block only while it arrives incomplete (16 KiB),
      so one sent in a single write passes whatever its size, and in-process callers
      (`httpx.ASGITransport`, the mocks calling back) have no server at all;
    - paths with a `.` or `..` segment (also spelt `%2e%2e`), an encoded `/`, `\\`, `?` or
      `#`, or a control character (400). A path parameter is then always one plain segment, and
      a path forwarded to the next hop is the path that was authorised and audited here: httpx
      would otherwise resolve the dot segments (RFC 3986 §5.2.4) and call another path, and a
      decoded `?` would start the next hop's query. Apache refuses encoded slashes by default
      (`AllowEncodedSlashes Off`) for the same reason;
    - bodies over `max_bytes` (413), announced or streamed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        max_headers: int = MAX_HEADERS,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_headers = max_headers
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _refuse(scope, send, refusal)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge(self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _refusal(self, scope: Scope) -> LgspError | None:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        size, declared = 0, None
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"content-length":
                declared = value  # the last, as `dict(headers)` kept it
        if len(headers) > self.max_headers or size > self.max_header_bytes:
            return RequestHeadersTooLarge(
                f"A request may carry at most {self.max_headers} header fields of "
                f"{self.max_header_bytes} bytes in all."
            )
        path: str = scope["path"]
        raw_path: bytes = scope.get("raw_path") or b""
        # Each check only where its character occurs: most paths have no `.`, `%` or control.
        if (
            ("." in path and _DOT_SEGMENTS.intersection(path.split("/")))
            or (b"%" in raw_path and _ENCODED_DELIMITER.search(raw_path))
            or (not path.isprintable() and _CONTROL.search(path))
        ):
            return InvalidPath(
                "Path segments may not be `.` or `..` (plain or percent-encoded), and the path "
                "may not hold an encoded `/`, `\\`, `?` or `#`, or a control character."
            )
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return RequestTooLarge(self._detail())
        return None

    def _detail(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."


async def _refuse(scope: Scope, send: Send, error: LgspError) -> None:
    """Answer from the middleware itself: the error handlers sit inside it."""
    body = problem_body(error, instance=scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [*problem_head(body), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})
