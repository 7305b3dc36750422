"""HEAD served as the GET it stands for (RFC 9110 §9.3.2: a server SHOULD answer HEAD wherever
it answers GET), for the bus and for a mock system run as a process of its own alike.

FastAPI's routes take only the methods they declare, so HEAD is 405 wherever nothing turns it
into a GET first: health checks and `curl -I` send HEAD. The answer keeps the GET's header
fields (`Content-Length` included, RFC 9110 §9.3.2) and drops its content. A path that takes no
GET answers HEAD as it answers GET: 405, naming in `Allow` the methods it takes, HEAD among
them wherever GET is (`allowed_with_head`).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def served_as_get(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """The GET a HEAD request stands for, and `send` passing on its answer without content."""

    async def without_content(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # a streamed part: only the end is passed on, empty
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return {**scope, "method": "GET"}, without_content


def allowed_with_head(methods: Iterable[str]) -> list[str]:
    """The methods a 405's `Allow` names (RFC 9110 §15.5.6): `methods`, with HEAD after GET
    wherever GET is one, since HEAD is then served too."""
    allowed = [m for m in dict.fromkeys(methods) if m != "HEAD"]
    if "GET" in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    return allowed


def allow_header_with_head(value: str) -> str:
    """An `Allow` header's value (`GET, POST`) with HEAD beside GET (`allowed_with_head`)."""
    return ", ".join(allowed_with_head(m.strip() for m in value.split(",") if m.strip()))


class HeadAsGet:
    """The layer that serves every HEAD request to `app` as its GET (`served_as_get`), for an
    app that nothing in front of it does this for: a mock system run as a process of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":
            scope, send = served_as_get(scope, send)
        await self.app(scope, receive, send)
