"""The outbox admin API, driven through the real app: one instance's messages, never bodies."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.outbox.models import OutboxState
from lgsp.outbox.receipts import receipt
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.unit.outbox.helpers import TG, add_message, force, read

pytestmark = pytest.mark.anyio

OUTBOX = f"{KG}/admin/outbox"
BODY = b'{"so_ho_so": "000.00.91.H33-261123-0001", "cccd": "091087000123"}'


def later() -> datetime:
    """Messages due tomorrow: the bus's own worker leaves them alone during the test."""
    return datetime.now(UTC) + timedelta(days=1)


@pytest.fixture
def sessions(bus: BusState) -> async_sessionmaker[AsyncSession]:
    return bus.session_factory


async def add(sessions: async_sessionmaker[AsyncSession], key: str, **options: object) -> int:
    return await add_message(sessions, key, now=later(), body=BODY, **options)  # type: ignore[arg-type]


async def test_lists_this_instances_messages_with_counts_and_no_bodies(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = await add(sessions, "a", ordering_key="dossier-1")
    second = await add(sessions, "b")
    await add(sessions, "a", instance=TG)
    await force(sessions, second, state=OutboxState.DEAD, last_status=400, last_error="NOPE")

    response = await client.get(OUTBOX, headers=bearer(demo_token))

    assert response.status_code == 200, response.text
    page = response.json()
    assert page["counts"] == {"pending": 1, "delivering": 0, "delivered": 0, "dead": 1}
    assert [message["id"] for message in page["messages"]] == [first, second]
    message = page["messages"][0]
    assert "body" not in message
    assert message["body_bytes"] == len(BODY)
    assert message["body_sha256"] == hashlib.sha256(BODY).hexdigest()
    assert "091087000123" not in response.text
    assert {
        key: message[key]
        for key in ("instance", "idempotency_key", "ordering_key", "client_id", "state")
    } == {
        "instance": "kiengiang",
        "idempotency_key": "a",
        "ordering_key": "dossier-1",
        "client_id": "system-dvc",
        "state": "pending",
    }
    assert set(message) >= {
        "service",
        "version",
        "method",
        "path",
        "target_instance",
        "content_type",
        "request_id",
        "attempts",
        "next_attempt_at",
        "lease_until",
        "last_status",
        "last_error",
        "created_at",
        "updated_at",
        "delivered_at",
    }
    assert (page["messages"][1]["last_status"], page["messages"][1]["last_error"]) == (400, "NOPE")


async def test_pages_through_messages_by_state(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ids = [await add(sessions, f"m{n}") for n in range(4)]
    for message_id in ids[1:]:
        await force(sessions, message_id, state=OutboxState.DEAD)

    async def page(**params: object) -> list[int]:
        response = await client.get(OUTBOX, params=params, headers=bearer(demo_token))
        assert response.status_code == 200, response.text
        assert response.json()["counts"]["dead"] == 3  # counts ignore the filter
        return [message["id"] for message in response.json()["messages"]]

    assert await page(state="dead", limit=2) == ids[1:3]
    assert await page(state="dead", limit=2, after_id=ids[2]) == ids[3:]
    assert await page(state="pending") == ids[:1]


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"state": "lost"}, {"after_id": -1}, {"after_id": "x"}],
)
async def test_list_parameters_out_of_bounds_are_refused(
    client: httpx.AsyncClient, demo_token: str, params: dict[str, object]
) -> None:
    response = await client.get(OUTBOX, params=params, headers=bearer(demo_token))

    assert_problem(response, 422, "INVALID_REQUEST")


async def test_a_delivered_message_shows_the_size_and_digest_of_the_body_it_had(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    message_id = await add(sessions, "delivered")
    await force(sessions, message_id, state=OutboxState.DELIVERED, body=receipt(BODY))

    found = await client.get(f"{OUTBOX}/{message_id}", headers=bearer(demo_token))

    assert found.status_code == 200, found.text
    assert (found.json()["body_bytes"], found.json()["body_sha256"]) == (
        len(BODY),
        hashlib.sha256(BODY).hexdigest(),
    )


async def test_gets_one_message_and_not_another_instances(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    ours = await add(sessions, "a")
    theirs = await add(sessions, "a", instance=TG)

    found = await client.get(f"{OUTBOX}/{ours}", headers=bearer(demo_token))
    assert found.status_code == 200, found.text
    assert (found.json()["id"], found.json()["body_bytes"]) == (ours, len(BODY))

    for missing in (theirs, theirs + 1000, 2**63 - 1):
        assert_problem(
            await client.get(f"{OUTBOX}/{missing}", headers=bearer(demo_token)), 404, "NOT_FOUND"
        )
    assert_problem(
        await client.get(f"{OUTBOX}/{2**63}", headers=bearer(demo_token)), 422, "INVALID_REQUEST"
    )
    tg_token = await fetch_token(client, f"/lgsp/{TG}")
    seen_there = await client.get(f"/lgsp/{TG}/admin/outbox/{theirs}", headers=bearer(tg_token))
    assert seen_there.status_code == 200


async def test_re_drives_a_dead_message(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    message_id = await add(sessions, "a")
    await force(sessions, message_id, state=OutboxState.DEAD, attempts=8, last_status=503)
    before = datetime.now(UTC)

    response = await client.post(f"{OUTBOX}/{message_id}/redrive", headers=bearer(demo_token))

    assert response.status_code == 200, response.text
    message = response.json()
    assert (message["id"], message["state"], message["attempts"]) == (message_id, "pending", 0)
    assert before <= datetime.fromisoformat(message["next_attempt_at"]) <= datetime.now(UTC)


@pytest.mark.parametrize("state", [OutboxState.DELIVERED, OutboxState.DELIVERING])
async def test_re_driving_a_delivered_or_delivering_message_is_a_conflict(
    client: httpx.AsyncClient,
    demo_token: str,
    sessions: async_sessionmaker[AsyncSession],
    state: OutboxState,
) -> None:
    message_id = await add(sessions, "a")
    await force(sessions, message_id, state=state, lease_until=later())

    response = await client.post(f"{OUTBOX}/{message_id}/redrive", headers=bearer(demo_token))

    assert_problem(response, 409, "OUTBOX_CONFLICT")
    assert response.json()["state"] == state.value


async def test_re_driving_another_instances_message_is_not_found(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    theirs = await add(sessions, "a", instance=TG)
    await force(sessions, theirs, state=OutboxState.DEAD)

    response = await client.post(f"{OUTBOX}/{theirs}/redrive", headers=bearer(demo_token))

    assert_problem(response, 404, "NOT_FOUND")


async def test_re_drives_every_dead_message_of_the_instance(
    client: httpx.AsyncClient, demo_token: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for key in ("a", "b"):
        await force(sessions, await add(sessions, key), state=OutboxState.DEAD)
    await force(sessions, await add(sessions, "a", instance=TG), state=OutboxState.DEAD)
    await add(sessions, "c")

    response = await client.post(
        f"{OUTBOX}/redrive", params={"state": "dead"}, headers=bearer(demo_token)
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"redriven": 2}


@pytest.mark.parametrize("params", [{}, {"state": "pending"}])
async def test_re_driving_all_needs_state_dead(
    client: httpx.AsyncClient, demo_token: str, params: dict[str, str]
) -> None:
    response = await client.post(f"{OUTBOX}/redrive", params=params, headers=bearer(demo_token))

    assert_problem(response, 422, "INVALID_REQUEST")


ENDPOINTS = [
    ("GET", OUTBOX),
    ("GET", f"{OUTBOX}/1"),
    ("POST", f"{OUTBOX}/1/redrive"),
    ("POST", f"{OUTBOX}/redrive?state=dead"),
]


async def test_every_endpoint_needs_an_admin_client_with_the_admin_scope(
    client: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    from lgsp.admin_tasks import create_client

    message_id = await add(sessions, "a")
    await force(sessions, message_id, state=OutboxState.DEAD)
    plain = await create_client(
        settings, instance="kiengiang", name="plain", services=["dancu"], is_admin=False
    )
    not_admin = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)
    admin_without_scope = await fetch_token(client, scope="dancu")

    for method, url in ENDPOINTS:
        url = url.replace("/1", f"/{message_id}")
        for token in (not_admin, admin_without_scope):
            response = await client.request(method, url, headers=bearer(token))
            assert_problem(response, 403, "ACCESS_DENIED")
        assert_problem(await client.request(method, url), 401, "INVALID_TOKEN")
    assert (await read(sessions, message_id)).state == OutboxState.DEAD
