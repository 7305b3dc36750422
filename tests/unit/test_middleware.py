"""The pure ASGI middleware: body limits with and without Content-Length, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from lgsp.app import create_app
from lgsp.errors import install_error_handlers
from lgsp.middleware import EntryMiddleware
from lgsp.routing.dispatch import InvocationDispatch
from lgsp.settings import Settings

pytestmark = pytest.mark.anyio


async def read_body(request: Request) -> JSONResponse:
    return JSONResponse({"size": len(await request.body())})


def app(max_bytes: int) -> httpx.AsyncClient:
    inner = FastAPI()
    install_error_handlers(inner)
    inner.router.routes.append(Route("/", read_body, methods=["POST"]))
    inner.add_middleware(EntryMiddleware, max_bytes=max_bytes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=inner), base_url="http://t")


async def chunks(total: int, size: int = 1000) -> AsyncIterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"x" * 5000, 200), (b"x" * 5001, 413)],
)
async def test_declared_body_over_the_limit_is_refused(content: bytes, status: int) -> None:
    async with app(5000) as client:
        response = await client.post("/", content=content)

    assert response.status_code == status


async def test_streamed_body_without_length_is_cut_off_at_the_limit() -> None:
    async with app(5000) as client:
        small = await client.post("/", content=chunks(4000))
        large = await client.post("/", content=chunks(9000))

    assert small.json() == {"size": 4000}
    assert large.status_code == 413
    assert large.json()["code"] == "REQUEST_TOO_LARGE"
    assert large.headers["x-request-id"] == large.json()["request_id"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [("abc-123", True), ("a" * 129, False), ("bad id", False), ("x\u00e9", False)],
)
async def test_only_sane_request_ids_are_kept(given: str, kept: bool) -> None:
    async with app(5000) as client:
        response = await client.post("/", content=b"", headers={"X-Request-ID": given.encode()})

    assert (response.headers["x-request-id"] == given) is kept


async def test_made_request_ids_are_unique_32_hex_digits() -> None:
    async with app(5000) as client:
        ids = [(await client.post("/", content=b"")).headers["x-request-id"] for _ in range(50)]

    assert len(set(ids)) == 50
    assert all(len(each) == 32 and int(each, 16) >= 0 for each in ids)


async def test_an_error_no_handler_takes_is_answered_500_with_the_request_id(
    tmp_path: Path,
) -> None:
    """The bus's own middleware sits outside the server-error layer (`lgsp.app.BusApp`): the
    500 of an unforeseen error names the call's request id, in its header and in its body."""
    bus = create_app(Settings(data_dir=tmp_path))

    async def failing() -> None:
        raise RuntimeError("an unforeseen failure")

    bus.add_api_route("/failing", failing)
    transport = httpx.ASGITransport(app=bus, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/failing", headers={"X-Request-ID": "trace-500"})

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "trace-500"
    assert response.json()["request_id"] == "trace-500"


def test_a_service_call_meets_the_bus_middleware_before_any_framework_layer(
    tmp_path: Path,
) -> None:
    """Request id and guard (one layer), then the invocation dispatch come first; Starlette's
    server-error layer only behind them, for the routes the dispatch leaves to the apps
    (issue 21)."""
    layers = []
    layer: object = create_app(Settings(data_dir=tmp_path)).build_middleware_stack()
    while layer is not None and len(layers) < 10:
        layers.append(type(layer))
        layer = getattr(layer, "app", None)

    assert layers[:3] == [
        EntryMiddleware,
        InvocationDispatch,
        ServerErrorMiddleware,
    ]


async def test_a_request_enters_the_bus_middleware_without_the_frameworks_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once its stack is built, the bus calls it itself: FastAPI's and Starlette's entries did
    only that for it, in two calls (issue 21). The request still sees the bus as its app."""
    bus = create_app(Settings(data_dir=tmp_path))
    seen: list[object] = []

    async def app_of(request: Request) -> JSONResponse:
        seen.append(request.app)
        return JSONResponse({})

    bus.add_route("/app-of", app_of)
    entered: list[str] = []
    framework_entry = Starlette.__call__

    async def counted(self: Starlette, scope: Scope, receive: Receive, send: Send) -> None:
        entered.append(scope["type"])
        await framework_entry(self, scope, receive, send)

    monkeypatch.setattr(Starlette, "__call__", counted)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=bus), base_url="http://t"
    ) as client:
        first = await client.get("/app-of")  # builds the stack
        second = await client.get("/app-of")

    assert (first.status_code, second.status_code) == (200, 200)
    assert entered == ["http"]
    assert seen == [bus, bus]
