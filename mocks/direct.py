"""Plain GET routes in front of a mock's FastAPI app, for the lookups integrators load-test.

FastAPI's routing, dependency solving and exception middleware cost a citizen lookup more than
the lookup itself (issue 21's profile: a sixth of the gateway hop's CPU went to the in-process
mock's FastAPI stack). A mock lists its hottest GET routes here with a plain function that the
FastAPI route calls too, so both answer the same bytes; every other request, and the OpenAPI
document, stay FastAPI's. Errors the function raises are answered in the mock's envelope, as
its FastAPI error handlers would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks.envelope import Envelope, EnvelopeError, error_response

_PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class DirectRoute:
    """`path` as FastAPI writes it (`/api/congdan/{so_dinh_danh}`), and the function answering
    it, called with the path's parameters by name."""

    path: str
    answer: Callable[..., Response]

    def pattern(self) -> re.Pattern[str]:
        parts = _PARAMETER.split(self.path)
        # Literal text between parameters, each parameter one segment (FastAPI's `str` default).
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
        return re.compile(regex)


class DirectRoutes:
    """Pure ASGI middleware: answers `routes` for GET itself, passes the rest to the app.

    Added with `app.add_middleware(DirectRoutes, routes=…, answer=…)`, so that it runs inside
    the app's server-error handling and the app stays a `FastAPI` (lifespan, OpenAPI).
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[DirectRoute], answer: Envelope) -> None:
        self.app = app
        self._routes = [(route.pattern(), route.answer) for route in routes]
        self._answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            for pattern, answer in self._routes:
                match = pattern.fullmatch(path)
                if match is not None:
                    try:
                        response = answer(**match.groupdict())
                    except EnvelopeError as error:
                        response = error_response(self._answer, error)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
