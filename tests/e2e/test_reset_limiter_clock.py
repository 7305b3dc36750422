"""`POST {base}/admin/reset` gives the bus new token buckets on the bus's own clock, as at start:
a test that holds `bus.clock` still holds its rate limits still after a reset."""

from __future__ import annotations

import httpx
import pytest

from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_reset import reset
from tests.fixtures.clocks import Clock, WatchedClock
from tests.security.test_verify_rate import verify as verify_claim

pytestmark = pytest.mark.anyio


async def verify(client: httpx.AsyncClient, token: str) -> int:
    return (await verify_claim(client, token)).status_code


async def test_the_limiter_after_a_reset_reads_the_bus_clock(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus_clock: WatchedClock
) -> None:
    await reset(client, demo_token)

    burst = [await verify(client, demo_token) for _ in range(settings.verify_rate_burst)]
    refused = await verify(client, demo_token)
    bus_clock.now += 60 / settings.verify_rate_per_minute  # one guess's worth, on the bus's clock
    refilled = await verify(client, demo_token)

    assert burst == [200] * settings.verify_rate_burst
    assert (refused, refilled) == (429, 200)


async def test_the_limiter_follows_a_clock_put_in_after_it_was_built(bus: BusState) -> None:
    """At start too: the bus builds its limiter before any test can put its clock in."""
    limiter = bus.new_rate_limiter()
    held = Clock(5.0)
    bus.clock, kept = held, bus.clock
    try:
        assert limiter._clock() == 5.0
    finally:
        bus.clock = kept
