"""Failed logins are throttled per client id and, separately, per address (issue 7).

Each test calls the token endpoint from chosen addresses (the ASGI `client` of the request),
so that one limit is hit while the other is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from lgsp.auth.login_limiter import ADDRESS_FACTOR
from lgsp.settings import Settings
from tests.fixtures.bus import KG, TEST_PUBLIC_URL

pytestmark = pytest.mark.anyio

MAX_FAILURES = 2
GRANT = {"grant_type": "client_credentials"}
DEMO = ("demo", "lgsp-demo-secret")

From = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small limit, so that the address's limit (×ADDRESS_FACTOR) is cheap to reach."""
    return settings.model_copy(update={"login_max_failures": MAX_FAILURES})


@pytest.fixture(name="from_address")
def fx_from_address(app: FastAPI) -> From:
    @asynccontextmanager
    async def from_address(address: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
            yield http

    return from_address


async def test_one_address_failing_as_many_clients_is_throttled_for_every_client(
    from_address: From,
) -> None:
    async with from_address("203.0.113.7") as guesser, from_address("198.51.100.9") as other:
        # Each id fails once: no client reaches its own limit, the address reaches its.
        for attempt in range(MAX_FAILURES * ADDRESS_FACTOR):
            failed = await guesser.post(f"{KG}/token", data=GRANT, auth=(f"guess{attempt}", "x"))
            assert failed.status_code == 401

        throttled = await guesser.post(f"{KG}/token", data=GRANT, auth=DEMO)
        elsewhere = await other.post(f"{KG}/token", data=GRANT, auth=DEMO)

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_attempts"
    assert int(throttled.headers["retry-after"]) > 0
    assert elsewhere.status_code == 200


async def test_one_client_failing_from_many_addresses_is_throttled_from_every_address(
    from_address: From,
) -> None:
    for attempt in range(MAX_FAILURES):
        async with from_address(f"192.0.2.{attempt + 1}") as guesser:
            failed = await guesser.post(f"{KG}/token", data=GRANT, auth=("demo", "guess"))
            assert failed.status_code == 401

    async with from_address("192.0.2.200") as fresh:
        throttled = await fresh.post(f"{KG}/token", data=GRANT, auth=DEMO)
        other_client = await fresh.post(f"{KG}/token", data=GRANT, auth=("nobody", "x"))

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_attempts"
    assert other_client.status_code == 401  # another id from that address is not throttled


async def test_revocation_requests_count_and_are_throttled_like_token_requests(
    from_address: From,
) -> None:
    """RFC 7009's endpoint authenticates the client too: it must not be a free oracle."""
    async with from_address("203.0.113.50") as guesser:
        for _ in range(MAX_FAILURES):
            failed = await guesser.post(
                f"{KG}/token/revoke", data={"token": "x"}, auth=("demo", "guess")
            )
            assert failed.status_code == 401

        throttled = await guesser.post(f"{KG}/token/revoke", data={"token": "x"}, auth=DEMO)

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "too_many_attempts"
