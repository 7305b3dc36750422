"""What the tests of the mock systems share: a stand-in for the bus that takes hand-overs, and
a database of the test's own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.fixtures.handovers import HandoverBus


@pytest.fixture
def handovers() -> HandoverBus:
    """The bus's store-and-forward as a mock meets it: records each hand-over, answers 202."""
    return HandoverBus()


@pytest.fixture(name="db_url")
def fx_db_url(database_url: str, engine: AsyncEngine) -> str:
    """The test's database, emptied first (the `engine` fixture wipes PostgreSQL)."""
    return database_url


@pytest.fixture(name="sqlite_url")
def fx_sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of the test's own: for what is refused before any SQL, or needs no server."""
    return f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}"
