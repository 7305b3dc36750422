"""RFC 7009 revocation: a revoked token is refused on every call, in every process, until expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from jose import jwt
from sqlalchemy import delete, select

from lgsp.auth.models import RevokedToken
from lgsp.auth.repository import RevocationRepository
from lgsp.auth.revocation import DenyList
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
async def no_revocations(bus: BusState) -> None:
    """A reset keeps revocations (a revoked token stays revoked); these tests count them."""
    async with make_session_factory(bus.engine).begin() as session:
        await session.execute(delete(RevokedToken))


SERVICES = f"{KG}/services"
DEMO = ("demo", "lgsp-demo-secret")


def jti_of(token: str) -> str:
    return str(jwt.get_unverified_claims(token)["jti"])


async def revoke(
    http: httpx.AsyncClient, token: str, auth: tuple[str, str] = DEMO, base: str = KG
) -> httpx.Response:
    return await http.post(f"{base}/token/revoke", data={"token": token}, auth=auth)


async def revoke_by_jti(http: httpx.AsyncClient, body: object, admin_token: str) -> httpx.Response:
    """`POST /admin/revoked-tokens`; a string is sent as `{"jti": …}`, anything else as is."""
    json = {"jti": body} if isinstance(body, str) else body
    return await http.post(f"{KG}/admin/revoked-tokens", json=json, headers=bearer(admin_token))


async def vendor(settings: Settings, *services: str) -> tuple[str, str]:
    from lgsp.admin_tasks import create_client

    created = await create_client(
        settings, instance="kiengiang", name="vendor", services=list(services), is_admin=False
    )
    return created.client_id, created.client_secret


@pytest.fixture(name="vendor_token")
async def fx_vendor_token(client: httpx.AsyncClient, settings: Settings) -> str:
    """A token of a non-admin client with the `dvc` right only."""
    client_id, secret = await vendor(settings, "dvc")
    return await fetch_token(client, client_id=client_id, secret=secret)


async def test_a_revoked_token_is_refused_and_the_clients_other_tokens_still_work(
    client: httpx.AsyncClient,
) -> None:
    doomed, other = await fetch_token(client), await fetch_token(client)

    answer = await revoke(client, doomed)
    refused = await client.get(SERVICES, headers=bearer(doomed))
    still_fine = await client.get(SERVICES, headers=bearer(other))

    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert refused.status_code == 401
    assert refused.json()["code"] == "INVALID_TOKEN"
    assert "revoked" in refused.json()["detail"]
    assert refused.headers["www-authenticate"].startswith("Bearer")
    assert still_fine.status_code == 200


async def test_a_revoked_token_is_refused_on_a_service_invocation(
    client: httpx.AsyncClient,
) -> None:
    token = await fetch_token(client)
    await revoke(client, token)

    response = await client.get(f"{KG}/dvc/v1/procedures", headers=bearer(token))

    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_revocation_is_persisted_for_other_processes(
    client: httpx.AsyncClient,
    bus: BusState,
) -> None:
    token = await fetch_token(client)
    await revoke(client, token)
    bus.deny_list = DenyList()  # a process that did not see the revocation happen

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401
    async with make_session_factory(bus.engine)() as session:
        rows = (await session.execute(select(RevokedToken))).scalars().all()
    assert [(row.instance, row.jti, row.client_id) for row in rows] == [
        ("kiengiang", jti_of(token), "demo")
    ]
    assert rows[0].expires_at == datetime.fromtimestamp(
        jwt.get_unverified_claims(token)["exp"], UTC
    )


async def test_a_revocation_made_by_another_process_applies_once_its_list_is_reloaded(
    client: httpx.AsyncClient,
    bus: BusState,
) -> None:
    token = await fetch_token(client)
    assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200
    async with make_session_factory(bus.engine).begin() as session:
        now = datetime.now(UTC)
        await RevocationRepository(session).revoke(
            instance="kiengiang",
            jti=jti_of(token),
            client_id="demo",
            expires_at=now + timedelta(hours=1),
            at=now,
        )
    bus.deny_list = DenyList(clock=lambda: float("inf"))  # as if the TTL had passed

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "x" * 8000])
async def test_revoking_an_invalid_token_answers_200(
    client: httpx.AsyncClient, bus: BusState, token: str
) -> None:
    response = await revoke(client, token)

    assert response.status_code == 200
    async with make_session_factory(bus.engine)() as session:
        assert (await session.execute(select(RevokedToken))).first() is None


async def test_revoking_twice_answers_200_both_times(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client)

    first, second = await revoke(client, token), await revoke(client, token)

    assert (first.status_code, second.status_code) == (200, 200)


async def test_revoking_a_token_of_another_instance_changes_nothing_here(
    client: httpx.AsyncClient,
) -> None:
    elsewhere = await fetch_token(client, "/lgsp/tiengiang")

    response = await revoke(client, elsewhere)
    still_fine = await client.get("/lgsp/tiengiang/services", headers=bearer(elsewhere))

    assert response.status_code == 200
    assert still_fine.status_code == 200


async def test_a_client_may_not_revoke_another_clients_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    other = await vendor(settings, "dvc")
    demo_token = await fetch_token(client)

    response = await revoke(client, demo_token, auth=other)
    still_fine = await client.get(SERVICES, headers=bearer(demo_token))

    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert still_fine.status_code == 200


async def test_a_revocation_request_as_json_is_refused(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client)

    response = await client.post(f"{KG}/token/revoke", json={"token": token}, auth=DEMO)

    assert response.status_code == 400
    assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200


async def test_an_admin_revokes_any_token_by_its_jti(
    client: httpx.AsyncClient, vendor_token: str
) -> None:
    admin = await fetch_token(client)

    first = await revoke_by_jti(client, jti_of(vendor_token), admin)
    second = await revoke_by_jti(client, jti_of(vendor_token), admin)
    refused = await client.get(SERVICES, headers=bearer(vendor_token))

    assert first.status_code == 200
    assert first.json() == {"jti": jti_of(vendor_token), "newly_revoked": True}
    assert second.json()["newly_revoked"] is False
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]


async def test_revoking_by_jti_needs_the_admin_scope(
    client: httpx.AsyncClient, vendor_token: str
) -> None:
    demo_token = await fetch_token(client)

    response = await revoke_by_jti(client, jti_of(demo_token), vendor_token)

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    assert (await client.get(SERVICES, headers=bearer(demo_token))).status_code == 200


@pytest.mark.parametrize("body", [{}, {"jti": ""}, {"jti": "a/b"}, {"jti": "x" * 65}, []])
async def test_a_bad_jti_is_a_problem_with_a_stable_code(
    client: httpx.AsyncClient, demo_token: str, body: object
) -> None:
    response = await revoke_by_jti(client, body, demo_token)

    assert_problem(response, 422, "INVALID_REQUEST")


async def test_rows_past_their_tokens_expiry_are_purged_on_the_next_revocation(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=2)
    async with make_session_factory(bus.engine).begin() as session:
        await RevocationRepository(session).revoke(
            instance="kiengiang",
            jti="old",
            client_id="demo",
            expires_at=long_ago + timedelta(hours=1),
            at=long_ago,
        )

    await revoke(client, await fetch_token(client))

    async with make_session_factory(bus.engine)() as session:
        jtis = (await session.execute(select(RevokedToken.jti))).scalars().all()
    assert "old" not in jtis
    assert len(jtis) == 1


async def test_a_revocation_does_not_fail_when_another_request_wrote_since_its_client_was_read(
    bus: BusState,
) -> None:
    """SQLite: `/token/revoke` reads the client, then writes. A read transaction upgraded to a
    write after another connection committed fails at once with "database is locked" (the
    WAL snapshot is stale; the busy timeout does not apply), as seen under load."""
    from lgsp.auth.repository import ClientRepository
    from lgsp.auth.router import _record_revocation

    later = datetime.now(UTC) + timedelta(hours=1)
    async with bus.session_factory() as session:
        assert await ClientRepository(session).get("kiengiang", "demo") is not None
        async with bus.session_factory.begin() as other:  # another request, meanwhile
            await RevocationRepository(other).revoke(
                instance="kiengiang", jti="other", client_id=None, expires_at=later, at=later
            )
        newly = await _record_revocation(
            bus, session, bus.instances["kiengiang"], jti="mine", client_id="demo", expires_at=later
        )

    assert newly is True
