"""What `lgsp serve` serves while the bus is being built (issue 20 item 8): bind, answer, build.

Most of a start is importing and building the bus (FastAPI, SQLAlchemy, httpx, the gateway's
routers) and opening it (its database, keys and clients). `lgsp serve` does not wait for that
to listen: uvicorn serves `StartingApp` on the bound socket as soon as uvicorn itself is
imported, and the bus is imported and built in a thread meanwhile, then opened on the event
loop. Until it is open:

- `GET /healthz` answers 200 at once: liveness, the process is up and serving;
- `GET /readyz` answers 503 (`"starting"`): readiness is the bus's own check once it is open;
- every other request is held until the bus is open and then served by it, as if it had come
  then; held longer than `LGSP_STARTUP_HOLD_SECONDS`, it is answered 503 `STARTING` with a
  `Retry-After`. A bus that fails to open answers them 503 `NOT_STARTED` and the command exits 1.

Once open, every request (`/healthz` too) goes to the bus, whose lifespan state this app puts in
the server's, so that each request's `scope["state"]` is the bus's; and the bus takes this app's
place in what uvicorn calls (`served_by`), so a request no longer passes through it. This module
imports nothing of the bus's frameworks: it is what stands between the socket and them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from starlette.types import Receive, Scope, Send
    from uvicorn.config import Config

    from lgsp.errors import LgspError

logger = logging.getLogger(__name__)

LIVE = json.dumps({"status": "ok"}).encode()
STARTING = json.dumps({"status": "starting", "checks": {"started": False}}).encode()


class StartingApp:
    """The ASGI app uvicorn serves from its first turn: see the module's docstring.

    `build` runs in a thread (imports and `create_bus`: the event loop keeps answering) and
    returns the bus, whose lifespan is then run on the loop. `on_open` is called once the bus
    is open; `on_failed` once it has failed to open (the command stops the server).
    """

    def __init__(
        self,
        build: Callable[[], FastAPI],
        *,
        hold_seconds: float,
        on_open: Callable[[], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._build = build
        self._hold_seconds = hold_seconds
        self._on_open = on_open
        self._on_failed = on_failed
        self._app: FastAPI | None = None
        self._opened: asyncio.Future[FastAPI] | None = None
        self._stop: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._state: dict[str, Any] = {}
        self._config: Config | None = None
        self.failure: BaseException | None = None
        """Why the bus did not open, once it has failed to."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = self._app
        if app is not None:
            await app(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
        elif (
            scope["type"] == "http"
            and scope["method"] in ("GET", "HEAD")
            and scope["path"]
            in (
                "/healthz",
                "/readyz",
            )
        ):
            live = scope["path"] == "/healthz"
            await _answer(send, 200 if live else 503, LIVE if live else STARTING)
        else:
            await self._held(scope, receive, send)

    def served_by(self, config: Config) -> None:
        """The uvicorn configuration that serves this app: the bus takes this app's place in
        it once open (`_step_aside`)."""
        self._config = config

    def _step_aside(self, app: FastAPI) -> None:
        """Put the open bus where this app stands in the app uvicorn calls (inside its proxy
        header middleware), for every connection: a request then makes one call fewer on its
        way to the bus (issue 21). A connection that holds this app itself (no middleware of
        uvicorn's around it) still reaches the bus through `__call__`."""
        config = self._config
        layer = None if config is None else getattr(config, "loaded_app", None)
        if layer is self and config is not None:
            config.loaded_app = app
            return
        while layer is not None:
            inner = getattr(layer, "app", None)
            if inner is self:
                layer.app = app
                return
            layer = inner

    async def _held(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request that came before the bus is open: served by it once it is."""
        opened = self._opened
        if opened is None:
            raise RuntimeError("lgsp serve: a request came before the server's lifespan")
        try:
            async with asyncio.timeout(self._hold_seconds):
                app = await asyncio.shield(opened)
        except TimeoutError:
            from lgsp.errors import BusStarting

            starting = BusStarting(
                f"The bus is still starting after {self._hold_seconds:g} s "
                "(LGSP_STARTUP_HOLD_SECONDS); try again shortly."
            )
            await _problem(send, starting, retry_after=True)
            return
        except Exception:  # it failed to open: said once, in the log, by `_open`
            from lgsp.errors import BusNotStarted

            failed = BusNotStarted("The bus failed to start; the server's log says why.")
            await _problem(send, failed, retry_after=False)
            return
        # uvicorn gave this request the lifespan state it had when it came: none of the bus's
        await app({**scope, "state": {**scope.get("state", {}), **self._state}}, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """uvicorn's lifespan: started at once (the bus opens in a task), stopped with the bus."""
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        loop = asyncio.get_running_loop()
        self._opened = loop.create_future()
        self._stop = asyncio.Event()
        self._task = loop.create_task(self._open(scope["state"]), name="open the bus")
        await send({"type": "lifespan.startup.complete"})
        message = await receive()  # lifespan.shutdown
        self._stop.set()
        await asyncio.gather(self._task, return_exceptions=True)
        await send({"type": "lifespan.shutdown.complete"})

    async def _open(self, state: dict[str, Any]) -> None:
        """Build the bus in a thread, run its lifespan here until the server stops."""
        opened, stop = self._opened, self._stop
        if opened is None or stop is None:
            raise RuntimeError("lgsp serve: the bus opened outside the server's lifespan")
        try:
            app = await _in_thread(self._build, stop)
            if app is None:  # stopped while it was being built
                opened.cancel()
                return
            async with app.router.lifespan_context(app) as opened_state:
                self._state = dict(opened_state or {})
                state.update(self._state)  # the server's: each request's scope["state"] from now
                self._app = app
                self._step_aside(app)
                opened.set_result(app)
                if self._on_open is not None:
                    self._on_open()
                await stop.wait()
        except Exception as error:
            logger.exception("the bus failed to start")
            self.failure = error
            if not opened.done():
                opened.set_exception(error)
                opened.exception()  # retrieved here: the held requests say it in their own way
            if self._on_failed is not None:
                self._on_failed(error)


async def _in_thread(build: Callable[[], FastAPI], stop: asyncio.Event) -> FastAPI | None:
    """`build()` in a thread of its own (a daemon: a stop during the build does not wait for
    it); None if `stop` is set first."""
    loop = asyncio.get_running_loop()
    built: asyncio.Future[FastAPI] = loop.create_future()

    def run() -> None:
        app: FastAPI | None = None
        failure: BaseException | None = None
        try:
            app = build()
        except BaseException as error:  # handed to the loop, raised there
            failure = error
        try:
            loop.call_soon_threadsafe(_settle, built, app, failure)
        except RuntimeError:  # the loop is closed: the server stopped during the build
            pass

    threading.Thread(target=run, name="build the bus", daemon=True).start()
    stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((built, stopping), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    return built.result() if built.done() else None


def _settle(
    future: asyncio.Future[FastAPI], app: FastAPI | None, error: BaseException | None
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif app is not None:
        future.set_result(app)


async def _answer(
    send: Callable[[dict[str, Any]], Awaitable[None]], status: int, body: bytes
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _problem(
    send: Callable[[dict[str, Any]], Awaitable[None]], error: LgspError, *, retry_after: bool
) -> None:
    """The bus's problem document (RFC 9457), as its server protocol sends one."""
    from lgsp.errors import problem_body, problem_head

    body = problem_body(error, instance="")
    head = [(b"cache-control", b"no-store"), *problem_head(body)]
    if retry_after:  # the bus may be open by then
        head.append((b"retry-after", b"1"))
    await send({"type": "http.response.start", "status": error.status, "headers": head})
    await send({"type": "http.response.body", "body": body})
