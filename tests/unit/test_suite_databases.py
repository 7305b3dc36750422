"""The suite's own PostgreSQL schemas (tests/fixtures/database.py): a test that empties one
never does so under a running bus, which would fail a later test reusing that bus with no word
of why (NDXP refusing a province's credentials: its clients were wiped with the schema)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
