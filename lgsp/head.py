"""HEAD on every GET resource of the bus, in one place (RFC 9110 §9.3.2: a server SHOULD
answer HEAD wherever it answers GET).

FastAPI's routes take only the methods they declare, so HEAD was 405 on `/healthz`, `/readyz`
and every GET route and service operation; health checks and `curl -I` send HEAD. A HEAD is
served as the GET it stands for, with the GET's header fields (`Content-Length` included,
RFC 9110 §9.3.2) and no content. Everything behind sees a GET: rights, faults, the audit log
and the journal record it as one, hash the representation it would have carried, and forward
it to the owner as a GET, so that no system has to answer HEAD itself. A path that takes no GET
answers HEAD as it answers GET: 405, naming in `Allow` the methods it takes.

The bus's first layer (`lgsp.middleware.EntryMiddleware`) calls it, rather than a layer of its
own: every request would pay for one more (issue 21).
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send


def served_as_get(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """The GET a HEAD request stands for, and `send` passing on its answer without content."""

    async def without_content(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return  # a streamed part: only the end is passed on, empty
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    return {**scope, "method": "GET"}, without_content
