"""A client secret an operator chose (`LGSP_DEMO_CLIENT_SECRET`: the admin of every instance)
is refused when short and stored with scrypt, not the fast hash kept for the 256-bit secrets
the bus generates (security re-probe: operator-chosen secrets). Rows hashed before still
verify, and the bus hashes them again slowly when it provisions the client."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from lgsp.auth.clients import ensure_client
from lgsp.auth.credentials import (
    MIN_CHOSEN_LENGTH,
    WeakSecret,
    check_chosen_secret,
    hash_chosen_secret,
    hash_secret,
    is_slow_hash,
    secret_matches,
    verify_secret,
)
from lgsp.auth.repository import ClientRepository
from lgsp.settings import DEMO_CLIENT_SECRET, Settings
from lgsp.state import BusState
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, BusPool, provision_again

pytestmark = pytest.mark.anyio

CHOSEN = "an operator's own admin secret"
GRANT = {"grant_type": "client_credentials"}


def test_a_chosen_secret_is_stored_with_scrypt_and_verifies() -> None:
    stored = hash_chosen_secret(CHOSEN)

    assert stored.startswith("scrypt$16384$8$1$")
    assert verify_secret(CHOSEN, stored)
    assert not verify_secret(CHOSEN + "x", stored)


def test_a_hash_written_before_scrypt_still_verifies() -> None:
    """The row format every client had before: `sha256$<salt>$<hmac>`."""
    stored = hash_secret(CHOSEN, salt="00112233445566778899aabbccddeeff")

    assert stored.startswith("sha256$")
    assert verify_secret(CHOSEN, stored)
    assert not is_slow_hash(stored)


async def test_a_scrypt_check_off_the_loop_gives_the_same_answer() -> None:
    stored = hash_chosen_secret("another one, long enough")

    assert await secret_matches("another one, long enough", stored)
    assert not await secret_matches("another one, long enougH", stored)


@pytest.mark.parametrize("secret", ["admin", "x" * (MIN_CHOSEN_LENGTH - 1)])
def test_a_short_chosen_secret_is_refused_with_a_stable_code(secret: str) -> None:
    with pytest.raises(WeakSecret, match="^WEAK_SECRET: ") as refused:
        check_chosen_secret(secret, name="LGSP_DEMO_CLIENT_SECRET")

    assert refused.value.code == "WEAK_SECRET"
    check_chosen_secret("x" * MIN_CHOSEN_LENGTH, name="LGSP_DEMO_CLIENT_SECRET")


def test_the_published_demo_secret_is_long_enough() -> None:
    """The README's demo client keeps working: the bus seeds it, with the fast hash."""
    check_chosen_secret(DEMO_CLIENT_SECRET, name="LGSP_DEMO_CLIENT_SECRET")


async def test_provisioning_refuses_a_weak_chosen_demo_secret(bus: BusState) -> None:
    async with bus.session_factory() as session:
        with pytest.raises(WeakSecret):
            await ensure_client(
                ClientRepository(session),
                instance="kiengiang",
                client_id="demo",
                secret="hunter2",
                name="Demo client",
                rights={},
                is_admin=True,
                chosen=True,
            )


async def _stored_hash(bus: BusState, instance: str = "kiengiang") -> str:
    async with bus.session_factory() as session:
        client = await ClientRepository(session).get(instance, "demo")
    assert client is not None
    return client.secret_hash


async def test_a_chosen_demo_secret_is_hashed_slowly_and_issues_tokens(
    bus_pool: BusPool, settings: Settings
) -> None:
    app, bus = await bus_pool.get(settings, demo_client_secret=SecretStr(CHOSEN))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
        issued = await http.post(f"{KG}/token", data=GRANT, auth=("demo", CHOSEN))
        refused = await http.post(f"{KG}/token", data=GRANT, auth=("demo", CHOSEN[:-1]))

    assert is_slow_hash(await _stored_hash(bus))
    assert issued.status_code == 200, issued.text
    assert refused.status_code == 401


async def test_a_chosen_secret_stored_fast_still_works_and_is_upgraded(
    bus_pool: BusPool, settings: Settings
) -> None:
    """A database from before: the demo row holds `sha256$…` of the operator's secret."""
    app, bus = await bus_pool.get(settings, demo_client_secret=SecretStr(CHOSEN))
    async with bus.session_factory.begin() as session:
        client = await ClientRepository(session).get("kiengiang", "demo")
        assert client is not None
        client.secret_hash = hash_secret(CHOSEN)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
        before = await http.post(f"{KG}/token", data=GRANT, auth=("demo", CHOSEN))

    await provision_again(bus, "kiengiang")

    assert before.status_code == 200, before.text
    upgraded = await _stored_hash(bus)
    assert is_slow_hash(upgraded)
    assert verify_secret(CHOSEN, upgraded)


async def test_the_published_demo_secret_keeps_the_fast_hash(bus: BusState) -> None:
    """Hashing a secret the README prints slowly would hide nothing and cost every test."""
    assert not is_slow_hash(await _stored_hash(bus))
