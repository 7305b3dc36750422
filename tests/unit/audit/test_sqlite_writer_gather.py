"""The SQLite audit writer lets calls that trickle into a busy bus share a commit, and commits
a quiet bus's call at once (issue 21: a commit costs the same for one call as for many)."""

from __future__ import annotations

import threading
import time

import pytest

from lgsp.audit.repository import ChainLink
from lgsp.audit.sqlite_writer import Call, Gathering, SqliteAuditWriter
from tests.fixtures.audit import audit_entry

pytestmark = pytest.mark.anyio  # the template database is made by an async fixture

WAIT = 5.0
"""The most a test waits for a commit it expects (a loaded machine is slow, never this slow)."""


class _Batches:
    """`Replies` that keeps each batch's call tokens, and signals each call's answer; a call
    made with `hold` keeps the writer thread in its answer until the test lets it go."""

    def __init__(self) -> None:
        self.batches: list[list[object]] = []
        self.answered: dict[object, threading.Event] = {}
        self.holds: dict[object, threading.Event] = {}

    def call(self, token: str, *, hold: bool = False) -> Call:
        self.answered[token] = threading.Event()
        if hold:
            self.holds[token] = threading.Event()
        return Call([audit_entry(request_id=token)], [], token, self)

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        assert error is None
        self.batches.append([call.token for call in calls])
        for call in calls:
            self.answered[call.token].set()
            if call.token in self.holds:
                assert self.holds[call.token].wait(WAIT)


async def test_a_call_that_trickles_into_a_busy_bus_waits_for_the_next_to_share_its_commit(
    sqlite_file: str,
) -> None:
    """Without the pause, `d` was committed alone as soon as it came, `e` alone after it."""
    writer = SqliteAuditWriter(
        sqlite_file, busy_timeout=5, gathering=Gathering(1.0, busy_window=60.0)
    )
    replies = _Batches()
    try:
        writer.submit(replies.call("a", hold=True))
        assert replies.answered["a"].wait(WAIT)  # the writer is held in a's answer
        writer.submit(replies.call("b"))
        writer.submit(replies.call("c"))  # two calls in flight together: the bus is busy
        replies.holds["a"].set()
        assert replies.answered["c"].wait(WAIT)
        writer.submit(replies.call("d"))  # soon after a commit of two
        time.sleep(0.2)
        writer.submit(replies.call("e"))
        assert replies.answered["e"].wait(WAIT)
    finally:
        writer.stop()

    assert replies.batches == [["a"], ["b", "c"], ["d", "e"]]


@pytest.mark.parametrize(
    ("busy_window", "pause"),
    [pytest.param(0.1, 0.3, id="long-after-the-last-commit"), pytest.param(60.0, 0, id="in-turn")],
)
async def test_a_call_with_no_company_in_flight_is_committed_at_once(
    sqlite_file: str, busy_window: float, pause: float
) -> None:
    """A call long after the last commit, or a client's next call after its one before (every
    commit one call), waits for no company that is not coming: not the 10 s pause."""
    writer = SqliteAuditWriter(
        sqlite_file, busy_timeout=5, gathering=Gathering(10.0, busy_window=busy_window)
    )
    replies = _Batches()
    try:
        for token in ("a", "b", "c"):
            writer.submit(replies.call(token))
            assert replies.answered[token].wait(WAIT)
            time.sleep(pause)
    finally:
        writer.stop()

    assert replies.batches == [["a"], ["b"], ["c"]]
