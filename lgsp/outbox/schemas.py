"""What the outbox's admin endpoints answer: every column of a message except its body.

A body may hold personal data (a citizen's dossier, a document), so an admin sees only its size
and SHA-256 (a delivered message keeps no more: `lgsp.outbox.receipts`), enough to match it
against what the recipient or the audit log recorded; the path (`/citizens/{cccd}`) with its id
numbers masked, as the audit log and the console show it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from lgsp.db import column_values
from lgsp.masking import mask_personal_data
from lgsp.outbox.models import OutboxMessage, OutboxState
from lgsp.outbox.receipts import body_facts
from lgsp.routing.callers import unscoped_key


class OutboxMessageOut(BaseModel):
    id: int
    instance: str
    idempotency_key: str
    ordering_key: str | None
    client_id: str
    service: str
    version: str
    method: str
    path: str
    target_instance: str | None
    content_type: str | None
    body_bytes: int
    body_sha256: str
    request_id: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_message(cls, message: OutboxMessage) -> OutboxMessageOut:
        size, sha256 = body_facts(message)
        return cls.model_validate(
            {
                **_as_sent(message),
                "path": mask_personal_data(message.path),
                "body_bytes": size,
                "body_sha256": sha256,
            }
        )


class HandoverState(BaseModel):
    """Where a message a system handed over stands, as that system may see it (issue 17): a
    sender's document system shows a delivery the bus gave up on as undeliverable, with the
    reason, rather than as one still in transit."""

    idempotency_key: str
    state: OutboxState
    attempts: int
    last_status: int | None
    last_error: str | None = None
    """Short, with id numbers masked (`store.short_error`)."""
    updated_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_message(cls, message: OutboxMessage) -> HandoverState:
        return cls.model_validate(_as_sent(message))


def _as_sent(message: OutboxMessage) -> dict[str, Any]:
    """The row's columns with its keys as the client sent them: they are stored scoped to the
    client (lgsp.routing.callers)."""
    return {
        **column_values(message),
        "idempotency_key": unscoped_key(message.client_id, message.idempotency_key),
        "ordering_key": message.ordering_key
        and unscoped_key(message.client_id, message.ordering_key),
    }


class OutboxCounts(BaseModel):
    pending: int
    delivering: int
    delivered: int
    dead: int


class OutboxPage(BaseModel):
    counts: OutboxCounts
    """Over the whole outbox of the instance, whatever the filter."""
    messages: list[OutboxMessageOut]
    """In id order; ask for the next page with `after_id` = the last id here."""


class Redriven(BaseModel):
    redriven: int
