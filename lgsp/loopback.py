"""The bus reached from inside its own process: by its mocks, its peers and the outbox worker
in the lifespan, and by the pytest plugin's in-process runner (`lgsp.testing`).

A request handed straight to the ASGI app over `httpx.ASGITransport` gets no lifespan state,
which a server would give it: `with_lifespan_state` gives it that, in one place for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

INTERNAL_BUS_URL = "http://bus.internal"
"""Where in-process callers reach the bus: any host does, the transport never leaves the process."""


def with_lifespan_state(app: ASGIApp, state: Mapping[str, Any]) -> ASGIApp:
    """`app`, giving each HTTP request a copy of `state`, as a server would (ASGI lifespan
    `state`). `state` is read per request, so it may be filled after the wrapper is built."""

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return with_state
