"""Pure ASGI middleware on the hot path (no BaseHTTPMiddleware: STYLE.md Part 2, trap 8)."""

from __future__ import annotations

import itertools
import os
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lgsp.errors import (
    InvalidPath,
    LgspError,
    RequestHeadersTooLarge,
    RequestTooLarge,
    problem_body,
    problem_head,
)
from lgsp.head import served_as_get
from lgsp.logging import request_id_var
from lgsp.masking import mask_request_id

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_KEY = REQUEST_ID_HEADER.encode()
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:*-]{1,128}$")
"""A caller's `X-Request-ID` the bus keeps (`*`: one a hop masked, passed on to the next)."""


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


MAX_HEADERS = 100
"""Header fields one request may carry (Apache's `LimitRequestFields` default)."""
MAX_HEADER_BYTES = 32 * 1024
"""Bytes of header names and values one request may carry: four times what a real call needs
with the longest access token we accept (8 KiB)."""
_DOT_SEGMENTS = frozenset({".", ".."})
_ENCODED_DELIMITER = re.compile(rb"%(?:2f|5c|3f|23)", re.IGNORECASE)
"""`/`, `\\`, `?` and `#`: decoded, each would change what the next hop reads as the path."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class EntryMiddleware:
    """What every request meets first: its request id, and the refusals of requests no handler
    should have to defend against. One layer, with one pass over the header fields, rather
    than two stacked (issue 21).

    The request id: `X-Request-ID` is read or made, exposed to logs and handlers (the
    `request_id_var` context variable) and echoed on the answer, refusals included. A
    caller's id is kept when it is a sane token (so a test can follow its own id through the
    bus); anything else is replaced rather than echoed. A citizen's number standing in it is
    masked in the context variable, so in every log line, audit record, journal entry and
    next hop (`mask_request_id`), while the answer echoes the id as sent: an integrator
    matches the echo with the id it sent.

    Refused:

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

    A HEAD request goes on as the GET it stands for, its answer without content (`lgsp.head`).
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
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        size, given, declared = 0, None, None
        for name, value in headers:  # the last of each, as `dict(headers)` would keep it
            size += len(name) + len(value)
            if name == _REQUEST_ID_KEY:
                given = value
            elif name == b"content-length":
                declared = value
        request_id = None if given is None else given.decode("latin-1")
        if not request_id or not _VALID_REQUEST_ID.match(request_id):
            request_id = kept = _request_ids.new()
        else:  # a citizen's number in it masked in every copy the bus keeps (re-probe #9)
            kept = mask_request_id(request_id)
        token = request_id_var.set(kept)
        echoed = (_REQUEST_ID_KEY, request_id.encode("latin-1"))
        masked = kept != request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered = message.get("headers", ())
                if masked:  # the caller gets back the id it sent, to match it with its own
                    message["headers"] = [
                        *(field for field in answered if field[0] != _REQUEST_ID_KEY),
                        echoed,
                    ]
                    await send(message)
                    return
                for key, _ in answered:
                    if key == _REQUEST_ID_KEY:
                        break
                else:
                    message["headers"] = [*answered, echoed]
            await send(message)

        answer: Send = send_with_id
        if scope.get("method") == "HEAD":  # as the GET it stands for (lgsp/head.py)
            scope, answer = served_as_get(scope, send_with_id)
        try:
            refusal = self._refusal(scope, len(headers), size, declared)
            if refusal is not None:
                await _refuse(scope, answer, refusal)
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

            await self.app(scope, limited_receive, answer)
        finally:
            request_id_var.reset(token)

    def _refusal(
        self, scope: Scope, fields: int, size: int, declared: bytes | None
    ) -> LgspError | None:
        if fields > self.max_headers or size > self.max_header_bytes:
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
