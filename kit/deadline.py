"""Waiting for work with a deadline without cancelling the work: the waiter stops, the work goes on.

`asyncio.timeout` cancels what it waits for wherever it is. Work that holds a database
transaction (an embedded system's handler, a hand-over into the outbox) cancelled inside it can
leave SQLite's write lock held: the cancellation may land in SQLAlchemy's rollback as the
connection goes back to its pool, and the connection is dropped with its transaction open. Under
load, the outbox worker's delivery timeout did that, and the bus's database stayed locked for
minutes (every audit write, claim and pruning failed with "database is locked"). A real system
behind HTTP does not stop when its caller gives up either: it finishes, and its answer goes
nowhere. So does ours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")

_ABANDONED: set[asyncio.Future[Any]] = set()
"""Work whose waiter has gone, held until it ends (the loop keeps only weak references)."""


async def within(seconds: float, work: Awaitable[T]) -> T:
    """`work`'s result (or exception) if it ends within `seconds`; else TimeoutError, while
    `work` goes on to its end and its outcome is dropped. A waiter cancelled meanwhile leaves
    the work going on as well."""
    task: asyncio.Future[T] = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait((task,), timeout=seconds)
    except asyncio.CancelledError:
        _abandon(task)
        raise
    if not done:
        _abandon(task)
        raise TimeoutError
    return task.result()


def abandoned() -> int:
    """How much work goes on that no one waits for any more."""
    return len(_ABANDONED)


def _abandon(task: asyncio.Future[Any]) -> None:
    _ABANDONED.add(task)
    task.add_done_callback(_forget)


def _forget(task: asyncio.Future[Any]) -> None:
    _ABANDONED.discard(task)
    if not task.cancelled():
        task.exception()  # retrieved: its waiter has gone, and asyncio would log it as lost
