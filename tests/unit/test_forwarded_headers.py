"""Who the client is: the connection's address, unless it comes from a proxy the operator named
(`LGSP_FORWARDED_ALLOW_IPS`). uvicorn's default trusts 127.0.0.1's `X-Forwarded-For`, so any
local process could name itself any address and slip the per-address login limit."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from lgsp.server import proxy_options, server_options
from lgsp.settings import Settings
from tests.fixtures.protocol import serve_one

FORWARDED = (
    b"GET / HTTP/1.1\r\nHost: x\r\n"
    b"X-Forwarded-For: 198.51.100.7\r\nX-Forwarded-Proto: https\r\n\r\n"
)


def seen_client(**settings: Any) -> tuple[str, str]:
    """The client address and scheme the app sees of a forwarded request from 127.0.0.1."""
    seen: list[tuple[str, str]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((scope["client"][0], scope["scheme"]))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    options = proxy_options(Settings(_env_file=None, **settings))  # type: ignore[call-arg]
    asyncio.run(serve_one(app, FORWARDED, **options))
    return seen[0]


def test_a_forwarded_for_header_names_no_client_by_default() -> None:
    assert seen_client() == ("127.0.0.1", "http")


@pytest.mark.parametrize("allowed", ["127.0.0.1", "10.0.0.5, 127.0.0.1", "127.0.0.0/8", "*"])
def test_a_named_proxy_s_forwarded_for_names_the_client(allowed: str) -> None:
    assert seen_client(forwarded_allow_ips=allowed) == ("198.51.100.7", "https")


def test_a_proxy_not_named_is_not_believed() -> None:
    assert seen_client(forwarded_allow_ips="10.0.0.5") == ("127.0.0.1", "http")


def test_lgsp_serve_takes_the_same_options() -> None:
    settings = Settings(_env_file=None, forwarded_allow_ips="10.0.0.5")  # type: ignore[call-arg]

    options = server_options(settings)

    assert (options["proxy_headers"], options["forwarded_allow_ips"]) == (True, "10.0.0.5")
    assert server_options(Settings(_env_file=None))["proxy_headers"] is False  # type: ignore[call-arg]
