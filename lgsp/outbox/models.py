"""The outbox table: one row per deferred call, with its delivery state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.db import Base, BigId, UTCDateTime


class OutboxState(StrEnum):
    PENDING = "pending"  # waiting for its next attempt
    DELIVERING = "delivering"  # claimed by a worker until `lease_until`
    DELIVERED = "delivered"  # the recipient answered 2xx
    DEAD = "dead"  # gave up: too many failures, or refused for good; an admin may re-drive it


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("instance", "idempotency_key"),
        Index("ix_outbox_messages_due", "state", "next_attempt_at"),
        Index("ix_outbox_messages_ordering", "instance", "ordering_key", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(64))
    """The instance whose worker delivers the message, through its own gateway."""
    idempotency_key: Mapped[str] = mapped_column(String(200))
    ordering_key: Mapped[str | None] = mapped_column(String(200))
    """Messages sharing a key are delivered one after the other, oldest first."""
    client_id: Mapped[str] = mapped_column(String(64))
    """The client on whose behalf the call is made (the system that enqueued it)."""
    service: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    target_instance: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    request_id: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts made: the failed ones while it waits or is dead, and the delivering one too."""
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
