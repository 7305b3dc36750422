"""`kit.head`: HEAD served as GET, and the `Allow` of a 405 naming HEAD beside GET."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from kit.head import HeadAsGet, allow_header_with_head, allowed_with_head

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("methods", "allowed"),
    [
        (["GET"], ["GET", "HEAD"]),
        (["GET", "POST"], ["GET", "HEAD", "POST"]),
        (["POST"], ["POST"]),  # no GET: no HEAD either
        (["GET", "HEAD"], ["GET", "HEAD"]),  # named once
        ([], []),
    ],
)
def test_head_is_allowed_beside_get_alone(methods: list[str], allowed: list[str]) -> None:
    assert allowed_with_head(methods) == allowed
    assert allow_header_with_head(", ".join(methods)) == ", ".join(allowed)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items")
    async def items() -> PlainTextResponse:
        return PlainTextResponse("three items")

    @app.post("/orders")
    async def order() -> PlainTextResponse:
        return PlainTextResponse("ordered")

    return app


async def test_a_head_is_answered_as_the_get_without_content() -> None:
    transport = httpx.ASGITransport(app=HeadAsGet(_app()))
    async with httpx.AsyncClient(transport=transport, base_url="http://system.test") as http:
        got = await http.get("/items")
        head = await http.head("/items")
        refused = await http.head("/orders")

    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["content-length"] == str(len(got.content)) == "11"
    assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
