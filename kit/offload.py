"""CPU-bound work on a large input runs in a worker thread, so that the event loop keeps serving.

Every instance of a process shares one event loop: parsing a 20 MiB edXML document on it would
stall every call and `/healthz` meanwhile (SECURITY-PROBE-2026-12 F7). Small inputs stay on the
loop, where the hop to a thread would cost more than the work itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

T = TypeVar("T")

OFF_LOOP_BYTES = 256 * 1024
"""Inputs from this size are parsed in a thread: about a millisecond of expat's time."""


async def off_loop_if_large(size: int, work: Callable[[], T]) -> T:
    """`work()`, in a worker thread when its input has `size` bytes or more."""
    if size < OFF_LOOP_BYTES:
        return work()
    return await anyio.to_thread.run_sync(work)
