"""Per-client call rates: a token bucket per (instance, client, service), as API managers do.

Each bucket holds up to `burst` calls and refills at `per_second`; a call that finds it empty is
refused with 429 and a `Retry-After` of the seconds until one call's worth has refilled. The
limit is the client's override for the service, else its override for every service (`*`),
else the bus default (`LGSP_RATE_LIMIT_PER_SECOND`, `LGSP_RATE_LIMIT_BURST`); a rate of 0 means
no limit.

The buckets live in memory, per process: N worker processes let a client through at N times the
rate, which a test double may accept (a real deployment would share them, e.g. in Redis).
Memory is bounded: past `MAX_BUCKETS` the least recently used bucket goes (a bucket idle long
enough to refill is the same as none, so evicting idle clients loses nothing).
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

MAX_BUCKETS = 50_000
ALL_SERVICES = "*"

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}
_SPEC = re.compile(
    r"^(?:(?P<service>[A-Za-z0-9._-]{1,64})=)?"
    r"(?P<count>\d+(?:\.\d+)?)/(?P<unit>[smh])(?:,burst=(?P<burst>\d+))?$"
)


class RateSpecError(ValueError):
    """A `--rate` argument the CLI cannot read."""


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    """Sustained calls per second; 0 means unlimited."""
    burst: int = 0
    """Calls allowed at once after an idle spell; 0 means one second's worth (at least 1)."""

    @property
    def unlimited(self) -> bool:
        return self.per_second <= 0

    @cached_property
    def capacity(self) -> float:
        """Worked out once per limit (a client's limits live in its cached snapshot, the
        default for the process), not on every call it counts."""
        return float(self.burst) if self.burst > 0 else max(1.0, math.ceil(self.per_second))


def parse_rate(spec: str) -> tuple[str, RateLimit]:
    """`20/s`, `600/m,burst=50` or `dancu=5/s`: (service or `*`, limit)."""
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise RateSpecError(
            f"{spec!r}: write a rate as [SERVICE=]COUNT/UNIT[,burst=N], e.g. 20/s, "
            "600/m,burst=50 or dancu=5/s (UNIT is s, m or h)"
        )
    per_second = float(match["count"]) / _UNITS[match["unit"]]
    if per_second <= 0:
        raise RateSpecError(f"{spec!r}: the rate must be above zero (omit --rate for no limit)")
    return match["service"] or ALL_SERVICES, RateLimit(per_second, int(match["burst"] or 0))


def parse_rates(specs: list[str], *, known_services: set[str]) -> dict[str, RateLimit]:
    limits: dict[str, RateLimit] = {}
    for spec in specs:
        service, limit = parse_rate(spec)
        if service != ALL_SERVICES and service not in known_services:
            known = ", ".join(sorted(known_services))
            raise RateSpecError(f"unknown service {service!r} in --rate (known: {known})")
        limits[service] = limit
    return limits


def limit_for(overrides: Mapping[str, RateLimit], service: str, *, default: RateLimit) -> RateLimit:
    if not overrides:  # most clients have none: no lookups
        return default
    return overrides.get(service) or overrides.get(ALL_SERVICES) or default


class RateLimiter:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key -> (tokens left, time of last update)
        self._buckets: OrderedDict[tuple[str, str, str], tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, instance: str, client_id: str, service: str, limit: RateLimit) -> int:
        """Take one call from the bucket: 0 when allowed, else whole seconds to wait (≥ 1).

        Runs on every call: written out without `min`, a default tuple or a method call for an
        eviction that is seldom due (issue 21)."""
        per_second = limit.per_second
        if per_second <= 0:  # `limit.unlimited`
            return 0
        now = self._clock()
        key = (instance, client_id, service)
        capacity = limit.capacity
        bucket = self._buckets.get(key)
        if bucket is None:
            tokens = capacity
        else:
            tokens = bucket[0] + (now - bucket[1]) * per_second
            if tokens > capacity:
                tokens = capacity
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._buckets.move_to_end(key)
            if len(self._buckets) > MAX_BUCKETS:
                self._evict()
            return 0
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        return max(1, math.ceil((1 - tokens) / limit.per_second))

    def _evict(self) -> None:
        # Least recently used first: the client idle the longest, most likely with a full bucket.
        while len(self._buckets) > MAX_BUCKETS:
            self._buckets.popitem(last=False)
