"""Creating the schema: processes that start together on a fresh database must all succeed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import inspect, text

from lgsp.db import create_schema, make_engine
from tests.conftest import TEST_SCHEMA

pytestmark = pytest.mark.anyio

STARTING_TOGETHER = 6


async def test_processes_starting_together_on_a_fresh_database_all_create_the_schema(
    database_url: str,
) -> None:
    engines = [make_engine(database_url) for _ in range(STARTING_TOGETHER)]
    try:
        async with engines[0].begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE"))
                await conn.execute(text(f"CREATE SCHEMA {TEST_SCHEMA}"))

        await asyncio.gather(*(create_schema(engine) for engine in engines))

        async with engines[0].connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        assert {"audit_records", "api_clients", "outbox_messages"} <= set(tables)
    finally:
        for engine in engines:
            await engine.dispose()
