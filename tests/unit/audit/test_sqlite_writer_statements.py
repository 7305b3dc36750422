"""What the SQLite audit writer's transaction sends the database: its cost per call (issue 21)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.audit.chain import AuditEntry
from lgsp.audit.models import AuditRecord
from lgsp.audit.repository import ChainLink
from lgsp.audit.sqlite_writer import ROWS_PER_STATEMENT, Call, SqliteAuditWriter
from lgsp.audit.verify import verify_chain
from lgsp.journal.models import JournalRecord
from tests.fixtures.audit import audit_entry, journal_entry

pytestmark = pytest.mark.anyio


class _Outcomes:
    """`Replies` that keeps what each call was answered."""

    def __init__(self) -> None:
        self.errors: list[BaseException | None] = []

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        self.errors += [error] * len(calls)


def _calls(count: int, replies: _Outcomes) -> list[Call]:
    """`count` calls of two hops and one journal row each, as the gateway hands them over."""
    calls = []
    for n in range(count):
        hops: Sequence[AuditEntry] = [
            audit_entry(request_id=f"req-{n}"),
            audit_entry(request_id=f"req-{n}", hop="upstream"),
        ]
        calls.append(Call(hops, [journal_entry(request_id=f"req-{n}")], n, replies))
    return calls


def _traced(writer: SqliteAuditWriter, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements `writer`'s connection runs, each time it runs one."""
    statements: list[str] = []
    real = writer._connect

    def connect() -> sqlite3.Connection:
        connection = real()
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(writer, "_connect", connect)
    return statements


@pytest.mark.parametrize("calls", [1, 8, ROWS_PER_STATEMENT + 5])
async def test_a_batch_inserts_its_rows_in_one_statement_per_table_and_bound(
    calls: int,
    sqlite_file: str,
    file_sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row a statement cost each row the stdlib's reset-bind-step round and a hand-over of
    the GIL; the rows go in `ROWS_PER_STATEMENT` at a time, in order, linked as before."""
    writer = SqliteAuditWriter(sqlite_file, busy_timeout=5)
    statements = _traced(writer, monkeypatch)
    replies = _Outcomes()

    writer.write(_calls(calls, replies))
    writer.stop()

    assert replies.errors == [None] * calls
    inserts = [statement for statement in statements if statement.startswith("INSERT INTO")]
    records = [statement for statement in inserts if "audit_records" in statement]
    journal = [statement for statement in inserts if "journal_entries" in statement]
    assert len(records) == -(-2 * calls // ROWS_PER_STATEMENT)
    assert len(journal) == -(-calls // ROWS_PER_STATEMENT)
    async with file_sessions() as session:
        stored = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
        journalled = await session.scalar(select(func.count()).select_from(JournalRecord))
    assert [(r.request_id, r.hop, r.seq) for r in stored] == [
        (f"req-{n}", hop, 2 * n + offset)
        for n in range(calls)
        for offset, hop in ((1, "inbound"), (2, "upstream"))
    ]
    assert journalled == calls
    assert (await verify_chain(file_sessions)).ok


@pytest.mark.parametrize("truncated", [True, False])
async def test_a_journal_rows_flags_are_stored_as_sqlalchemy_stores_them(
    truncated: bool,
    sqlite_file: str,
    file_sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A flag is bound as the stdlib binds a bool, without SQLAlchemy's processor: the same
    integer in the file (1 or 0), read back through the ORM as the same bool."""
    writer = SqliteAuditWriter(sqlite_file, busy_timeout=5)
    replies = _Outcomes()
    row = journal_entry(
        request_id="req-f", request_truncated=truncated, response_truncated=not truncated
    )

    writer.write([Call([audit_entry(request_id="req-f")], [row], 0, replies)])
    writer.stop()

    assert replies.errors == [None]
    with sqlite3.connect(sqlite_file) as raw:
        stored = raw.execute(
            "SELECT request_truncated, response_truncated, typeof(request_truncated) "
            "FROM journal_entries"
        ).fetchall()
    assert stored == [(int(truncated), int(not truncated), "integer")]
    async with file_sessions() as session:
        read = (await session.scalars(select(JournalRecord))).one()
    assert (read.request_truncated, read.response_truncated) == (truncated, not truncated)
