"""The client cache holds rights for its TTL only, reads each client once at a time, and stays
bounded."""

from __future__ import annotations

import asyncio
import gc

import pytest

from lgsp.auth import client_cache
from lgsp.auth.client_cache import ClientCache, ClientSnapshot
from tests.fixtures.clocks import Clock

SNAPSHOT = ClientSnapshot(is_admin=False, rights={"dancu": "*"}, revoked=False)


def test_cached_snapshot_is_served_until_the_ttl_passes() -> None:
    clock = Clock(100.0)
    cache = ClientCache(ttl_seconds=2, clock=clock)
    cache.put("kiengiang", "c1", SNAPSHOT)

    clock.now += 1.9
    fresh = cache.get("kiengiang", "c1")
    clock.now += 0.2
    stale = cache.get("kiengiang", "c1")

    assert fresh == (True, SNAPSHOT)
    assert stale == (False, None)


def test_unknown_client_is_cached_as_a_hit_with_no_snapshot() -> None:
    cache = ClientCache(ttl_seconds=2, clock=Clock(100.0))
    cache.put("kiengiang", "ghost", None)

    assert cache.get("kiengiang", "ghost") == (True, None)
    assert cache.get("tiengiang", "ghost") == (False, None)


def test_zero_ttl_caches_nothing() -> None:
    cache = ClientCache(ttl_seconds=0, clock=Clock(100.0))
    cache.put("kiengiang", "c1", SNAPSHOT)

    assert cache.get("kiengiang", "c1") == (False, None)


def test_cache_evicts_the_oldest_beyond_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_cache, "MAX_ENTRIES", 3)
    cache = ClientCache(ttl_seconds=60, clock=Clock(100.0))
    for n in range(4):
        cache.put("kiengiang", f"c{n}", SNAPSHOT)

    assert cache.get("kiengiang", "c0") == (False, None)
    assert cache.get("kiengiang", "c3") == (True, SNAPSHOT)


class SlowLoader:
    """A database read that takes a while, counting how often it is made."""

    def __init__(self, answer: ClientSnapshot | None = SNAPSHOT) -> None:
        self.calls = 0
        self.answer = answer
        self.release = asyncio.Event()

    async def __call__(self) -> ClientSnapshot | None:
        self.calls += 1
        await self.release.wait()
        return self.answer


@pytest.mark.anyio
async def test_concurrent_misses_share_one_read_and_cache_its_answer() -> None:
    cache = ClientCache(ttl_seconds=2, clock=Clock(100.0))
    load = SlowLoader()

    waiting = [asyncio.create_task(cache.get_or_load("kiengiang", "c1", load)) for _ in range(32)]
    await asyncio.sleep(0)
    load.release.set()
    answers = await asyncio.gather(*waiting)

    assert load.calls == 1
    assert answers == [SNAPSHOT] * 32
    assert cache.get("kiengiang", "c1") == (True, SNAPSHOT)


@pytest.mark.anyio
async def test_a_caller_that_goes_away_does_not_cancel_the_read_others_wait_for() -> None:
    cache = ClientCache(ttl_seconds=2, clock=Clock(100.0))
    load = SlowLoader()
    leaving = asyncio.create_task(cache.get_or_load("kiengiang", "c1", load))
    staying = asyncio.create_task(cache.get_or_load("kiengiang", "c1", load))
    await asyncio.sleep(0)

    leaving.cancel()
    load.release.set()

    assert await staying == SNAPSHOT
    assert leaving.cancelled()
    assert load.calls == 1


@pytest.mark.anyio
async def test_a_failed_read_fails_its_waiters_and_the_next_call_reads_again() -> None:
    cache = ClientCache(ttl_seconds=2, clock=Clock(100.0))

    async def broken() -> ClientSnapshot | None:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        await cache.get_or_load("kiengiang", "c1", broken)
    load = SlowLoader()
    load.release.set()

    assert await cache.get_or_load("kiengiang", "c1", load) == SNAPSHOT
    assert load.calls == 1


@pytest.mark.anyio
async def test_with_caching_off_every_call_reads_for_itself() -> None:
    cache = ClientCache(ttl_seconds=0, clock=Clock(100.0))
    load = SlowLoader()
    load.release.set()

    await asyncio.gather(*(cache.get_or_load("kiengiang", "c1", load) for _ in range(3)))

    assert load.calls == 3


@pytest.mark.anyio
async def test_a_read_that_fails_after_every_caller_left_is_not_reported_as_unretrieved() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        cache = ClientCache(ttl_seconds=2, clock=Clock(100.0))
        release = asyncio.Event()

        async def failing() -> ClientSnapshot | None:
            await release.wait()
            raise ConnectionError("database away")

        waiters = [asyncio.create_task(cache.get_or_load("kiengiang", "c1", failing))]
        waiters.append(asyncio.create_task(cache.get_or_load("kiengiang", "c1", failing)))
        await asyncio.sleep(0)
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        release.set()
        for _ in range(3):
            await asyncio.sleep(0)
        del waiters
        gc.collect()

        assert reported == []
        load = SlowLoader()
        load.release.set()
        assert await cache.get_or_load("kiengiang", "c1", load) == SNAPSHOT
    finally:
        loop.set_exception_handler(previous)
