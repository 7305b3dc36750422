"""Plain GET routes in front of a mock's FastAPI app, for the lookups integrators load-test.

FastAPI's routing, dependency solving and exception middleware cost a citizen lookup more than
the lookup itself (issue 21's profile: a sixth of the gateway hop's CPU went to the in-process
mock's FastAPI stack). A mock lists its hottest GET routes here with a plain function that the
FastAPI route calls too, so both answer the same bytes; every other request, and the OpenAPI
document, stay FastAPI's. Errors the function raises are answered in the mock's envelope, as
its FastAPI error handlers would.

The same routes are offered twice: over ASGI (`DirectRoutes`, in front of FastAPI, for a mock
under uvicorn or any ASGI client), and as one plain function of the method and path
(`DirectAnswers`, found with `direct_answers`), which the bus calls when it runs the mock in
its own process: no ASGI scope, no messages, no `Response` object for an answer that is bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mocks.envelope import Envelope, EnvelopeError, error_response

JSON = "application/json"


class DirectAnswer(NamedTuple):
    """A route function's answer: what the bus keeps of an answer (status, body, media type);
    `headers` are the extra ones an error carries (`Allow`), sent over ASGI; `document` the
    JSON value `body` renders, for a caller in this process that would otherwise parse `body`
    again (None: not at hand)."""

    status: int
    body: bytes
    media_type: str = JSON
    headers: dict[str, str] | None = None
    document: Any = None

    def response(self) -> Response:
        """As FastAPI would send it: the body, its length and its media type."""
        return Response(self.body, self.status, self.headers, media_type=self.media_type)


def json_answer(content: Any, status: int = 200) -> DirectAnswer:
    """`content` rendered byte for byte as Starlette's `JSONResponse` renders it (compact, UTF-8,
    no `\\u` escapes), by orjson at a fraction of the stdlib's time; what orjson refuses
    (integers past 64 bits, keys that are not strings) is rendered by `JSONResponse` itself.
    A mock's records hold no float, so orjson's one difference (NaN written `null`) never shows.

    `content` rides along as the answer's `document` when orjson rendered it: built of dicts,
    lists, strings, whole numbers, booleans and None, as a mock's answers are, it is what the
    body parses back to. The caller must not change it.
    """
    try:  # positional: a named tuple's keywords cost a third of the answer's making
        return DirectAnswer(status, orjson.dumps(content), JSON, None, content)
    except TypeError:
        return DirectAnswer(status, bytes(JSONResponse(content).body))


@dataclass(frozen=True)
class DirectRoute:
    """`path` as FastAPI writes it, literal text then one parameter to its end
    (`/api/congdan/{so_dinh_danh}`), and the function answering it, called with the parameter.

    No other shape is taken: the lookups are all of this one, and a prefix test costs a fifth
    of a regex's match and its dict of groups (issue 21)."""

    path: str
    answer: Callable[[str], DirectAnswer]

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[^{}]*\{\w+\}", self.path):
            raise ValueError(f"not a literal prefix and one last parameter: {self.path}")

    @property
    def prefix(self) -> str:
        return self.path[: self.path.index("{")]


class DirectAnswers:
    """`routes` as one plain function: `answers(method, path)` is the answer of the route the
    path matches, an `EnvelopeError` answered in `envelope`; None for any other request (the
    FastAPI app's to answer). Nothing of the request but its method and path is read."""

    def __init__(self, routes: Sequence[DirectRoute], envelope: Envelope) -> None:
        self._routes = [(route.prefix, route.answer) for route in routes]
        self._envelope = envelope

    def __call__(self, method: str, path: str) -> DirectAnswer | None:
        if method != "GET":
            return None
        for prefix, answer in self._routes:
            # The parameter is one segment, not empty (FastAPI's `str` convertor: [^/]+).
            if path.startswith(prefix) and (value := path[len(prefix) :]) and "/" not in value:
                try:
                    return answer(value)
                except EnvelopeError as error:
                    refusal = error_response(self._envelope, error)
                    return DirectAnswer(
                        refusal.status_code, bytes(refusal.body), JSON, error.headers or None
                    )
        return None


class DirectRoutes:
    """Pure ASGI middleware: answers what `answers` answers itself, passes the rest to the app.

    Added with `app.add_middleware(DirectRoutes, answers=…)`, so that it runs inside the app's
    server-error handling and the app stays a `FastAPI` (lifespan, OpenAPI).
    """

    def __init__(self, app: ASGIApp, *, answers: DirectAnswers) -> None:
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            answer = self.answers(scope["method"], path)
            if answer is not None:
                await answer.response()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def direct_answers(app: Starlette) -> DirectAnswers | None:
    """The plain function of `app`'s direct routes, for a caller in the same process: only when
    `DirectRoutes` is the app's outermost middleware, so that nothing the app would do before
    it is skipped."""
    if not app.user_middleware:
        return None
    outermost = app.user_middleware[0]
    kind: object = outermost.cls
    answers = outermost.kwargs.get("answers")
    return answers if kind is DirectRoutes and isinstance(answers, DirectAnswers) else None
