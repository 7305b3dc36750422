"""The journal table: one row per exchange an instance served, bodies bounded and masked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.db import Base, BigId, UTCDateTime


class JournalRecord(Base):
    """Not part of the audit chain: rows are pruned past their retention and cleared by reset."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        Index("ix_journal_entries_instance_id", "instance", "id"),
        # For the pruner's `occurred_at <` branch on PostgreSQL only: SQLite's planner reads
        # every journal query through the index above (EXPLAIN QUERY PLAN), so there the index
        # cost each row an insert and each commit two more WAL pages of 13-17, for no read
        # (issue 21). An existing file keeps its index: `create_all` adds none and drops none.
        Index("ix_journal_entries_occurred_at", "occurred_at").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(Text)
    service: Mapped[str | None] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text)
    status: Mapped[int] = mapped_column(Integer)
    request_content_type: Mapped[str | None] = mapped_column(Text)
    request_body: Mapped[str] = mapped_column(Text)
    request_truncated: Mapped[bool] = mapped_column(Boolean)
    response_content_type: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str] = mapped_column(Text)
    response_truncated: Mapped[bool] = mapped_column(Boolean)
    latency_us: Mapped[int] = mapped_column(BigInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
