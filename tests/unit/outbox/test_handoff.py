"""The gateway's store-and-forward door: `Prefer: respond-async` and what `take` stores."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import IdempotencyKeyReused
from lgsp.db import make_session_factory
from lgsp.errors import InvalidRequest
from lgsp.outbox.handoff import Handover, Taken, prefers_respond_async, take
from lgsp.outbox.models import OutboxMessage
from lgsp.outbox.store import claim, mark_delivered
from tests.fixtures.handovers import DVCQG_SYNC

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SYNC = Handover(
    service="dvcqg",
    version="v1",
    method="POST",
    path="/dossiers/sync",
    query=(),
    body=b'{"step": 1}',
    content_type="application/json",
    idempotency_key="dvcqg:000.00.07.H33-260302-0001:1",
    ordering_key="dossier:000.00.07.H33-260302-0001",
    target_instance=None,
)


@pytest.mark.parametrize(
    ("prefer", "asked"),
    [
        ("respond-async", True),
        ("Respond-Async", True),
        ("return=minimal, respond-async", True),
        ("respond-async; wait=10", True),
        ("wait=10, respond-async ;foo", True),
        (None, False),
        ("", False),
        ("return=representation", False),
        ("respond-asynchronously", False),
        ("x-respond-async", False),
        ("handling=strict; respond-async", False),  # a parameter of another preference
        ("respond-async" + ", x" * 200, False),  # past the bound: not parsed at all
    ],
)
def test_respond_async_is_read_as_rfc_7240_tokens(prefer: str | None, asked: bool) -> None:
    assert prefers_respond_async(prefer) is asked


async def stored(engine: AsyncEngine) -> list[OutboxMessage]:
    async with make_session_factory(engine)() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def take_sync(
    engine: AsyncEngine, handover: Handover = SYNC, client: str = "system-dvc"
) -> Taken:
    return await take(
        make_session_factory(engine),
        handover,
        instance="kiengiang",
        client_id=client,
        request_id="req-1",
        now=NOW,
    )


async def test_a_hand_over_is_stored_for_the_client_and_committed(engine: AsyncEngine) -> None:
    taken = await take_sync(engine)

    [message] = await stored(engine)
    assert (taken.message_id, taken.state, taken.duplicate) == (message.id, "pending", False)
    assert (message.instance, message.client_id, message.request_id) == (
        "kiengiang",
        "system-dvc",
        "req-1",
    )
    assert (message.service, message.version, message.method, message.path) == DVCQG_SYNC
    assert (message.idempotency_key, message.ordering_key) == (
        SYNC.idempotency_key,
        f"system-dvc:{SYNC.ordering_key}",  # the client's own line (issue 15)
    )
    assert (message.body, message.content_type, message.next_attempt_at) == (
        SYNC.body,
        "application/json",
        NOW,
    )


async def test_the_same_hand_over_again_is_answered_as_the_first_and_stored_once(
    engine: AsyncEngine,
) -> None:
    first = await take_sync(engine)
    again = await take_sync(engine)

    assert (again.message_id, again.duplicate) == (first.message_id, True)
    assert len(await stored(engine)) == 1


async def test_a_hand_over_again_after_its_delivery_is_known_by_its_digest(
    engine: AsyncEngine,
) -> None:
    first = await take_sync(engine)
    sessions = make_session_factory(engine)
    [claimed] = await claim(
        sessions, instances=["kiengiang"], now=NOW, lease_seconds=30, limit=1, max_attempts=8
    )
    assert await mark_delivered(sessions, claimed, status=200, now=NOW)

    again = await take_sync(engine)
    with pytest.raises(IdempotencyKeyReused):
        await take_sync(engine, replace(SYNC, body=b'{"step": 2}'))

    assert (again.message_id, again.state, again.duplicate) == (first.message_id, "delivered", True)
    [message] = await stored(engine)
    assert message.body != SYNC.body


@pytest.mark.parametrize(
    ("other", "client"),
    [
        pytest.param(replace(SYNC, body=b'{"step": 2}'), "system-dvc", id="another-body"),
        pytest.param(replace(SYNC, path="/dossiers/other"), "system-dvc", id="another-path"),
        pytest.param(replace(SYNC, target_instance="tiengiang"), "system-dvc", id="other-target"),
        pytest.param(SYNC, "someone-else", id="another-client"),
    ],
)
async def test_a_key_taken_for_another_call_is_refused_and_changes_nothing(
    engine: AsyncEngine, other: Handover, client: str
) -> None:
    await take_sync(engine)

    with pytest.raises(IdempotencyKeyReused):
        await take_sync(engine, other, client)

    [message] = await stored(engine)
    assert (message.client_id, message.body, message.path) == (
        "system-dvc",
        SYNC.body,
        "/dossiers/sync",
    )


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(replace(SYNC, idempotency_key=None), id="no-idempotency-key"),
        pytest.param(replace(SYNC, ordering_key=""), id="empty-ordering-key"),
        pytest.param(replace(SYNC, ordering_key="k" * 201), id="long-ordering-key"),
    ],
)
async def test_a_hand_over_without_its_keys_is_refused_and_nothing_stored(
    engine: AsyncEngine, bad: Handover
) -> None:
    with pytest.raises(InvalidRequest):
        await take_sync(engine, bad)

    async with make_session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_the_path_is_stored_percent_encoded_with_its_query(engine: AsyncEngine) -> None:
    """What the worker sends must name the resource the gateway authorised, not a decoded one."""
    await take_sync(
        engine, replace(SYNC, path="/citizens/a b%2F?x", query=(("q", "khai sinh"), ("n", "1")))
    )

    [message] = await stored(engine)
    assert message.path == "/citizens/a%20b%252F%3Fx?q=khai+sinh&n=1"
