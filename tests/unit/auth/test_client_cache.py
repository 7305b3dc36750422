"""The client cache holds rights for its TTL only, and stays bounded."""

from __future__ import annotations

import pytest

from lgsp.auth import client_cache
from lgsp.auth.client_cache import ClientCache, ClientSnapshot

SNAPSHOT = ClientSnapshot(is_admin=False, rights={"dancu": "*"}, revoked=False)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_cached_snapshot_is_served_until_the_ttl_passes() -> None:
    clock = Clock()
    cache = ClientCache(ttl_seconds=2, clock=clock)
    cache.put("kiengiang", "c1", SNAPSHOT)

    clock.now += 1.9
    fresh = cache.get("kiengiang", "c1")
    clock.now += 0.2
    stale = cache.get("kiengiang", "c1")

    assert fresh == (True, SNAPSHOT)
    assert stale == (False, None)


def test_unknown_client_is_cached_as_a_hit_with_no_snapshot() -> None:
    cache = ClientCache(ttl_seconds=2, clock=Clock())
    cache.put("kiengiang", "ghost", None)

    assert cache.get("kiengiang", "ghost") == (True, None)
    assert cache.get("tiengiang", "ghost") == (False, None)


def test_zero_ttl_caches_nothing() -> None:
    cache = ClientCache(ttl_seconds=0, clock=Clock())
    cache.put("kiengiang", "c1", SNAPSHOT)

    assert cache.get("kiengiang", "c1") == (False, None)


def test_cache_evicts_the_oldest_beyond_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_cache, "MAX_ENTRIES", 3)
    cache = ClientCache(ttl_seconds=60, clock=Clock())
    for n in range(4):
        cache.put("kiengiang", f"c{n}", SNAPSHOT)

    assert cache.get("kiengiang", "c0") == (False, None)
    assert cache.get("kiengiang", "c3") == (True, SNAPSHOT)
