"""The suite's own PostgreSQL schemas (tests/fixtures/database.py): a test that empties one
never does so under a running bus, which would fail a later test reusing that bus with no word
of why (NDXP refusing a province's credentials: its clients were wiped with the schema)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from kit.db import application_name
from tests.fixtures.bus import BusPool, bus_settings
from tests.fixtures.database import CONTRACT_SCHEMA, TEST_SCHEMA, wipe_postgresql_schema

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def test_a_running_bus_s_schema_cannot_be_wiped_until_the_bus_stops(
    database_url: str, tmp_path: Path, bus_pool: BusPool
) -> None:
    await bus_pool.get(bus_settings(database_url, tmp_path))

    with pytest.raises(RuntimeError, match=f"A bus is running on schema {TEST_SCHEMA}"):
        wipe_postgresql_schema()
    wipe_postgresql_schema(CONTRACT_SCHEMA)  # the contract package's bus's: not this one's

    await bus_pool.close()
    wipe_postgresql_schema()


HELD_ADVISORY_LOCKS = text(
    """SELECT count(*) FROM pg_locks AS l JOIN pg_stat_activity AS a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND a.application_name = :name"""
)


async def test_a_new_module_bus_is_handed_over_with_no_start_up_work_left_to_stop_midway(
    database_url: str, tmp_path: Path, bus_pool: BusPool
) -> None:
    """The event loop runs only while an async test or fixture does: systems still opening
    when a module bus's first test ended stopped midway, a mock creating its tables holding
    its schema's start-up lock, idle in transaction, through every synchronous test after it
    (the watcher saw 11 s in a PostgreSQL-tier run); keyed by the lock id alone, it held up
    every worker's start-up, and three buses timed out together at 60 s."""
    await bus_pool.close()
    _, bus = await bus_pool.get(bus_settings(database_url, tmp_path))

    async with bus.engine.connect() as conn:
        held = (await conn.execute(HELD_ADVISORY_LOCKS, {"name": application_name()})).scalar()
    assert bus.systems_open()
    assert held == 0
