"""Revoked tokens: a persisted `jti` deny-list, checked on every call from a per-process copy.

The `revoked_tokens` table is the truth. Each process holds the set of an instance's revoked,
unexpired jtis and reloads it (one small query) when it is older than
`LGSP_CLIENT_CACHE_SECONDS`, so a revocation made by another process takes effect within that
time, and at once in the process that recorded it. With the setting at 0 the set is read on every
call. Rows are kept until the token would have expired anyway, then purged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

Loader = Callable[[], Awaitable[set[str]]]


@dataclass
class _Entry:
    jtis: set[str] = field(default_factory=set)
    fresh_until: float = float("-inf")
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class DenyList:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._instances: dict[str, _Entry] = {}

    async def is_revoked(self, instance: str, jti: str, *, ttl: float, load: Loader) -> bool:
        entry = self._instances.get(instance)
        if entry is None:  # not `setdefault`: that would build an entry and a lock per call
            entry = self._instances[instance] = _Entry()
        if entry.fresh_until <= self._clock():
            async with entry.lock:
                if entry.fresh_until <= self._clock():  # not refreshed while we waited
                    entry.jtis = await load()
                    entry.fresh_until = self._clock() + ttl
        return jti in entry.jtis

    def cached(self, instance: str, jti: str) -> bool | None:
        """`is_revoked` from a fresh copy without a coroutine (issue 21); None when the copy
        is missing or stale, for `is_revoked` to reload."""
        entry = self._instances.get(instance)
        if entry is None or entry.fresh_until <= self._clock():
            return None
        return jti in entry.jtis

    def add(self, instance: str, jti: str) -> None:
        """A revocation this process recorded applies here at once, before any reload."""
        self._instances.setdefault(instance, _Entry()).jtis.add(jti)
