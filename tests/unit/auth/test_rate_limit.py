"""Token buckets: a burst, then a refill at the rate; separate per client and service; bounded."""

from __future__ import annotations

import pytest

from lgsp.auth import rate_limit
from lgsp.auth.rate_limit import (
    ALL_SERVICES,
    RateLimit,
    RateLimiter,
    RateSpecError,
    limit_for,
    parse_rate,
    parse_rates,
)
from tests.fixtures.clocks import Clock


def test_a_burst_is_allowed_then_the_next_call_waits_for_the_refill() -> None:
    clock = Clock(100.0)
    limiter = RateLimiter(clock=clock)
    limit = RateLimit(per_second=0.5, burst=3)

    allowed = [limiter.acquire("kg", "c1", "dancu", limit) for _ in range(3)]
    refused = limiter.acquire("kg", "c1", "dancu", limit)
    clock.now += 2.0  # one call's worth at 0.5/s
    after_refill = limiter.acquire("kg", "c1", "dancu", limit)
    again = limiter.acquire("kg", "c1", "dancu", limit)

    assert allowed == [0, 0, 0]
    assert refused == 2
    assert after_refill == 0
    assert again >= 1


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    limiter = RateLimiter(clock=Clock(100.0))
    limit = RateLimit(per_second=100.0, burst=1)

    limiter.acquire("kg", "c1", "dancu", limit)

    assert limiter.acquire("kg", "c1", "dancu", limit) == 1


def test_buckets_are_separate_per_instance_client_and_service() -> None:
    limiter = RateLimiter(clock=Clock(100.0))
    limit = RateLimit(per_second=0.1, burst=1)
    limiter.acquire("kg", "c1", "dancu", limit)

    assert limiter.acquire("kg", "c1", "dancu", limit) > 0
    assert limiter.acquire("kg", "c1", "dvc", limit) == 0
    assert limiter.acquire("kg", "c2", "dancu", limit) == 0
    assert limiter.acquire("tg", "c1", "dancu", limit) == 0


def test_a_rate_of_zero_never_limits_and_keeps_no_bucket() -> None:
    limiter = RateLimiter(clock=Clock(100.0))

    results = {limiter.acquire("kg", "c1", "dancu", RateLimit(0)) for _ in range(1000)}

    assert results == {0}
    assert len(limiter) == 0


def test_burst_zero_means_one_seconds_worth() -> None:
    assert RateLimit(per_second=20).capacity == 20
    assert RateLimit(per_second=0.2).capacity == 1
    assert RateLimit(per_second=20, burst=5).capacity == 5


def test_buckets_stay_bounded_by_evicting_the_least_recently_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rate_limit, "MAX_BUCKETS", 3)
    limiter = RateLimiter(clock=Clock(100.0))
    limit = RateLimit(per_second=0.1, burst=1)

    for client in ("a", "b", "c", "d", "e"):
        limiter.acquire("kg", client, "dancu", limit)

    assert len(limiter) == 3
    assert limiter.acquire("kg", "e", "dancu", limit) > 0  # the newest bucket is kept


@pytest.mark.parametrize(
    ("spec", "service", "per_second", "burst"),
    [
        ("20/s", ALL_SERVICES, 20.0, 0),
        ("600/m,burst=50", ALL_SERVICES, 10.0, 50),
        ("dancu=5/s", "dancu", 5.0, 0),
        ("dvc=3600/h,burst=2", "dvc", 1.0, 2),
        ("0.5/s", ALL_SERVICES, 0.5, 0),
    ],
)
def test_rate_specs_are_read(spec: str, service: str, per_second: float, burst: int) -> None:
    assert parse_rate(spec) == (service, RateLimit(per_second, burst))


@pytest.mark.parametrize("spec", ["", "20", "20/d", "0/s", "-1/s", "x=1/s=2", "20/s,burst=x"])
def test_bad_rate_specs_are_refused(spec: str) -> None:
    with pytest.raises(RateSpecError):
        parse_rate(spec)


def test_a_rate_for_an_unknown_service_is_refused() -> None:
    with pytest.raises(RateSpecError, match="nosuch"):
        parse_rates(["nosuch=1/s"], known_services={"dancu"})


def test_the_service_rate_wins_over_the_client_rate_over_the_default() -> None:
    default = RateLimit(100)
    overrides = {ALL_SERVICES: RateLimit(10), "dancu": RateLimit(1)}

    assert limit_for(overrides, "dancu", default=default) == RateLimit(1)
    assert limit_for(overrides, "dvc", default=default) == RateLimit(10)
    assert limit_for({}, "dvc", default=default) == default
