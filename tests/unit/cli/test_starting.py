"""`StartingApp`: what `lgsp serve` serves while the bus is built (issue 20 item 8). `/healthz`
answers at once, `/readyz` is 503 until the bus is open, and any other request is held and then
served by the bus, with its lifespan state."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send
from uvicorn.config import Config

from lgsp.cli._starting import StartingApp
from tests.fixtures.waiting import settle

pytestmark = pytest.mark.anyio


def bus() -> FastAPI:
    """A bus whose lifespan yields a greeting that its one route answers."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, str]]:
        yield {"greeting": "xin chào"}

    app = FastAPI(lifespan=lifespan)

    @app.get("/hello")
    async def hello(request: Request) -> dict[str, str]:
        return {"said": request.state.greeting}

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    return app


def gated(release: threading.Event, build: Callable[[], FastAPI] = bus) -> Callable[[], FastAPI]:
    """`build`, run once `release` is set: a bus still importing until the test says."""

    def waiting() -> FastAPI:
        release.wait()
        return build()

    return waiting


@asynccontextmanager
async def serving(app: StartingApp) -> AsyncIterator[httpx.AsyncClient]:
    """`app` as uvicorn runs it: its lifespan started, and each request given a copy of the
    lifespan state as it stands when the request comes."""
    state: dict[str, Any] = {}
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    lifespan = asyncio.create_task(app(scope, to_app.get, from_app.put))
    await to_app.put({"type": "lifespan.startup"})
    assert (await from_app.get())["type"] == "lifespan.startup.complete"

    async def served(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    try:
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://bus") as client:
            yield client
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await from_app.get())["type"] == "lifespan.shutdown.complete"
        await lifespan


async def test_a_request_before_the_bus_is_open_is_held_and_served_by_it() -> None:
    release = threading.Event()
    opened: list[str] = []
    app = StartingApp(gated(release), hold_seconds=60, on_open=lambda: opened.append("open"))

    async with serving(app) as client:
        live = await client.get("/healthz")
        starting = await client.get("/readyz")
        held = asyncio.create_task(client.get("/hello"))
        await settle()
        waited = not held.done()
        release.set()
        answer = await held
        ready = await client.get("/readyz")

    assert (live.status_code, live.json()) == (200, {"status": "ok"})
    assert (starting.status_code, starting.json()["status"]) == (503, "starting")
    assert waited
    assert (answer.status_code, answer.json()) == (200, {"said": "xin chào"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert opened == ["open"]


async def test_a_request_held_longer_than_the_setting_is_503_starting() -> None:
    release = threading.Event()
    app = StartingApp(gated(release), hold_seconds=0.01)

    try:
        async with serving(app) as client:
            answer = await client.get("/hello")
            release.set()
    finally:
        release.set()

    assert answer.status_code == 503
    assert answer.json()["code"] == "STARTING"
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"


async def test_a_bus_that_fails_to_open_answers_its_held_requests_and_stops_the_server() -> None:
    def broken() -> FastAPI:
        raise RuntimeError("the database is locked")

    release = threading.Event()
    stopped: list[BaseException] = []
    app = StartingApp(gated(release, broken), hold_seconds=60, on_failed=stopped.append)

    async with serving(app) as client:
        held = asyncio.create_task(client.get("/hello"))
        await settle()
        release.set()
        answer = await held

    assert answer.status_code == 503
    assert answer.json()["code"] == "NOT_STARTED"
    assert [str(error) for error in stopped] == ["the database is locked"]
    assert str(app.failure) == "the database is locked"


@pytest.mark.parametrize("proxy_headers", [True, False], ids=["in-uvicorn-middleware", "alone"])
async def test_once_open_the_bus_takes_the_starting_apps_place_in_what_uvicorn_calls(
    proxy_headers: bool,
) -> None:
    """A request to the open bus no longer passes through `StartingApp` (issue 21)."""
    built: list[FastAPI] = []

    def build() -> FastAPI:
        built.append(bus())
        return built[0]

    opened = asyncio.Event()
    app = StartingApp(build, hold_seconds=60, on_open=opened.set)
    config = Config(app, log_config=None, proxy_headers=proxy_headers)
    config.load()
    app.served_by(config)
    before = config.loaded_app

    async with serving(app) as client:
        await asyncio.wait_for(opened.wait(), 30)
        answer = await client.get("/hello")

    served = config.loaded_app.app if proxy_headers else config.loaded_app
    assert served is built[0]
    assert (config.loaded_app is before) is proxy_headers  # the connections' app, changed within
    assert answer.json() == {"said": "xin chào"}
