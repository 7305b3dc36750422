"""Failed logins are throttled per client id from one address and, separately, per address of
one instance (issues 7 and 15); the bus's own clients are never locked out.

Each test calls the token endpoint from chosen addresses (the ASGI `client` of the request),
so that one limit is hit while the other is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI

from lgsp.auth.federation import federation_secret
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
    assert throttled.json()["error"] == "invalid_request"
    assert int(throttled.headers["retry-after"]) > 0
    assert elsewhere.status_code == 200


async def test_a_client_failing_from_one_address_is_throttled_there_only(
    from_address: From,
) -> None:
    """Per client and address, not per client alone: anyone naming a victim's id with wrong
    secrets would otherwise lock the victim out (issue 15, SECURITY-PROBE F6)."""
    async with from_address("192.0.2.1") as attacker, from_address("192.0.2.200") as victim:
        for _ in range(MAX_FAILURES):
            failed = await attacker.post(f"{KG}/token", data=GRANT, auth=("demo", "guess"))
            assert failed.status_code == 401

        throttled = await attacker.post(f"{KG}/token", data=GRANT, auth=DEMO)
        other_client = await attacker.post(f"{KG}/token", data=GRANT, auth=("nobody", "x"))
        elsewhere = await victim.post(f"{KG}/token", data=GRANT, auth=DEMO)

    assert throttled.status_code == 429
    assert throttled.json()["error"] == "invalid_request"
    assert other_client.status_code == 401  # another id from that address is not throttled
    assert elsewhere.status_code == 200


async def test_an_address_failing_at_one_instance_is_not_throttled_at_another(
    from_address: From,
) -> None:
    async with from_address("203.0.113.8") as guesser:
        for attempt in range(MAX_FAILURES * ADDRESS_FACTOR):
            failed = await guesser.post(
                "/lgsp/tiengiang/token", data=GRANT, auth=(f"x{attempt}", "wrong")
            )
            assert failed.status_code == 401

        there = await guesser.post("/lgsp/tiengiang/token", data=GRANT, auth=DEMO)
        here = await guesser.post(f"{KG}/token", data=GRANT, auth=DEMO)

    assert there.status_code == 429
    assert here.status_code == 200


@pytest.mark.parametrize(
    ("base", "client_id"),
    [
        pytest.param(KG, "system-dvc", id="system-client"),
        pytest.param("/ndxp", "lgsp-kiengiang", id="province-at-ndxp"),
        pytest.param(KG, "ndxp", id="ndxp-at-a-province"),
    ],
)
async def test_the_bus_s_own_clients_are_never_locked_out(
    from_address: From, settings: Settings, base: str, client_id: str
) -> None:
    """In-process calls come from 127.0.0.1, as an attacker on the same machine does: failures
    naming a system or federation client, or any client, never lock those out."""
    instance = base.rsplit("/", 1)[-1]
    secret = federation_secret(
        settings.federation_secret.get_secret_value(), instance=instance, client_id=client_id
    )
    async with from_address("127.0.0.1") as local:
        names = [client_id] * MAX_FAILURES + [f"x{n}" for n in range(MAX_FAILURES * ADDRESS_FACTOR)]
        for named in names:  # the client's own limit, then the address's
            failed = await local.post(f"{base}/token", data=GRANT, auth=(named, "wrong"))
            assert failed.status_code in (401, 429)

        locked = await local.post(f"{base}/token", data=GRANT, auth=DEMO)
        system = await local.post(f"{base}/token", data=GRANT, auth=(client_id, secret))

    assert locked.status_code == 429  # the address is throttled for tenants
    assert system.status_code == 200, system.text


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
    assert throttled.json()["error"] == "invalid_request"


async def test_a_client_known_at_a_shared_address_is_not_locked_out_by_others_there(
    from_address: From,
) -> None:
    """Many users behind one address (a NAT, 127.0.0.1) locked each other out once someone
    there failed often enough (SECURITY-PROBE F6, shared addresses). A client that has
    authenticated from the address keeps its own limit there; strangers still meet the
    address's."""
    async with from_address("203.0.113.77") as shared:
        known = await shared.post(f"{KG}/token", data=GRANT, auth=DEMO)
        for attempt in range(MAX_FAILURES * ADDRESS_FACTOR):
            failed = await shared.post(f"{KG}/token", data=GRANT, auth=(f"g{attempt}", "x"))
            assert failed.status_code == 401

        stranger = await shared.post(f"{KG}/token", data=GRANT, auth=("someone-new", "x"))
        still_known = await shared.post(f"{KG}/token", data=GRANT, auth=DEMO)
        guesses = [  # guesses at the known client meet its own limit
            await shared.post(f"{KG}/token", data=GRANT, auth=("demo", "guess"))
            for _ in range(MAX_FAILURES)
        ]
        guessing_on = await shared.post(f"{KG}/token", data=GRANT, auth=DEMO)

    assert known.status_code == 200
    assert stranger.status_code == 429
    assert still_known.status_code == 200, still_known.text
    assert [guess.status_code for guess in guesses] == [401] * MAX_FAILURES
    assert guessing_on.status_code == 429
