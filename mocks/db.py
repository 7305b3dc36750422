"""Storage for stateful mocks: each keeps its own tables, in the database the bus gives it.

A mock defines its tables on its own `DeclarativeBase` with `kit.db.named_metadata()`, so its
schema stays its own, and opens its engine in its lifespan with `open_mock_database`. The engine
recipe is `kit.db`'s, shared with the bus but not the bus's: a mock imports nothing of `lgsp`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from kit.db import create_tables, make_engine, make_session_factory

DEFAULT_DATABASE = "mocks.db"


_READING = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "EXPLAIN")
"""How the statements that change nothing begin; any other statement counts as a write."""


@dataclass
class ChangeWatch:
    """Counts the statements this process sends its database that may change it, so that a
    reset can tell a mock nothing has touched since its last reset (`mocks.stateful`).

    It sees only this process's engine: it speaks for the database only where this process is
    its sole writer (`SystemConfig.sole_writer`).
    """

    writes: int = 0
    clean_at: int | None = None
    """`writes` when a reset last left the rows as seeded; None: not known to be seeded."""

    def count(self, statement: str) -> None:
        if not statement.lstrip()[:9].upper().startswith(_READING):
            self.writes += 1

    def mark_clean(self) -> None:
        """The rows are as seeded now: called by a reset before it commits, holding the
        write lock, so a write of anyone else comes after and counts."""
        self.clean_at = self.writes

    def forget(self) -> None:
        self.clean_at = None

    @property
    def unchanged(self) -> bool:
        return self.clean_at == self.writes


@dataclass(frozen=True)
class MockDatabase:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    watch: ChangeWatch = field(default_factory=ChangeWatch)


@asynccontextmanager
async def open_mock_database(
    url: str | None, metadata: MetaData, *, data_dir: Path = Path(".lgsp")
) -> AsyncIterator[MockDatabase]:
    """Open the database (SQLite in `data_dir` when no URL is given) and create missing tables."""
    engine = make_engine(url or f"sqlite+aiosqlite:///{(data_dir / DEFAULT_DATABASE).resolve()}")
    watch = ChangeWatch()

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        watch.count(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", counted)
    try:
        await create_tables(engine, metadata)
        yield MockDatabase(engine, make_session_factory(engine), watch)
    finally:
        await engine.dispose()


__all__ = ["DeclarativeBase", "MockDatabase", "open_mock_database"]
