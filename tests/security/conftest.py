"""What an attacker might hold: a token without the admin scope, a client that sends paths
exactly as written."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message

from lgsp.admin_tasks import create_client
from lgsp.dialects.exchange import body_once
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.bus import fetch_token


@pytest.fixture
async def vendor_token(client: httpx.AsyncClient, settings: Settings, bus: BusState) -> str:
    """A token of an ordinary Kiên Giang client: every service, every method, but no admin."""
    created = await create_client(
        settings,
        instance="kiengiang",
        name="vendor",
        services=[service.id for service in bus.catalog],
        is_admin=False,
    )
    return await fetch_token(client, client_id=created.client_id, secret=created.client_secret)


@pytest.fixture
async def narrowed_admin_token(client: httpx.AsyncClient) -> str:
    """A token of the admin demo client that asked for fewer scopes than it has: not `admin`."""
    return await fetch_token(client, scope="dancu")


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


RawRequest = Callable[..., Awaitable[RawAnswer]]


@pytest.fixture
def raw_request(app: FastAPI) -> RawRequest:
    """Sends a path exactly as written: httpx would resolve `..` before sending it (RFC 3986
    §5.2.4), as most clients do, but an attacker's client need not. The path is decoded as
    uvicorn decodes it."""

    async def send_raw(
        method: str, raw_path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> RawAnswer:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": unquote(raw_path),
            "raw_path": raw_path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"lgsp.test")]
            + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
            "client": ("127.0.0.1", 40000),
            "server": ("lgsp.test", 80),
        }
        started: dict[str, Any] = {}
        chunks: list[bytes] = []
        receive = body_once(body)

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, send)
        headers_out = {k.decode().lower(): v.decode() for k, v in started["headers"]}
        return RawAnswer(started["status"], headers_out, b"".join(chunks))

    return send_raw
