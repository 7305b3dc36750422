"""Tables of the audit log: one row per hop, and one head per instance's chain.

The head holds the newest `seq` and hash of each chain, so that `verify` notices when the newest
records are deleted (the chain alone would still link up to whatever record is left last).
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.audit.chain import AuditEntry
from lgsp.db import Base, BigId, UTCDateTime


class AuditRecord(Base):
    """One hop of one request, linked into its instance's hash chain."""

    __tablename__ = "audit_records"
    __table_args__ = (
        UniqueConstraint("instance", "seq"),
        # No checks on values the gateway observed (status, latency): a record the database
        # refuses is a call answered 503 and lost from the log.
        CheckConstraint("seq >= 1", name="seq"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    # Text, not String(n): ids and paths come from clients, and a too-long value must not turn
    # an answered call into a 503 on PostgreSQL.
    request_id: Mapped[str] = mapped_column(Text, index=True)
    hop: Mapped[str] = mapped_column(String(32))
    caller: Mapped[str | None] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    latency_us: Mapped[int] = mapped_column(BigInteger)
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_sha256: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notes: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @classmethod
    def from_entry(cls, entry: AuditEntry, *, seq: int, prev_hash: str, hash: str) -> AuditRecord:
        values: dict[str, Any] = {f.name: getattr(entry, f.name) for f in fields(AuditEntry)}
        return cls(**values, seq=seq, prev_hash=prev_hash, hash=hash)

    def to_entry(self) -> AuditEntry:
        """The hashed fields as read back, for recomputing this record's hash."""
        return AuditEntry(**{f.name: getattr(self, f.name) for f in fields(AuditEntry)})


class AuditHead(Base):
    """The newest link of one instance's chain; locked by the writer before it appends."""

    __tablename__ = "audit_heads"
    __table_args__ = (CheckConstraint("seq >= 0", name="seq"),)

    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
