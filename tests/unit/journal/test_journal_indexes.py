"""The journal table's indexes: each one a query reads, since each costs every row an insert."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_mock_engine, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ClauseElement

from lgsp.db import Base
from lgsp.journal.models import JournalRecord
from lgsp.journal.store import _kept_from

pytestmark = pytest.mark.anyio

_NOW = datetime(2024, 5, 1, tzinfo=UTC)


def _sqlite_indexes(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {name for _, name, *_ in connection.execute("PRAGMA index_list(journal_entries)")}


def _plan(path: Path, statement: ClauseElement) -> str:
    """SQLite's plan for `statement` (as lgsp.journal.store writes it), parameters inlined."""
    compiled = statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
    with sqlite3.connect(path) as connection:
        rows = connection.execute(f"EXPLAIN QUERY PLAN {compiled}").fetchall()
    return " | ".join(row[-1] for row in rows)


async def test_on_sqlite_every_journal_query_reads_the_one_index_the_table_has(
    sqlite_file: str,
) -> None:
    """`occurred_at` had an index SQLite's planner never chose: an insert per row, and WAL
    pages per commit, for no read (issue 21)."""
    path = Path(sqlite_file)
    kept_since = _NOW - timedelta(hours=1)
    queries = [  # as lgsp.journal.store writes them: matching, its cut-off, prune
        select(JournalRecord)
        .where(
            JournalRecord.instance == "lgsp-91",
            JournalRecord.id >= 5,
            JournalRecord.occurred_at >= kept_since,
        )
        .order_by(JournalRecord.id.desc())
        .limit(100),
        select(_kept_from("lgsp-91", 1000)),
        delete(JournalRecord).where(
            JournalRecord.instance == "lgsp-91",
            (JournalRecord.id < _kept_from("lgsp-91", 1000))
            | (JournalRecord.occurred_at < kept_since),
        ),
    ]

    assert _sqlite_indexes(path) == {"ix_journal_entries_instance_id"}
    for query in queries:
        assert "INDEX ix_journal_entries_instance_id (instance=?" in _plan(path, query)


def test_on_postgresql_the_pruner_keeps_its_index_on_occurred_at() -> None:
    created: list[str] = []
    engine = create_mock_engine(
        "postgresql://",
        lambda ddl, *_, **__: created.append(str(ddl.compile(dialect=postgresql.dialect()))),
    )

    Base.metadata.create_all(engine, checkfirst=False)

    assert any(
        "CREATE INDEX ix_journal_entries_occurred_at ON journal_entries (occurred_at)" in ddl
        for ddl in created
    )
