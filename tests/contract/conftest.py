"""One bus per database for the whole contract tier, served from an event loop of its own.

Starting a bus per operation would cost more than the fuzzing on a 2-core machine (issue 5 asks
for a fixed budget). The bus runs in a blocking portal's thread, as a server would, so the tests
stay synchronous and hypothesis draws and shrinks cases as in any other property test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from lgsp.composition import create_bus
from lgsp.settings import Settings
from tests.contract.harness import NDXP, Bus
from tests.fixtures.apps import serving
from tests.fixtures.bus import KG, TEST_INSTANCES, TEST_PUBLIC_URL, fetch_token
from tests.fixtures.database import (
    CONTRACT_SCHEMA,
    database_url_for,
    hold_schema,
    wipe_postgresql_schema,
)


@pytest.fixture(scope="package", params=["sqlite", "postgresql"])
def contract_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """As `database_url`, once per package; on PostgreSQL a schema of the package's own
    (`CONTRACT_SCHEMA`: the modules' bus may be running on the run's), emptied first."""
    directory = tmp_path_factory.mktemp("contract")
    url = database_url_for(request.param, directory, schema=CONTRACT_SCHEMA)
    if request.param == "postgresql":
        wipe_postgresql_schema(CONTRACT_SCHEMA)
    return url


@pytest.fixture(scope="package")
def contract_settings(
    contract_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The settings of `tests/fixtures/bus.py` (seed 7, a small population, era 2024)."""
    with pytest.MonkeyPatch.context() as env:  # `clean_environ` is per test; this outlives one
        for name in [n for n in os.environ if n.startswith("LGSP_")]:
            env.delenv(name)
        return Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=contract_database_url,
            data_dir=Path(tmp_path_factory.mktemp("data")),
            public_url=TEST_PUBLIC_URL,
            population=40,
            seed=7,
            era="2024",
            journal_wait_max_seconds=0.05,  # generated waits ask up to 60 s each
        )


@asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    application = create_bus(settings, instances=TEST_INSTANCES)
    hold_schema(settings.resolved_database_url, held=True)  # no wipe while it runs
    try:
        async with serving(application, TEST_PUBLIC_URL, raise_app_exceptions=False) as http:
            yield http, {base: await fetch_token(http, base) for base in (KG, NDXP)}
    finally:
        hold_schema(settings.resolved_database_url, held=False)


@pytest.fixture(scope="package")
def contract_bus(contract_settings: Settings) -> Iterator[Bus]:
    """The bus with three instances and the demo client's token at KG and NDXP."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_running(contract_settings)) as (http, tokens),
    ):
        yield Bus(portal=portal, http=http, tokens=tokens)
