"""Pruning the journal while the audit writer commits (first-hour review 2026-12-07 #10): a
round that read before it wrote was refused at once by SQLite whenever another connection
committed in between, which under load was every round."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.journal import store
from lgsp.journal.models import JournalRecord

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def row(request_id: str) -> dict[str, Any]:
    return {
        "instance": "angiang",
        "request_id": request_id,
        "client_id": "demo",
        "service": "dancu",
        "method": "GET",
        "path": "/dancu/v1/citizens/089*******38",
        "query": "",
        "status": 200,
        "request_content_type": None,
        "request_body": "",
        "request_truncated": False,
        "response_content_type": "application/json",
        "response_body": "{}",
        "response_truncated": False,
        "latency_us": 100,
        "occurred_at": NOW,
    }


async def test_a_round_deletes_past_the_bound_while_another_connection_commits(
    file_sessions: async_sessionmaker[AsyncSession], sqlite_file: str
) -> None:
    async with file_sessions.begin() as session:
        await session.execute(insert(JournalRecord), [row(f"r{n}") for n in range(5)])
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    engine = file_sessions.kw["bind"].sync_engine

    committed: list[str] = []

    def commit_elsewhere(_: Any, __: Any, statement: str, *___: Any) -> None:
        """The audit writer commits after the round's first read (once)."""
        if not committed and statement.lstrip().upper().startswith("SELECT"):
            other.execute("INSERT INTO audit_heads (instance, seq, hash) VALUES ('x', 0, 'h')")
            committed.append(statement)

    event.listen(engine, "after_cursor_execute", commit_elsewhere)
    try:
        pruned = await store.prune(
            file_sessions, ["angiang"], now=NOW, retention_seconds=3600, max_entries=2
        )
    finally:
        other.close()
        event.remove(engine, "after_cursor_execute", commit_elsewhere)

    async with file_sessions() as session:
        kept = (await session.scalars(select(JournalRecord.request_id))).all()
    assert pruned == 3
    assert sorted(kept) == ["r3", "r4"]


async def test_a_round_keeps_everything_within_the_bounds(
    file_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with file_sessions.begin() as session:
        await session.execute(insert(JournalRecord), [row(f"r{n}") for n in range(3)])

    pruned = await store.prune(
        file_sessions,
        ["angiang"],
        now=NOW + timedelta(minutes=5),
        retention_seconds=3600,
        max_entries=10,
    )

    assert pruned == 0
