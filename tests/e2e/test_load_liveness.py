"""Under concurrent load with nothing cached, every call is answered: no pool starvation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from lgsp.composition import create_bus
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.apps import serving
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, fetch_token

pytestmark = pytest.mark.anyio

CONCURRENT_CALLS = 64
"""More than the engine's pool (5 + 10 overflow) can hold at once."""
LIVENESS_BOUND_SECONDS = 25.0
"""Below the pool's 30 s checkout timeout: a starved pool shows as this bound being hit."""


@pytest.fixture
async def uncached_client(fresh_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Rights and the token deny-list read from the database on every call."""
    app = create_bus(
        fresh_settings.model_copy(update={"client_cache_seconds": 0.0}), instances=["kiengiang"]
    )
    async with serving(app, TEST_PUBLIC_URL, raise_app_exceptions=False) as http:
        yield http


async def test_concurrent_calls_beyond_the_pool_size_are_all_answered(
    uncached_client: httpx.AsyncClient, fresh_settings: Settings
) -> None:
    token = await fetch_token(uncached_client)
    cccd = generate_citizens(province_code="91", seed=fresh_settings.seed, count=1)[0].so_dinh_danh

    async def call() -> int:
        response = await uncached_client.get(
            f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(token)
        )
        return response.status_code

    async with asyncio.timeout(LIVENESS_BOUND_SECONDS):
        statuses = await asyncio.gather(*(call() for _ in range(CONCURRENT_CALLS)))

    assert statuses == [200] * CONCURRENT_CALLS
