"""The fault rules table: one row per rule of one instance, its definition kept as JSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.db import Base, BigId, UTCDateTime


class FaultRuleRecord(Base):
    __tablename__ = "fault_rules"
    # AUTOINCREMENT: SQLite would otherwise give a removed or cleared rule's id to the next one
    # (largest rowid + 1), and an id in a log or a script would come to name another rule.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    definition: Mapped[str] = mapped_column(Text)
    """The validated `FaultRuleIn` as JSON: one source of truth for what the rule matches and
    does, read back through the same model (nothing queries inside it)."""
    times: Mapped[int | None] = mapped_column(Integer)
    remaining: Mapped[int | None] = mapped_column(Integer)
    """Applications left; decremented atomically (`store.claim`), so `times` holds under any
    number of concurrent calls and processes. None: no limit."""
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
