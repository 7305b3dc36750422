"""Factories for outbox tests: enqueue numbered messages, read them back, force a state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.outbox import DeferredCall, enqueue
from lgsp.outbox.models import OutboxMessage, OutboxState

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
KG, TG = "kiengiang", "tiengiang"


async def add_message(
    sessions: async_sessionmaker[AsyncSession],
    key: str,
    *,
    instance: str = KG,
    ordering_key: str | None = None,
    now: datetime = NOW,
    body: bytes = b'{"status": "2"}',
) -> int:
    """Enqueue one message (due from `now`) and return its id."""
    async with sessions.begin() as session:
        added = await enqueue(
            session,
            DeferredCall(
                service="dvcqg",
                version="v1",
                method="POST",
                path=f"/dossiers/{key}/status",
                body=body,
                content_type="application/json",
                idempotency_key=key,
                ordering_key=ordering_key,
            ),
            instance=instance,
            client_id="system-dvc",
            request_id=f"req-{key}",
            now=now,
        )
        assert added
        message_id = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.instance == instance, OutboxMessage.idempotency_key == key
            )
        )
    assert message_id is not None
    return message_id


async def read(sessions: async_sessionmaker[AsyncSession], message_id: int) -> OutboxMessage:
    async with sessions() as session:
        message = await session.get(OutboxMessage, message_id)
    assert message is not None
    return message


async def force(sessions: async_sessionmaker[AsyncSession], message_id: int, **values: Any) -> None:
    """Put a message in a given state directly, as if earlier rounds had happened."""
    if isinstance(values.get("state"), OutboxState):
        values["state"] = values["state"].value
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id == message_id).values(**values)
        )


async def states(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    async with sessions() as session:
        rows = await session.execute(select(OutboxMessage.id, OutboxMessage.state))
        return {message_id: state for message_id, state in rows}
