"""The rules table on SQLite and PostgreSQL: `times` is exact however many claim at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.db import make_session_factory
from lgsp.faults import store
from lgsp.faults.book import FaultBook
from lgsp.faults.matcher import CallFacts
from lgsp.faults.schemas import FaultRuleIn

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC)
CALL = CallFacts("dancu", "v1", "GET", "/citizens/1", "demo")


async def test_concurrent_claims_win_exactly_times(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    record = await store.add_rule(
        sessions, instance="kiengiang", rule=FaultRuleIn(status=503, times=4), now=NOW
    )

    won = await asyncio.gather(
        *(store.claim(sessions, rule_id=record.id, now=NOW) for _ in range(10))
    )

    assert sum(won) == 4


async def test_an_expired_rule_cannot_be_claimed(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    record = await store.add_rule(
        sessions,
        instance="kiengiang",
        rule=FaultRuleIn(status=503, times=1, expires_in=1),
        now=NOW,
    )

    assert not await store.claim(sessions, rule_id=record.id, now=NOW + timedelta(seconds=2))


async def test_the_book_sees_a_rule_added_elsewhere_only_after_its_cache_expires(
    engine: AsyncEngine,
) -> None:
    sessions = make_session_factory(engine)
    clock = [0.0]
    book = FaultBook(sessions, ttl_seconds=1, seed=7, timeout_seconds=1, clock=lambda: clock[0])

    assert await book.pick("kiengiang", CALL) is None
    await store.add_rule(sessions, instance="kiengiang", rule=FaultRuleIn(status=503), now=NOW)
    cached = await book.pick("kiengiang", CALL)
    clock[0] = 1.0
    fresh = await book.pick("kiengiang", CALL)

    assert cached is None
    assert fresh is not None
    assert fresh.status == 503


async def test_a_call_skips_the_rules_only_while_the_book_knows_there_are_none(
    engine: AsyncEngine,
) -> None:
    """The router skips `pick` on `rule_free` (issue 21): that must never hide a rule the
    cache's own reload would have found, nor skip before the instance's rules were read."""
    sessions = make_session_factory(engine)
    clock = [0.0]
    book = FaultBook(sessions, ttl_seconds=1, seed=7, timeout_seconds=1, clock=lambda: clock[0])

    unread = book.rule_free("kiengiang")
    await book.pick("kiengiang", CALL)
    read_empty = book.rule_free("kiengiang")
    await store.add_rule(sessions, instance="kiengiang", rule=FaultRuleIn(status=503), now=NOW)
    clock[0] = 1.0
    stale = book.rule_free("kiengiang")
    fault = await book.pick("kiengiang", CALL)

    assert (unread, read_empty, stale) == (False, True, False)
    assert fault is not None
    assert not book.rule_free("kiengiang")


async def test_reset_removes_the_rules_of_the_given_instances_only(engine: AsyncEngine) -> None:
    sessions = make_session_factory(engine)
    book = FaultBook(sessions, ttl_seconds=0, seed=7, timeout_seconds=1)
    for instance in ("kiengiang", "tiengiang"):
        await store.add_rule(sessions, instance=instance, rule=FaultRuleIn(drop=True), now=NOW)

    await book.reset(["kiengiang"])

    assert await book.pick("kiengiang", CALL) is None
    assert await book.pick("tiengiang", CALL) is not None


async def test_rule_ids_are_never_reused_after_a_remove_or_a_clear(engine: AsyncEngine) -> None:
    """An id in a log or a script names one rule for ever (issue 20): SQLite reuses the
    largest rowid once its row is gone, unless the table says AUTOINCREMENT."""
    sessions = make_session_factory(engine)

    async def add() -> int:
        record = await store.add_rule(
            sessions, instance="kiengiang", rule=FaultRuleIn(status=503), now=NOW
        )
        return record.id

    first, newest = await add(), await add()
    await store.remove_rule(sessions, instance="kiengiang", rule_id=newest)
    after_remove = await add()
    await store.clear_rules(sessions, instances=["kiengiang"])
    after_clear = await add()

    assert first < newest < after_remove < after_clear
