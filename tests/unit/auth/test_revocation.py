"""The per-process deny-list: reloaded after its TTL, and local revocations apply at once."""

from __future__ import annotations

import pytest

from lgsp.auth.revocation import DenyList
from tests.fixtures.clocks import Clock

pytestmark = pytest.mark.anyio


class Table:
    """Stands for the `revoked_tokens` table; counts the queries."""

    def __init__(self) -> None:
        self.jtis: set[str] = set()
        self.loads = 0

    async def load(self) -> set[str]:
        self.loads += 1
        return set(self.jtis)


async def test_the_list_is_read_once_per_ttl_not_once_per_call() -> None:
    clock, table = Clock(100.0), Table()
    deny = DenyList(clock=clock)

    for _ in range(100):
        await deny.is_revoked("kg", "j1", ttl=2, load=table.load)

    assert table.loads == 1


async def test_a_revocation_made_elsewhere_applies_once_the_ttl_has_passed() -> None:
    clock, table = Clock(100.0), Table()
    deny = DenyList(clock=clock)
    await deny.is_revoked("kg", "j1", ttl=2, load=table.load)
    table.jtis.add("j1")  # another process revokes it

    clock.now += 1.9
    before = await deny.is_revoked("kg", "j1", ttl=2, load=table.load)
    clock.now += 0.2
    after = await deny.is_revoked("kg", "j1", ttl=2, load=table.load)

    assert (before, after) == (False, True)


async def test_a_revocation_made_here_applies_at_once() -> None:
    table = Table()
    deny = DenyList(clock=Clock(100.0))
    await deny.is_revoked("kg", "j1", ttl=60, load=table.load)

    deny.add("kg", "j1")

    assert await deny.is_revoked("kg", "j1", ttl=60, load=table.load)
    assert not await deny.is_revoked("tg", "j1", ttl=60, load=table.load)


async def test_a_ttl_of_zero_reads_the_table_on_every_call() -> None:
    table = Table()
    deny = DenyList(clock=Clock(100.0))

    for _ in range(3):
        await deny.is_revoked("kg", "j1", ttl=0, load=table.load)

    assert table.loads == 3


async def test_a_call_on_a_known_instance_builds_no_new_entry_or_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each call used to build an entry (with its `asyncio.Lock`) for `setdefault` to throw
    away: work on every call of the hop (issue 21)."""
    from lgsp.auth import revocation

    made = 0
    entry = revocation._Entry

    def counted() -> revocation._Entry:
        nonlocal made
        made += 1
        return entry()

    monkeypatch.setattr(revocation, "_Entry", counted)
    clock, table = Clock(100.0), Table()
    deny = DenyList(clock=clock)

    for _ in range(10):
        await deny.is_revoked("kg", "j1", ttl=2, load=table.load)

    assert made == 1


async def test_the_cached_answer_is_given_only_while_the_copy_is_fresh() -> None:
    """`authenticate` asks `cached` first and reloads through `is_revoked` on None (issue 21):
    a stale copy must answer None, or a revocation made elsewhere would never apply."""
    clock, table = Clock(100.0), Table()
    deny = DenyList(clock=clock)
    unread = deny.cached("kg", "j1")
    await deny.is_revoked("kg", "j1", ttl=2, load=table.load)
    fresh = deny.cached("kg", "j1")
    deny.add("kg", "j2")
    added_here = deny.cached("kg", "j2")
    clock.now += 2

    assert (unread, fresh, added_here, deny.cached("kg", "j1")) == (None, False, True, None)
