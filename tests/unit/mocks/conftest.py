"""What the tests of the mock systems share: a stand-in for the bus that takes hand-overs, and
an engine on the test's database (`db_url`, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from kit.db import make_engine
from tests.fixtures.handovers import HandoverBus


@pytest.fixture
def handovers() -> HandoverBus:
    """The bus's store-and-forward as a mock meets it: records each hand-over, answers 202."""
    return HandoverBus()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database (`db_url`), for reading what a mock wrote there: the
    suite's `engine`, which creates the bus's tables, has nothing to do with a mock's."""
    engine = make_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture(name="sqlite_url")
def fx_sqlite_url(tmp_path: Path) -> str:
    """A SQLite file of the test's own: for what is refused before any SQL, or needs no server."""
    return f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}"
