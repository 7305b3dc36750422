"""Fixtures shared by every tier: the async backend, a clean environment, and databases.

The `engine` fixture is parametrised over SQLite and PostgreSQL. The PostgreSQL case runs when
`LGSP_TEST_DATABASE_URL` points to a server (`.ci/run` sets it when one answers) and is otherwise
skipped with a reason that `-rs` prints, so it is never silently left out.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.db import Base, make_engine
from lgsp.settings import Settings

pytest_plugins = ["tests.fixtures.bus"]

# Read before `clean_environ` hides every LGSP_* variable from the code under test.
TEST_DATABASE_URL = os.environ.get("LGSP_TEST_DATABASE_URL", "")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell must not leak LGSP_* settings into a test run."""
    for name in list(os.environ):
        if name.startswith("LGSP_"):
            monkeypatch.delenv(name)


# Each test session works in a schema of its own, so that two runs on one server (a developer's
# and CI's) never drop each other's tables.
TEST_SCHEMA = f"lgsp_test_{os.getpid()}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'lgsp.db'}"
    if not TEST_DATABASE_URL:
        pytest.skip("LGSP_TEST_DATABASE_URL is not set: the PostgreSQL case needs a server")
    url = make_url(Settings(database_url=TEST_DATABASE_URL).database_url or "")
    # libpq `options`: every connection of the app, its mocks and its subprocesses uses it.
    return url.update_query_dict({"options": f"-csearch_path={TEST_SCHEMA}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(scope="session", autouse=True)
def drop_test_schema() -> Iterator[None]:
    """Leave the shared server as it was found."""
    yield
    if TEST_DATABASE_URL:
        import psycopg

        dsn = make_url(TEST_DATABASE_URL).set(drivername="postgresql").render_as_string(False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A database with every table freshly created; PostgreSQL is wiped first.

    Wiping drops this session's schema, the mocks' tables included, so no test sees another's
    rows. SQLite needs nothing: each test has its own file.
    """
    import lgsp.models  # noqa: F401 - registers every table

    engine = make_engine(database_url)
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {TEST_SCHEMA} CASCADE"))
            await conn.execute(text(f"CREATE SCHEMA {TEST_SCHEMA}"))
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()
