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

from sqlalchemy import Connection, MetaData, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from kit.db import create_tables, make_engine, make_session_factory

DEFAULT_DATABASE = "mocks.db"


_READING = ("SELECT", "PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "EXPLAIN")
"""How the statements that change nothing begin; any other statement counts as a write."""


@dataclass
class ResetMark:
    """What a reset saw of the watch when its transaction began (`ChangeWatch.reset_began`)."""

    connection: object
    writes: int
    others_open: bool
    own: int = 0
    """The writes of the reset itself, counted just before its commit (`reset_ends`)."""


@dataclass
class ChangeWatch:
    """Counts the writes this process commits to its database, so that a reset can tell a mock
    nothing has touched since its last reset (`mocks.stateful`).

    A write counts once it has run (a statement waiting for SQLite's write lock has not) and
    is committed when its connection commits; a connection whose transaction holds a write not
    yet committed, or whose commit may still be under way, is open until the pool has it
    back. A mock is unchanged only if no write committed since its reset and none is open: on
    PostgreSQL a write uncommitted during a reset is not one its DELETE sees, and lands after.

    It sees only this process's engine: it speaks for the database only where this process is
    its sole writer (`SystemConfig.sole_writer`).
    """

    writes: int = 0
    """Writes committed (or being committed: a failed commit counts as a change)."""
    clean_at: int | None = None
    """`writes` when a reset last left the rows as seeded; None: not known to be seeded."""
    open: dict[object, int] = field(default_factory=dict)
    """Each connection holding writes not known to be committed or rolled back: how many."""

    def executed(self, connection: object, statement: str) -> None:
        if not statement.lstrip()[:9].upper().startswith(_READING):
            self.open[connection] = self.open.get(connection, 0) + 1

    def committing(self, connection: object) -> None:
        """Before the commit itself: the connection stays open until the pool has it back."""
        if connection in self.open:
            self.writes += self.open[connection]
            self.open[connection] = 0

    def rolling_back(self, connection: object) -> None:
        if connection in self.open:
            self.open[connection] = 0

    def released(self, connection: object) -> None:
        """The pool has the connection back (or closed it): its transaction is over. Writes
        neither committed nor rolled back as far as the watch saw count as changes."""
        self.writes += self.open.pop(connection, 0)

    def reset_began(self, connection: object) -> ResetMark:
        """Called by a reset in its transaction, holding the write lock, before it deletes."""
        others = any(other is not connection for other in self.open)
        return ResetMark(connection, self.writes, others_open=others)

    def reset_ends(self, mark: ResetMark) -> None:
        """Called last in the reset's transaction, before its commit."""
        mark.own = self.open.get(mark.connection, 0)

    def mark_clean(self, mark: ResetMark) -> None:
        """The reset's transaction committed: the rows are as seeded, unless a write of anyone
        else was open when it began (its DELETE may not have seen it) or came since."""
        others = any(other is not mark.connection for other in self.open)
        if mark.others_open or others or self.writes != mark.writes + mark.own:
            self.clean_at = None
            return
        self.clean_at = self.writes

    def forget(self) -> None:
        self.clean_at = None

    @property
    def unchanged(self) -> bool:
        return self.clean_at == self.writes and not self.open


async def connection_of(session: AsyncSession) -> object:
    """The DBAPI connection of `session`'s transaction, as `ChangeWatch` knows connections."""
    connection = (await session.connection()).sync_connection
    if connection is None:  # the AsyncConnection of a session's transaction always has one
        raise RuntimeError("the session's connection is not started")
    return connection.connection.dbapi_connection


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

    watch_engine(engine, watch)
    try:
        await create_tables(engine, metadata)
        yield MockDatabase(engine, make_session_factory(engine), watch)
    finally:
        await engine.dispose()


def watch_engine(engine: AsyncEngine, watch: ChangeWatch) -> None:
    """Have `watch` count what `engine` writes and commits."""
    sync = engine.sync_engine

    def dbapi(conn: Connection) -> object:
        return conn.connection.dbapi_connection

    def executed(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        watch.executed(dbapi(conn), statement)

    def released(dbapi_connection: Any, *_args: Any) -> None:
        watch.released(dbapi_connection)

    event.listen(sync, "after_cursor_execute", executed)
    event.listen(sync, "commit", lambda conn: watch.committing(dbapi(conn)))
    event.listen(sync, "rollback", lambda conn: watch.rolling_back(dbapi(conn)))
    for released_at in ("checkin", "invalidate", "soft_invalidate", "close", "close_detached"):
        event.listen(sync.pool, released_at, released)


__all__ = ["DeclarativeBase", "MockDatabase", "open_mock_database"]
