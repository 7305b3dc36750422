"""The SQLite audit writer lets calls that trickle into a busy bus share a commit, and commits
a quiet bus's call at once (issue 21: a commit costs the same for one call as for many)."""

from __future__ import annotations

import threading
import time

import pytest

from lgsp.audit.repository import ChainLink
from lgsp.audit.sqlite_writer import Call, SqliteAuditWriter
from tests.fixtures.audit import audit_entry

pytestmark = pytest.mark.anyio  # the template database is made by an async fixture

WAIT = 5.0
"""The most a test waits for a commit it expects (a loaded machine is slow, never this slow)."""


class _Batches:
    """`Replies` that keeps each batch's call tokens, and signals each call's answer."""

    def __init__(self) -> None:
        self.batches: list[list[object]] = []
        self.answered: dict[object, threading.Event] = {}

    def call(self, token: str) -> Call:
        self.answered[token] = threading.Event()
        return Call([audit_entry(request_id=token)], [], token, self)

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        assert error is None
        self.batches.append([call.token for call in calls])
        for call in calls:
            self.answered[call.token].set()


async def test_a_call_that_trickles_into_a_busy_bus_waits_for_the_next_to_share_its_commit(
    sqlite_file: str,
) -> None:
    """Without the pause, `b` was committed alone as soon as it came, `c` alone after it."""
    writer = SqliteAuditWriter(sqlite_file, busy_timeout=5, gather=1.0, busy_window=60.0)
    replies = _Batches()
    try:
        writer.submit(replies.call("a"))
        assert replies.answered["a"].wait(WAIT)  # the first call: no commit before it, no pause
        writer.submit(replies.call("b"))  # soon after a commit: the bus is busy
        time.sleep(0.2)
        writer.submit(replies.call("c"))
        assert replies.answered["c"].wait(WAIT)
    finally:
        writer.stop()

    assert replies.batches == [["a"], ["b", "c"]]


async def test_a_call_on_a_quiet_bus_is_committed_at_once(sqlite_file: str) -> None:
    """Long after the last commit, a call waits for no company that is not coming."""
    writer = SqliteAuditWriter(sqlite_file, busy_timeout=5, gather=10.0, busy_window=0.1)
    replies = _Batches()
    try:
        writer.submit(replies.call("a"))
        assert replies.answered["a"].wait(WAIT)
        time.sleep(0.3)  # past the busy window
        writer.submit(replies.call("b"))
        assert replies.answered["b"].wait(WAIT)  # not the 10 s a busy bus's call would wait
    finally:
        writer.stop()

    assert replies.batches == [["a"], ["b"]]
