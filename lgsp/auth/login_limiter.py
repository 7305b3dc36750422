"""Slows down secret guessing at the token endpoint: failed logins are limited per client id
from one address, and per address, as API managers do (WSO2 locks an account after repeated
failures).

Not per client id alone: then anyone who knows an id could lock its owner out by naming it
with wrong secrets (SECURITY-PROBE F6); the caller scopes the address to its instance, so that
failures at one instance lock nobody out of another.

The address's own limit would still lock out everyone behind one address (a NAT, a developer's
127.0.0.1) once someone there fails often enough (F6, shared addresses). So a client that
authenticated from an address within `KNOWN_FOR_SECONDS` is held to its own limit there only,
as a login service trusts a known device: exempting it takes its secret, and its own limit
still bounds guesses at it.

A sliding window per key, in memory: each worker process limits on its own, which is what a
test double needs (a real deployment would share the counters).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

MAX_KEYS = 50_000


ADDRESS_FACTOR = 10
"""An address may fail this many times more than one client: on a developer's machine every
client shares 127.0.0.1, and an integrator's suite tests bad secrets on purpose."""


KNOWN_FOR_SECONDS = 86_400.0
"""How long a client stays known at an address after it authenticated there (assigned)."""


class LoginLimiter:
    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_seconds
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._known: OrderedDict[str, float] = OrderedDict()
        """`client@address` → until when it is known there (`record_success`)."""

    def retry_after(self, *, client: str, address: str) -> int:
        """Seconds until this client from this address may try again; 0 when it may now."""
        if self._max <= 0:
            return 0
        now = self._clock()
        waits = [0.0]
        for key, limit in self._limits(client, address, now):
            failures = self._recent(key, now)
            if len(failures) >= limit:
                waits.append(failures[0] + self._window - now)
        return math.ceil(max(waits))

    def record_failure(self, *, client: str, address: str) -> None:
        if self._max <= 0:
            return
        now = self._clock()
        for key, limit in self._limits(client, address, now):
            failures = self._recent(key, now)
            failures.append(now)
            while len(failures) > limit:  # only the newest `limit` matter
                failures.popleft()
            self._failures[key] = failures
            self._failures.move_to_end(key)
        while len(self._failures) > MAX_KEYS:
            self._failures.popitem(last=False)

    def record_success(self, *, client: str, address: str) -> None:
        """The client authenticated from this address: known there from now on."""
        if self._max <= 0:
            return
        key = f"{client}@{address}"
        self._known[key] = self._clock() + KNOWN_FOR_SECONDS
        self._known.move_to_end(key)
        while len(self._known) > MAX_KEYS:
            self._known.popitem(last=False)

    def _limits(self, client: str, address: str, now: float) -> tuple[tuple[str, int], ...]:
        own = (f"client:{client}@{address}", self._max)
        if self._known.get(f"{client}@{address}", 0.0) > now:
            return (own,)
        return (own, (f"address:{address}", self._max * ADDRESS_FACTOR))

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        return failures
