"""The one engine factory and the column types every database of ours uses.

SQLite (the embedded default) needs SQLAlchemy's event-hook recipe on Python 3.11: the driver's
legacy transaction control otherwise breaks SAVEPOINTs (SQLAlchemy `dialects/sqlite/base.py`,
"Serializable isolation / Savepoints / Transactional DDL"). Write transactions that must not
interleave across processes (the audit chain) ask for `BEGIN IMMEDIATE` with the execution option
`sqlite_begin="IMMEDIATE"`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event, inspect, text
from sqlalchemy.engine import Connection, Dialect, RowMapping, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.dialects import postgresql, sqlite

logger = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def named_metadata() -> MetaData:
    """A `MetaData` with stable constraint names: one per database schema of ours."""
    return MetaData(naming_convention=NAMING_CONVENTION)


def conflict_insert(
    dialect: str,
) -> Callable[[Any], postgresql.Insert | sqlite.Insert]:
    """The dialect's INSERT that takes `ON CONFLICT`: PostgreSQL's, else SQLite's.

    Imported when asked: the PostgreSQL dialect brings its drivers' modules, a cost every start
    of a bus on SQLite paid for nothing (issue 20 item 8).
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


BigId = BigInteger().with_variant(Integer(), "sqlite")
MAX_BIGINT = 2**63 - 1
"""The largest id or sequence number a BIGINT holds: a larger one in a query is an error of
PostgreSQL's driver, so a route bounds its parameters with it (a 422, not a 500)."""
"""A 64-bit surrogate key; SQLite only auto-increments a column declared INTEGER PRIMARY KEY."""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC that reads back aware, on SQLite as on PostgreSQL.

    SQLite's DATETIME keeps no offset and returns naive values, PostgreSQL returns the
    session's time zone: storing UTC and reattaching it on read keeps every instant exact (the
    audit chain hashes them). Naive values are refused: their instant is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("refusing a naive datetime: its instant is ambiguous")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""`LGSP_SQLITE_BUSY_TIMEOUT_SECONDS`' default, for engines made without settings (mocks, tests)."""


def _into_wal(cursor: Any, *, deadline: float) -> None:
    """`PRAGMA journal_mode=WAL`, tried again while the file is locked: on a new file the
    switch takes an exclusive lock, and SQLite answers "database is locked" at once, without
    its busy timeout, to connections of processes starting together (seen once in four fresh
    runs of tests/unit/test_db.py's six engines)."""
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as error:  # the driver's OperationalError, through aiosqlite's adapter
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def application_name() -> str:
    """How this process's PostgreSQL sessions are named (`pg_stat_activity`), unless the URL
    names them: a lock's holder then says which process it is."""
    return f"lgsp pid {os.getpid()}"


def make_engine(
    url: str, *, sqlite_busy_timeout: float = SQLITE_BUSY_TIMEOUT_SECONDS, **kwargs: Any
) -> AsyncEngine:
    """Create the engine; for SQLite, create the file's folder and apply the recipe plus WAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql" and "application_name" not in parsed.query:
            named = {"application_name": application_name()}
            connect_args = {**named, **kwargs.pop("connect_args", {})}
            kwargs["connect_args"] = connect_args
        return create_async_engine(url, pool_pre_ping=True, **kwargs)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": sqlite_busy_timeout}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy, not the driver, emit BEGIN
        cursor = dbapi_connection.cursor()
        _into_wal(cursor, deadline=time.monotonic() + sqlite_busy_timeout)
        cursor.execute("PRAGMA synchronous=FULL")  # a committed audit record survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


SCHEMA_LOCK_ID = 0x4C475350  # "LGSP": one advisory lock for every process creating tables
_LOCK_KEY = "(:id, hashtext(coalesce(current_schema(), '')))"
TRY_ADVISORY_LOCK = text(f"SELECT pg_try_advisory_xact_lock{_LOCK_KEY}")
"""PostgreSQL's advisory locks are the whole database's: keyed by the schema too, processes
sharing a schema take turns, while buses on other schemas of one database (the test suite's
workers, the pytest plugin's sessions) never wait on each other's start-up. No schema yet (a
`search_path` naming none that exists): one key, and `create_all` says what is missing."""
_ADVISORY_LOCK = text(f"SELECT pg_advisory_xact_lock{_LOCK_KEY}")
_LOCK_TIMEOUT = text("SELECT set_config('lock_timeout', :value, true)")
_CURRENT_LOCK_TIMEOUT = text("SELECT current_setting('lock_timeout')")
_LOCK_NOT_AVAILABLE = "55P03"  # SQLSTATE of a wait cut short by lock_timeout
_LOCK_HOLDER = text(
    """
    SELECT a.pid, a.xact_start, a.application_name, a.state, a.wait_event_type, a.wait_event,
           extract(epoch FROM clock_timestamp() - a.xact_start)::int AS seconds,
           left(a.query, 300) AS query
    FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = CAST(:id AS oid)
      AND l.objid = CAST(hashtext(coalesce(current_schema(), '')) AS oid)
    """
)
ADVISORY_LOCK_WAIT_SECONDS = 30.0
"""How long one holder may keep a start-up waiting for its turn at creating tables or
provisioning (assigned): a turn takes well under a second. Past it the start fails naming the
lock's holder, instead of waiting for ever on a session left open (a test tier's buses once all
timed out together, with nothing saying what they waited for). The turns of other processes
queued ahead add up to no limit: a slow but healthy first start of many workers is no failure."""
_LOCK_REPORT_AFTER_SECONDS = 5.0


class LockWaitTimeout(Exception):
    """An advisory lock another session held for too long; the message names that session."""


async def hold_advisory_lock(conn: AsyncConnection, lock_id: int, *, purpose: str) -> None:
    """Take the advisory lock `lock_id` of the connection's schema until its transaction ends
    (PostgreSQL only), failing once one holder has kept it `ADVISORY_LOCK_WAIT_SECONDS`.

    Waited for in the server, whose queue serves the waiters in turn (a process asking again
    and again lost each turn to one that let the lock go and took it back at once, measured
    2.85-3.86 s against 0.08 s), in slices bounded by `lock_timeout`: after each one the wait
    says who holds the lock, and fails only if the same transaction held it all along. Each
    slice runs in a savepoint, since a lock timeout aborts the transaction it happens in.
    """
    if (await conn.execute(TRY_ADVISORY_LOCK, {"id": lock_id})).scalar_one():
        return  # free and nobody queued for it (a try that conflicts with a waiter fails)
    limit = ADVISORY_LOCK_WAIT_SECONDS
    started = time.monotonic()
    slice_seconds = min(_LOCK_REPORT_AFTER_SECONDS, limit / 2)
    restore = str((await conn.execute(_CURRENT_LOCK_TIMEOUT)).scalar_one())
    holder: tuple[Any, ...] | None = None  # (pid, transaction start): one transaction
    deadline = 0.0  # when that holder will have kept the lock for the whole limit
    while True:
        wait = slice_seconds if holder is None else min(slice_seconds, deadline - time.monotonic())
        if await _wait_in_server(conn, lock_id, seconds=wait, restore=restore):
            return
        row = await _lock_holder_row(conn, lock_id)
        seen = None if row is None else (row["pid"], row["xact_start"])
        if seen != holder:
            holder, deadline = seen, time.monotonic() + limit
        elif holder is not None and time.monotonic() >= deadline:
            raise LockWaitTimeout(
                f"waited {time.monotonic() - started:.0f} s for the lock on {purpose} in schema "
                f"{await _schema(conn)}, held by {_describe(row)}"
            )
        logger.warning("still waiting for the lock on %s, held by %s", purpose, _describe(row))


async def _wait_in_server(
    conn: AsyncConnection, lock_id: int, *, seconds: float, restore: str
) -> bool:
    """Queue for the lock at most `seconds`: whether it was granted. The savepoint undoes the
    aborted statement; `restore` puts back the transaction's own lock timeout once granted."""
    try:
        async with conn.begin_nested():
            await conn.execute(_LOCK_TIMEOUT, {"value": f"{max(1, round(seconds * 1000))}ms"})
            await conn.execute(_ADVISORY_LOCK, {"id": lock_id})
            await conn.execute(_LOCK_TIMEOUT, {"value": restore})
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        return False
    return True


async def _lock_holder_row(conn: AsyncConnection, lock_id: int) -> RowMapping | None:
    """The lock's holder as `pg_stat_activity` sees it, or None if it has let it go since."""
    return (await conn.execute(_LOCK_HOLDER, {"id": lock_id})).mappings().first()


def _describe(row: RowMapping | None) -> str:
    """Who holds the lock: what a stuck start-up must say."""
    if row is None:
        return "a session that has let it go since"
    kind, event = row["wait_event_type"], row["wait_event"]
    waiting = f", waiting on {kind}/{event}" if row["state"] == "active" and kind else ""
    return (
        f"server process {row['pid']} ({row['application_name'] or 'no application name'}), "
        f"{row['state']}{waiting}, its transaction begun {row['seconds'] or 0} s ago; "
        f"its last statement: {row['query']!r}"
    )


async def _schema(conn: AsyncConnection) -> str:
    return str((await conn.execute(text("SELECT current_schema()"))).scalar_one())


async def create_tables(engine: AsyncEngine, metadata: MetaData) -> None:
    """`create_all`, one process at a time on PostgreSQL (`hold_advisory_lock`).

    Processes starting together on a fresh database (docker compose) would otherwise race to
    create the same tables and types, and all but one fail on a unique violation. On SQLite,
    `BEGIN IMMEDIATE` takes the write lock before the existence checks.
    """
    async with engine.connect() as conn:
        conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        async with conn.begin():
            if conn.dialect.name == "postgresql":
                await hold_advisory_lock(conn, SCHEMA_LOCK_ID, purpose="creating tables")
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(add_missing_columns, metadata)


class SchemaTooOld(Exception):
    """The database lacks a column that cannot be added in place; the message names it."""


def add_missing_columns(conn: Connection, metadata: MetaData) -> list[str]:
    """Add the nullable columns a newer version gave an existing table (`ALTER TABLE … ADD
    COLUMN`), so that a data directory kept across an upgrade keeps working and keeps its
    data; `table.column` of each one added. A missing NOT NULL column cannot be filled for the
    rows already there: SchemaTooOld, before any write can fail on it."""
    inspector = inspect(conn)
    added: list[str] = []
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            if not column.nullable:
                raise SchemaTooOld(
                    f"the database's table {table.name} has no column {column.name}, which a "
                    "newer version needs; start with a new data directory or database"
                )
            kind = column.type.compile(dialect=conn.dialect)
            preparer = conn.dialect.identifier_preparer
            conn.execute(
                text(
                    f"ALTER TABLE {preparer.format_table(table)} "
                    f"ADD COLUMN {preparer.format_column(column)} {kind}"
                )
            )
            added.append(f"{table.name}.{column.name}")
    return added
