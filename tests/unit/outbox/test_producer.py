from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.db import make_session_factory
from lgsp.outbox import DeferredCall, enqueue
from lgsp.outbox.models import OutboxMessage, OutboxState

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def a_call(key: str = "edoc:1", body: bytes = b"<edXML/>") -> DeferredCall:
    return DeferredCall(
        service="vdxp",
        version="v1",
        method="POST",
        path="/documents",
        body=body,
        content_type="application/xml",
        idempotency_key=key,
        ordering_key="doc-1",
    )


async def test_enqueued_message_exists_only_once_the_transaction_commits(
    engine: AsyncEngine,
) -> None:
    sessions = make_session_factory(engine)
    async with sessions() as session, session.begin():
        added = await enqueue(
            session,
            a_call(),
            instance="kiengiang",
            client_id="system-qlvb",
            request_id="r1",
            now=NOW,
        )
        await session.rollback()
    assert added
    async with sessions() as session:
        assert (await session.scalars(select(OutboxMessage))).all() == []


async def test_enqueueing_a_known_key_again_keeps_the_first_message(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    for body in (b"first", b"second"):
        async with sessions.begin() as session:
            added = await enqueue(
                session,
                a_call(body=body),
                instance="kiengiang",
                client_id="system-qlvb",
                request_id="r1",
                now=NOW,
            )
        assert added == (body == b"first")
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxMessage))).all()
    assert [(row.body, row.state, row.attempts, row.next_attempt_at) for row in rows] == [
        (b"first", OutboxState.PENDING, 0, NOW)
    ]


async def test_the_same_key_in_another_instance_is_another_message(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    async with sessions.begin() as session:
        for instance in ("kiengiang", "tiengiang"):
            await enqueue(
                session,
                a_call(),
                instance=instance,
                client_id="system-qlvb",
                request_id="r",
                now=NOW,
            )
    async with sessions() as session:
        instances = (await session.scalars(select(OutboxMessage.instance))).all()
    assert sorted(instances) == ["kiengiang", "tiengiang"]


@pytest.mark.parametrize("path", ["documents", ""])
def test_a_deferred_call_path_must_be_absolute(path: str) -> None:
    with pytest.raises(ValueError, match="starts with '/'"):
        DeferredCall(
            service="vdxp",
            version="v1",
            method="POST",
            path=path,
            body=b"",
            content_type=None,
            idempotency_key="k",
        )


def test_an_idempotency_key_is_bounded() -> None:
    with pytest.raises(ValueError, match="idempotency_key"):
        a_call(key="k" * 201)
