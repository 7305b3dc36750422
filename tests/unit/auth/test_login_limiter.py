"""Failed logins are limited per client and, more loosely, per address, in a sliding window."""

from __future__ import annotations

from lgsp.auth.login_limiter import ADDRESS_FACTOR, LoginLimiter
from tests.fixtures.clocks import Clock


def test_client_is_blocked_after_max_failures_until_the_window_slides() -> None:
    clock = Clock(1000.0)
    limiter = LoginLimiter(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(3):
        assert limiter.retry_after(client="c", address="a") == 0
        limiter.record_failure(client="c", address="a")
        clock.now += 1

    blocked = limiter.retry_after(client="c", address="a")
    other_client = limiter.retry_after(client="d", address="a")
    clock.now += 57
    freed = limiter.retry_after(client="c", address="a")

    assert blocked == 57  # the oldest failure (at t=0, now t=3) leaves the window at t=60
    assert other_client == 0
    assert freed == 0


def test_address_is_blocked_after_many_clients_fail_from_it() -> None:
    limiter = LoginLimiter(max_failures=2, window_seconds=60, clock=Clock(1000.0))
    for n in range(2 * ADDRESS_FACTOR):
        limiter.record_failure(client=f"c{n}", address="10.0.0.9")

    assert limiter.retry_after(client="fresh", address="10.0.0.9") > 0
    assert limiter.retry_after(client="fresh", address="10.0.0.8") == 0


def test_zero_means_no_limit() -> None:
    limiter = LoginLimiter(max_failures=0, window_seconds=60, clock=Clock(1000.0))
    for _ in range(100):
        limiter.record_failure(client="c", address="a")

    assert limiter.retry_after(client="c", address="a") == 0


def test_a_client_failing_from_one_address_is_not_blocked_from_another() -> None:
    """Naming a victim's id with wrong secrets must not lock the victim out (issue 15, F6)."""
    limiter = LoginLimiter(max_failures=2, window_seconds=60, clock=Clock(1000.0))
    for _ in range(2):
        limiter.record_failure(client="victim", address="attacker")

    assert limiter.retry_after(client="victim", address="attacker") > 0
    assert limiter.retry_after(client="victim", address="victim's own") == 0
