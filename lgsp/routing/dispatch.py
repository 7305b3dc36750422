"""Service calls straight to their instance, routed once and without dependency injection.

The root app mounts one FastAPI app per instance (`lgsp.app`). A call to
`{base}/{service}/{version}/{path}` through them passes two routers (the invocation route is
the last of some forty, so every other pattern is tried first), two stacks of FastAPI
middleware and FastAPI's dependency solving: more CPU than the gateway's own work on the call.
`InvocationDispatch` sits innermost in the root app's middleware, inside the request-id and
guard middleware (so all they do still applies), picks such calls out with one regular
expression, and hands them to a lean ASGI app per instance: the same handler, the same
error handlers (taken from the instance's FastAPI app), inside the same `AuditRecorder`.

Everything else goes through the mounts as before — other paths, a first segment that is no
service of the catalog (the 404 is the FastAPI route's), a method the route does not take —
so the FastAPI apps still answer, and document, every path.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.convertors import PathConvertor, StringConvertor
from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute, Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lgsp.audit.context import AUDIT_SCOPE_KEY, AuditContext
from lgsp.audit.recorder import AuditRecorder
from lgsp.deps import authenticate
from lgsp.routing.router import ANSWERED_METHODS, INVOCATION_PATH, SentHeaders, invoke
from lgsp.state import bus_state_from_scope

_METHODS = frozenset(ANSWERED_METHODS)
MATCHED_SCOPE_KEY = "lgsp.invocation"
"""The path the dispatch matched and its parameters, for the lean app not to match it again.
Only for that path (the same string): a door's scope, copied from the one it was given, names
another path, and the lean app matches that itself (the path parameters once handed on in
`path_params` alone made every dialect call a 500, 978d4b9)."""

ErrorHandler = Callable[[Request, Exception], Response | Awaitable[Response]]
_SEND_START_FIRST = Response.__call__
"""Starlette's plain answer (`JSONResponse` and the like), sent without the wrapper that tells
whether an answer has begun: its first act is to send the start (issue 21)."""


class InvocationDispatch:
    """Pure ASGI middleware of the root app: `gateways` maps each mount path to its lean app."""

    def __init__(
        self, app: ASGIApp, *, gateways: Mapping[str, ASGIApp], reserved: Iterable[str]
    ) -> None:
        self.app = app
        self._gateways = dict(gateways)
        self._reserved = frozenset(reserved)
        bases = "|".join(re.escape(base) for base in sorted(self._gateways, key=len, reverse=True))
        # The mount path, then the route's own pattern as Starlette compiles it: matched once
        # here, its groups handed to the lean app with the path they are of (issue 21).
        route = compile_path(INVOCATION_PATH)[0].pattern.removeprefix("^")
        self._pattern = re.compile(f"^({bases}){route}") if bases else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _METHODS and self._pattern is not None:
            root_path: str = scope.get("root_path", "")
            path: str = scope["path"]
            match = self._pattern.match(_route_path(path, root_path))
            if match is not None and self._is_service(scope, match.group(2)):
                base = match.group(1)
                scope[MATCHED_SCOPE_KEY] = (path, match.groupdict())
                # What `starlette.routing.Mount` puts in the scope of the app it mounts.
                scope["app_root_path"] = scope.get("app_root_path", root_path)
                scope["root_path"] = root_path + base
                await self._gateways[base](scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _is_service(self, scope: Scope, service_id: str) -> bool:
        if service_id in self._reserved:
            return False
        return bus_state_from_scope(scope).catalog.serves(service_id)


def _route_path(path: str, root_path: str) -> str:
    """The path below the server's root path, as Starlette's routers match it."""
    if (
        root_path
        and path.startswith(root_path)
        and path[len(root_path) : len(root_path) + 1] in ("/", "")
    ):
        return path[len(root_path) :]
    return path


class HopRequest(Request):
    """Starlette's request, with its body read by a plain loop over `receive`.

    `Request.body` collects the body through `Request.stream`, an async generator: the event
    loop registers each one in a weak set and `aclosing` finalises it, more CPU than reading a
    GET's empty body (issue 21). The same messages are read, and a disconnect raises the same
    `ClientDisconnect`; `stream`, `json` and `form` read the body read here.
    """

    _read: bytes | None = None

    async def body(self) -> bytes:
        if self._read is None:
            chunks = []
            more = True
            while more:
                message = await self.receive()
                if message["type"] == "http.request":
                    chunks.append(message.get("body", b""))
                    more = message.get("more_body", False)
                elif message["type"] == "http.disconnect":
                    raise ClientDisconnect
            self._read = b"".join(chunks)
        return self._read

    async def stream(self) -> AsyncGenerator[bytes, None]:
        yield await self.body()
        yield b""


def lean_gateway(gateway: FastAPI, *, instance: str) -> ASGIApp:
    """The invocation route of `gateway` alone, with its error handlers and audit recorder.

    A plain ASGI callable rather than a Starlette app: the route's path is matched once here,
    and errors go to the instance's own handlers as Starlette's two error middlewares would
    send them — a handled error is the answer; anything else (a handler failing too) is
    answered 500 by the handler for `Exception`, unless an answer has begun, and raised again,
    for the server to log.
    """
    pattern, _, convertors = compile_path(INVOCATION_PATH)
    handlers = {
        kind: handler
        for kind, handler in gateway.exception_handlers.items()
        if isinstance(kind, type) and kind is not Exception
    }
    server_error = gateway.exception_handlers[Exception]

    # `{service_id}`, `{version}` and `{path:path}` convert to themselves: no call per call.
    converted = not all(type(convertor) in _AS_IS for convertor in convertors.values())

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        handed = scope.get(MATCHED_SCOPE_KEY)
        if handed is not None and handed[0] is path:  # the dispatch's match of this very path
            params: dict[str, str] = handed[1]
        else:  # a dialect's door, which calls with a scope of its own making
            match = pattern.match(_route_path(path, scope.get("root_path", "")))
            if match is None:
                raise RuntimeError(f"{path!r} is no invocation path")
            params = match.groupdict()
        if converted:  # pragma: no cover - the invocation path's convertors are as-is
            params = {name: convertors[name].convert(value) for name, value in params.items()}
        scope["path_params"] = params
        request = HopRequest(scope, receive)
        # Built only for an answer that may fail after its start (a stream): none per call.
        tracked: _TrackedSend | None = None
        plain = False
        try:
            try:
                # The route's dependencies, read directly: no coroutine for each (issue 21).
                audit = scope.get(AUDIT_SCOPE_KEY)
                if not isinstance(audit, AuditContext):  # pragma: no cover - wrapped below
                    raise RuntimeError("instance apps must be wrapped in AuditRecorder")
                bus = bus_state_from_scope(scope)
                served = bus.instances[instance]
                sent = SentHeaders(request)
                # An absent field is "" here: None would have `authenticate` look for it again.
                caller = await authenticate(request, bus, served, audit, sent.authorization or "")
                response = await invoke(
                    params["service_id"],
                    params["version"],
                    params["path"],
                    request,
                    sent,
                    caller,
                    bus,
                    served,
                    audit,
                )
            except Exception as error:
                handler = next(
                    (handlers[kind] for kind in type(error).__mro__ if kind in handlers), None
                )
                if handler is None:
                    raise
                response = await _rendered(handler, request, error)
            if type(response).__call__ is _SEND_START_FIRST:
                plain = True  # its first act is to send the start: it fails after, if at all
                await response(scope, receive, send)
            else:
                tracked = _TrackedSend(send)
                await response(scope, receive, tracked)
        except Exception as error:  # a bug, in the route or in a handler
            if not (plain or (tracked is not None and tracked.started)):
                await (await _rendered(server_error, request, error))(scope, receive, send)
            raise

    return AuditRecorder(app, instance=instance)


_AS_IS = (StringConvertor, PathConvertor)
"""Starlette's convertors whose `convert` gives back the text it is given."""


class _TrackedSend:
    """`send`, noting whether the answer has begun (an error after that cannot be answered)."""

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = self.started or message["type"] == "http.response.start"
        await self._send(message)


async def _rendered(handler: ErrorHandler, request: Request, error: Exception) -> Response:
    """A handler's answer; Starlette lets handlers be plain functions too."""
    answer = handler(request, error)
    return await answer if inspect.isawaitable(answer) else answer


def first_segments(routes: Iterable[BaseRoute]) -> set[str]:
    """The literal first path segments of `routes`: names the dispatch leaves to FastAPI."""
    found = set()
    for route in routes:
        path = route.path if isinstance(route, Route) else None
        if path and path != INVOCATION_PATH:
            found.add(path.lstrip("/").split("/", 1)[0])
    return found
