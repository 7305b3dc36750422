"""`enqueue`: what a system calls, inside its own transaction, to send something later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert
from lgsp.outbox.models import OutboxMessage, OutboxState

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class DeferredCall:
    """An invocation of `{service}/{version}{path}` to be made through the instance's gateway."""

    service: str
    version: str
    method: str
    path: str
    body: bytes
    content_type: str | None
    idempotency_key: str
    """Unique per instance: enqueueing the same key twice keeps the first message only."""
    ordering_key: str | None = None
    target_instance: str | None = None
    """For a provincial service of another province: sent as `X-LGSP-Target`."""

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"a deferred call's path starts with '/': {self.path!r}")
        for name in ("idempotency_key", "ordering_key"):
            value = getattr(self, name)
            if value is not None and not 0 < len(value) <= MAX_KEY_LENGTH:
                raise ValueError(f"{name} must have 1 to {MAX_KEY_LENGTH} characters")


async def enqueue(
    session: AsyncSession,
    call: DeferredCall,
    *,
    instance: str,
    client_id: str,
    request_id: str,
    now: datetime,
) -> bool:
    """Add `call` to `instance`'s outbox in the caller's transaction; False if the key was known.

    Committing is the caller's: the message exists exactly when the change that caused it does.
    """
    values = {
        "instance": instance,
        "idempotency_key": call.idempotency_key,
        "ordering_key": call.ordering_key,
        "client_id": client_id,
        "service": call.service,
        "version": call.version,
        "method": call.method,
        "path": call.path,
        "target_instance": call.target_instance,
        "content_type": call.content_type,
        "body": call.body,
        "request_id": request_id,
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = conflict_insert(dialect)
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["instance", "idempotency_key"])
        .returning(OutboxMessage.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None
