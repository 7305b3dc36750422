"""A short-lived cache of each client's admin flag, rights, rates and revocation, read on every
call.

Reading them from the database on every call costs a connection checkout and two queries on
the hot path; holding them for `LGSP_CLIENT_CACHE_SECONDS` (2 s by default, 0 to turn off)
bounds how late a revocation or a change of rights made elsewhere (the CLI, another worker)
takes effect. The token endpoint always reads the database. When an entry expires under load,
the calls that find it missing share one read instead of each making its own.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from lgsp.auth.rate_limit import RateLimit

MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class ClientSnapshot:
    is_admin: bool
    rights: dict[str, str]
    revoked: bool
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    """The client's own rates by service (`*` for every service); empty means the default."""
    kind: str = "tenant"
    """`tenant`, or the bus's own `system` or `federation` client (`lgsp.auth.models`)."""
    organisation: str | None = None
    """The agency id a tenant acts for, if it is bound to one."""
    strict: bool = False
    """Every call read as under `Prefer: handling=strict` (`ApiClient.handling`)."""


Loader = Callable[[], Awaitable[ClientSnapshot | None]]


class ClientCache:
    def __init__(self, *, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[float, ClientSnapshot | None]] = (
            OrderedDict()
        )
        self._loading: dict[tuple[str, str], asyncio.Task[ClientSnapshot | None]] = {}

    async def get_or_load(
        self, instance: str, client_id: str, load: Loader
    ) -> ClientSnapshot | None:
        """The cached snapshot, else `load()`'s, cached; concurrent misses share one `load`.

        Without the sharing, the 32 calls under way when an entry expires made 32 reads of the
        same client at once (three queries each), every `ttl` seconds. With caching off
        (`ttl` 0) every call reads for itself, so that it sees changes made just before it.
        """
        hit, snapshot = self.get(instance, client_id)
        if hit:
            return snapshot
        if self._ttl <= 0:
            return await load()
        key = (instance, client_id)
        loading = self._loading.get(key)
        if loading is None:
            loading = asyncio.create_task(self._load(key, load))
            self._loading[key] = loading
            loading.add_done_callback(partial(self._loaded, key))
        # Shielded: a caller that goes away must not cancel the read the others wait for.
        return await asyncio.shield(loading)

    async def _load(self, key: tuple[str, str], load: Loader) -> ClientSnapshot | None:
        snapshot = await load()
        self.put(*key, snapshot)
        return snapshot

    def _loaded(self, key: tuple[str, str], task: asyncio.Task[ClientSnapshot | None]) -> None:
        """However the read ended (even cancelled before it began), the next miss reads again;
        a failure is marked seen, since every caller that waited for it may have gone."""
        if self._loading.get(key) is task:
            del self._loading[key]
        if not task.cancelled():
            task.exception()

    def get(self, instance: str, client_id: str) -> tuple[bool, ClientSnapshot | None]:
        """(hit, snapshot); a hit with `None` means the client is known not to exist."""
        entry = self._entries.get((instance, client_id))
        if entry is None or entry[0] <= self._clock():
            return False, None
        return True, entry[1]

    def forget(self, instance: str, client_id: str) -> None:
        """Drop the client's entry: a change made in this process applies to its next call."""
        self._entries.pop((instance, client_id), None)

    def put(self, instance: str, client_id: str, snapshot: ClientSnapshot | None) -> None:
        if self._ttl <= 0:
            return
        key = (instance, client_id)
        self._entries[key] = (self._clock() + self._ttl, snapshot)
        self._entries.move_to_end(key)
        while len(self._entries) > MAX_ENTRIES:
            self._entries.popitem(last=False)
