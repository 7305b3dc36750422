"""`kit.deadline.within`: the waiter stops at the deadline, the work it waited for goes on."""

from __future__ import annotations

import asyncio
import gc

import anyio
import pytest

from kit.deadline import abandoned, within

pytestmark = pytest.mark.anyio


class Work:
    """Work that runs until released, and says whether it reached its end."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.ended = asyncio.Event()

    async def __call__(self) -> str:
        await self.release.wait()
        self.ended.set()
        return "done"


async def test_work_that_ends_in_time_gives_its_result_or_its_exception() -> None:
    async def failing() -> None:
        raise ValueError("the work's own error")

    assert await within(5, asyncio.sleep(0, result="done")) == "done"
    with pytest.raises(ValueError, match="the work's own error"):
        await within(5, failing())


async def test_past_the_deadline_the_waiter_times_out_and_the_work_goes_on_to_its_end() -> None:
    work = Work()
    before = abandoned()  # other tests of this process may have left work in loops now closed

    with pytest.raises(TimeoutError):
        await within(0.01, work())
    assert abandoned() == before + 1

    work.release.set()
    with anyio.fail_after(5):  # a hang guard: without the fix the work was cancelled
        await work.ended.wait()
        while abandoned() > before:
            await asyncio.sleep(0)


async def test_a_cancelled_waiter_leaves_the_work_going_on() -> None:
    work = Work()
    waiter = asyncio.ensure_future(within(60, work()))
    await asyncio.sleep(0)

    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter

    work.release.set()
    with anyio.fail_after(5):
        await work.ended.wait()


async def test_an_abandoned_works_failure_is_retrieved_not_reported_as_lost() -> None:
    lost: list[dict[str, object]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, context: lost.append(context))
    release = asyncio.Event()
    before = abandoned()

    async def failing_late() -> None:
        await release.wait()
        raise ValueError("no one is waiting for this")

    with pytest.raises(TimeoutError):
        await within(0.01, failing_late())
    release.set()
    with anyio.fail_after(5):
        while abandoned() > before:
            await asyncio.sleep(0)
    gc.collect()  # an unretrieved exception is reported when its future is collected

    assert lost == []
