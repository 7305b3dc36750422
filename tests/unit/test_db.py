"""The database helpers: creating the schema from processes that start together, and rows
built from dataclasses."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Engine, Integer, MetaData, Table, Text, create_engine, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

import kit.db
from kit.db import (
    SCHEMA_LOCK_ID,
    LockWaitTimeout,
    SchemaTooOld,
    add_missing_columns,
    application_name,
    hold_advisory_lock,
)
from lgsp.auth.provisioning import PROVISIONING_LOCK_ID, hold_provisioning_lock
from lgsp.db import make_engine, make_session_factory, row_values
from lgsp.models import create_schema
from lgsp.testing._database import execute
from tests.fixtures.audit import audit_entry, journal_entry
from tests.fixtures.database import (
    TEST_DATABASE_URL,
    TEST_SCHEMA,
    database_url_for,
    wipe_postgresql_schema,
)

pytestmark = pytest.mark.anyio

STARTING_TOGETHER = 6


async def test_processes_starting_together_on_a_fresh_database_all_create_the_schema(
    db_url: str,
) -> None:
    engines = [make_engine(db_url) for _ in range(STARTING_TOGETHER)]
    try:
        await asyncio.gather(*(create_schema(engine) for engine in engines))

        async with engines[0].connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert {"audit_records", "api_clients", "outbox_messages"} <= set(tables)
    finally:
        for engine in engines:
            await engine.dispose()


ROWS = [
    audit_entry(),
    journal_entry(request_body='{"hoVaTen": "N*** V** A*"}', response_truncated=True),
]


@pytest.mark.parametrize("record", ROWS, ids=lambda record: type(record).__name__)
def test_row_values_are_the_dataclass_fields_as_asdict_gives_them(record: Any) -> None:
    values = row_values(record)

    assert values == asdict(record)
    assert list(values) == list(asdict(record))


def old_and_new_tables(*extra: Column[Any]) -> tuple[Engine, MetaData]:
    """An in-memory database whose table `t` an older version made with `id` and `a` only,
    and the newer version's metadata, with `extra` columns."""
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)"))
        conn.execute(text("INSERT INTO t (id, a) VALUES (1, 'kept')"))
    metadata = MetaData()
    Table("t", metadata, Column("id", Integer, primary_key=True), Column("a", Text), *extra)
    return engine, metadata


def test_a_nullable_column_of_a_newer_version_is_added_and_the_rows_kept() -> None:
    engine, metadata = old_and_new_tables(Column("notes", Text, nullable=True))

    with engine.begin() as conn:
        added = add_missing_columns(conn, metadata)
        again = add_missing_columns(conn, metadata)
        rows = conn.execute(text("SELECT id, a, notes FROM t")).all()

    assert (added, again) == (["t.notes"], [])
    assert [tuple(row) for row in rows] == [(1, "kept", None)]


def test_a_missing_not_null_column_stops_the_start_naming_it() -> None:
    engine, metadata = old_and_new_tables(Column("hop", Text, nullable=False))

    with engine.begin() as conn, pytest.raises(SchemaTooOld, match="table t has no column hop"):
        add_missing_columns(conn, metadata)


@pytest.mark.postgresql
async def test_a_bus_creating_its_tables_waits_for_no_bus_of_another_schema(
    tmp_path: Path,
) -> None:
    """PostgreSQL's advisory locks span the database: keyed by the lock id alone, one bus
    stuck while creating its tables held up every other schema's start-up (three buses of the
    PostgreSQL tier timed out together at 60 s)."""
    schemas = [f"{TEST_SCHEMA}_lock_{n}" for n in (1, 2)]
    for schema in schemas:
        wipe_postgresql_schema(schema)
    holder, creator = (
        make_engine(database_url_for("postgresql", tmp_path, schema=s)) for s in schemas
    )
    try:
        async with holder.connect() as conn, conn.begin():
            await hold_advisory_lock(conn, SCHEMA_LOCK_ID, purpose="test")  # a bus mid-creation

            await asyncio.wait_for(create_schema(creator), timeout=30)

        async with creator.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert "audit_records" in tables
    finally:
        await holder.dispose()
        await creator.dispose()
        execute(TEST_DATABASE_URL, *(f"DROP SCHEMA IF EXISTS {s} CASCADE" for s in schemas))


async def _provision(engine: AsyncEngine) -> None:
    async with make_session_factory(engine).begin() as session:
        await hold_provisioning_lock(session)


STARTING_STEPS: dict[str, tuple[int, Callable[[AsyncEngine], Awaitable[None]]]] = {
    "creating tables": (SCHEMA_LOCK_ID, create_schema),
    "provisioning clients": (PROVISIONING_LOCK_ID, _provision),
}


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("step", list(STARTING_STEPS))
async def test_a_start_kept_waiting_for_a_lock_fails_naming_the_session_that_holds_it(
    db_url: str, step: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A session left open holding a start-up lock (idle in transaction) stopped every bus of
    its schema for good, and the PostgreSQL tier's buses timed out at 60 s saying nothing of
    what they waited for: the wait is bounded, and the failure names the holder."""
    monkeypatch.setattr(kit.db, "ADVISORY_LOCK_WAIT_SECONDS", 1.0)
    lock_id, start = STARTING_STEPS[step]
    holder, starting = make_engine(db_url), make_engine(db_url)
    try:
        async with holder.connect() as conn, conn.begin():
            await hold_advisory_lock(conn, lock_id, purpose="test")
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()

            with caplog.at_level(logging.WARNING, logger="kit.db"):
                with pytest.raises(LockWaitTimeout) as refused:
                    await asyncio.wait_for(start(starting), timeout=20)
    finally:
        await holder.dispose()
        await starting.dispose()

    message = str(refused.value)
    assert f"lock on {step} in schema {TEST_SCHEMA}" in message
    assert f"held by server process {pid} ({application_name()}), idle in transaction" in message
    assert "pg_backend_pid" in message  # the holder's last statement
    assert f"still waiting for the lock on {step}, held by server process {pid}" in caplog.text


TEST_LOCK_ID = 0x7E57  # no start-up's lock: the tests below hold it from several sessions
_QUEUED = text(
    """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
       AND classid = CAST(:id AS oid)
       AND objid = CAST(hashtext(coalesce(current_schema(), '')) AS oid)"""
)

_LOCK_IN_QUEUE = text("SELECT pg_advisory_xact_lock(:id, hashtext(coalesce(current_schema(), '')))")


async def _take_a_turn(engine: AsyncEngine, seconds: float, *, queue: bool = False) -> None:
    """What a start-up does with the lock: take it, work `seconds`, commit. `queue`: wait in
    the server's queue for it (bare `pg_advisory_xact_lock`), whatever `hold_advisory_lock`
    does."""
    async with engine.connect() as conn, conn.begin():
        if queue:
            await conn.execute(_LOCK_IN_QUEUE, {"id": TEST_LOCK_ID})
        else:
            await hold_advisory_lock(conn, TEST_LOCK_ID, purpose="test")
        await asyncio.sleep(seconds)


async def _until_queued(engine: AsyncEngine, sessions: int) -> None:
    async with engine.connect() as conn:
        while (await conn.execute(_QUEUED, {"id": TEST_LOCK_ID})).scalar_one() < sessions:
            await asyncio.sleep(0.01)
            await conn.commit()


async def _timed_turn(engine: AsyncEngine) -> float:
    started = time.monotonic()
    await asyncio.wait_for(_take_a_turn(engine, 0), timeout=20)
    return time.monotonic() - started


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_process_taking_the_lock_again_and_again_waits_its_turn_behind_a_waiter(
    db_url: str,
) -> None:
    """Asked for again and again, the lock went to the process that had just let it go (each
    process creates the tables of its instances and mocks one after another): a waiter was
    held back seconds by turns of 0.08 s. Waited for in the server, the waiter is next."""
    engine = make_engine(db_url)
    try:

        async def keep_taking_turns(until: float) -> None:
            while time.monotonic() < until:
                await _take_a_turn(engine, 0.05)

        taking = asyncio.create_task(keep_taking_turns(time.monotonic() + 4))
        await asyncio.sleep(0.2)
        waited = await _timed_turn(engine)
        await taking
    finally:
        await engine.dispose()

    assert waited < 1.0


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_start_waiting_behind_many_short_turns_outlasts_the_limit_of_one_holder(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is how long one holder may keep the lock: many workers starting together
    (`serve --workers N`, docker compose) each take their turn, and a start queued behind
    them all waited past it and failed."""
    monkeypatch.setattr(kit.db, "ADVISORY_LOCK_WAIT_SECONDS", 1.0)
    turns = 6
    engine = make_engine(db_url)
    try:
        queued = [asyncio.create_task(_take_a_turn(engine, 0.3, queue=True)) for _ in range(turns)]
        await _until_queued(engine, turns - 1)
        waited = await _timed_turn(engine)
        await asyncio.gather(*queued)
    finally:
        await engine.dispose()

    assert waited > kit.db.ADVISORY_LOCK_WAIT_SECONDS  # past the limit, behind short turns
