"""The worker loop: delivering, retrying, surviving the database, stopping, and sharing work."""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.db import make_engine, make_session_factory
from lgsp.outbox import store
from lgsp.outbox.models import OutboxState
from lgsp.outbox.worker import ClaimedMessage, DeliveryResult, OutboxWorker, RetryPolicy
from tests.fixtures.clocks import WallClock
from tests.unit.outbox.helpers import KG, NOW, TG, add_message, read, states

pytestmark = pytest.mark.anyio

NO_JITTER = RetryPolicy(uniform=lambda: 0.0)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


def fixed(now: datetime) -> Callable[[], datetime]:
    return lambda: now


def answering(status: int | None, error: str | None = None) -> Any:
    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        return DeliveryResult(status, error)

    return deliver


def make_worker(
    sessions: async_sessionmaker[AsyncSession], deliver: Any, **options: Any
) -> OutboxWorker:
    defaults: dict[str, Any] = {
        "instances": [KG],
        "policy": NO_JITTER,
        "poll_seconds": 0.01,
        "lease_seconds": 30.0,
        "batch_size": 10,
        "clock": fixed(NOW),
    }
    return OutboxWorker(sessions, deliver=deliver, **{**defaults, **options})


async def wait_until(condition: Callable[[], Any], *, seconds: float = 20.0) -> None:
    with anyio.fail_after(seconds):
        while not await condition():
            await asyncio.sleep(0.01)


async def wait_until_delivered(
    sessions: async_sessionmaker[AsyncSession], message_id: int, *, seconds: float = 20.0
) -> None:
    async def delivered() -> bool:
        return (await read(sessions, message_id)).state == OutboxState.DELIVERED

    await wait_until(delivered, seconds=seconds)


@asynccontextmanager
async def running(worker: OutboxWorker) -> AsyncIterator[None]:
    """`worker` runs its loop during the block, and is stopped and awaited however it ends."""
    task = asyncio.create_task(worker.run())
    try:
        yield
    finally:
        await worker.stop()
        await task


async def run_until_delivered(
    worker: OutboxWorker, sessions: async_sessionmaker[AsyncSession], message_id: int
) -> None:
    """Runs `worker` until the message is delivered, then stops it."""
    async with running(worker):
        await wait_until_delivered(sessions, message_id)


async def test_one_round_delivers_the_due_messages_of_its_instances(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    ours = [await add_message(sessions, f"m{n}") for n in range(3)]
    theirs = await add_message(sessions, "m0", instance=TG)
    seen: list[tuple[int, bytes, str]] = []

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        seen.append((message.id, message.body, message.idempotency_key))
        return DeliveryResult(200)

    assert await make_worker(sessions, deliver).drain_once() == 3

    assert sorted(seen) == [(i, b'{"status": "2"}', f"m{n}") for n, i in enumerate(ours)]
    assert await states(sessions) == {
        **dict.fromkeys(ours, OutboxState.DELIVERED.value),
        theirs: OutboxState.PENDING.value,
    }
    assert await make_worker(sessions, deliver).drain_once() == 0


async def test_a_deliver_that_raises_counts_as_no_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        raise ConnectionError("connection refused\nwith a second line")

    await make_worker(sessions, deliver).drain_once()

    row = await read(sessions, message_id)
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        OutboxState.PENDING,
        1,
        None,
        "ConnectionError: connection refused",
    )
    assert row.next_attempt_at == NOW + timedelta(seconds=0.5)


async def test_a_delivery_that_outlasts_its_time_counts_as_no_answer(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        await asyncio.sleep(10)
        return DeliveryResult(200)

    with anyio.fail_after(5):
        await make_worker(sessions, deliver, delivery_timeout=0.05).drain_once()

    row = await read(sessions, message_id)
    assert (row.state, row.last_status, row.last_error) == (
        OutboxState.PENDING,
        None,
        "no answer within 0.05 s",
    )


async def test_a_delivery_past_its_time_is_not_cut_short(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Cut short, an in-process delivery's transactions could leave the database locked: it
    goes on to its end, as a remote system would, and its outcome is dropped (`kit.deadline`)."""
    await add_message(sessions, "m")
    release, ended = asyncio.Event(), asyncio.Event()

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        await release.wait()
        ended.set()
        return DeliveryResult(200)

    await make_worker(sessions, deliver, delivery_timeout=0.01).drain_once()
    release.set()

    with anyio.fail_after(5):  # a hang guard: cut short, the delivery never reaches its end
        await ended.wait()


async def test_a_retry_waits_for_the_attempt_still_running_instead_of_sending_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A receiver slower than the deadline: each retry used to start one more delivery of the
    message beside those still running (30 messages with 12-26 attempts each under load). A
    retry now waits for the attempt under way, whose answer, once it comes, is the outcome."""
    message_id = await add_message(sessions, "m", now=datetime.now(NOW.tzinfo))
    now_running, most_running, started = 0, 0, 0

    async def slow_receiver(message: ClaimedMessage) -> DeliveryResult:
        nonlocal now_running, most_running, started
        started += 1
        now_running += 1
        most_running = max(most_running, now_running)
        try:
            await asyncio.sleep(0.4)  # eight deadlines of 0.05 s
            return DeliveryResult(200)
        finally:
            now_running -= 1

    worker = make_worker(
        sessions,
        slow_receiver,
        policy=RetryPolicy(
            max_attempts=1000, base_seconds=0.01, max_seconds=0.01, uniform=lambda: 0.0
        ),
        lease_seconds=1.0,
        delivery_timeout=0.05,
        clock=lambda: datetime.now(NOW.tzinfo),
    )

    async def delivered_or_sent_twice() -> bool:
        row = await read(sessions, message_id)
        return row.state == OutboxState.DELIVERED or started > 1

    async with running(worker):
        await wait_until(delivered_or_sent_twice)

    row = await read(sessions, message_id)
    assert (most_running, started, row.state) == (1, 1, OutboxState.DELIVERED)
    assert row.attempts > 1  # the deadline did pass, and the message was retried meanwhile


async def test_an_outcome_that_came_late_is_taken_by_the_retry_unless_a_reset_came_between(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = WallClock(NOW)
    message_id = await add_message(sessions, "m")
    release = asyncio.Event()
    started = 0

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        nonlocal started
        started += 1
        await release.wait()
        return DeliveryResult(503)

    worker = make_worker(sessions, deliver, delivery_timeout=0.01, clock=clock)
    await worker.drain_once()  # cut off at its deadline; the answer comes afterwards
    release.set()
    await asyncio.sleep(0)
    clock.advance(seconds=60)
    await worker.drain_once()
    assert (started, (await read(sessions, message_id)).last_status) == (1, 503)

    release.clear()
    clock.advance(seconds=60)
    await worker.drain_once()  # a new attempt, cut off again
    assert started == 2
    release.set()
    await asyncio.sleep(0)
    async with worker.paused():  # as `POST /admin/reset` does
        pass
    clock.advance(seconds=60)
    await worker.drain_once()
    assert started == 3


async def test_a_refusal_makes_the_message_dead_without_retrying(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")
    calls = Counter[int]()

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        calls[message.id] += 1
        return DeliveryResult(403, "ACCESS_DENIED: no right")

    worker = make_worker(sessions, deliver)
    for _ in range(3):
        await worker.drain_once()

    assert calls == {message_id: 1}
    assert (await read(sessions, message_id)).state == OutboxState.DEAD


async def test_the_loop_retries_with_back_off_until_delivered(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m", now=datetime.now(NOW.tzinfo))
    answers = iter([DeliveryResult(503), DeliveryResult(None, "reset"), DeliveryResult(200)])

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        return next(answers)

    worker = make_worker(
        sessions,
        deliver,
        policy=RetryPolicy(base_seconds=0.02, max_seconds=0.05, uniform=lambda: 0.0),
        clock=lambda: datetime.now(NOW.tzinfo),
    )
    await run_until_delivered(worker, sessions, message_id)
    row = await read(sessions, message_id)
    assert (row.attempts, row.last_status) == (3, 200)  # two failures, then the delivery


async def test_stop_waits_for_an_in_flight_delivery_and_records_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")
    started, release = asyncio.Event(), asyncio.Event()

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        started.set()
        await release.wait()
        return DeliveryResult(200)

    worker = make_worker(sessions, deliver)
    task = asyncio.create_task(worker.run())
    with anyio.fail_after(10):
        await started.wait()
    stopping = asyncio.create_task(worker.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()

    release.set()
    with anyio.fail_after(10):
        await stopping
    assert task.done()
    await task
    assert (await read(sessions, message_id)).state == OutboxState.DELIVERED


async def test_a_stopped_worker_claims_nothing_more(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    worker = make_worker(sessions, answering(200))
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)
    with anyio.fail_after(10):
        await worker.stop()
        await task

    message_id = await add_message(sessions, "late")
    await asyncio.sleep(0.05)
    assert (await read(sessions, message_id)).state == OutboxState.PENDING


async def test_stop_before_run_makes_run_return_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")
    worker = make_worker(sessions, answering(200))

    await worker.stop()
    with anyio.fail_after(5):
        await worker.run()

    assert (await read(sessions, message_id)).state == OutboxState.PENDING


async def test_wake_looks_for_messages_before_the_poll_interval_ends(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    worker = make_worker(sessions, answering(200), poll_seconds=60)
    async with running(worker):
        await asyncio.sleep(0.05)  # the first round found nothing: the worker sleeps for 60 s
        message_id = await add_message(sessions, "m")
        worker.wake()

        await wait_until_delivered(sessions, message_id, seconds=5)


async def test_a_failed_message_is_tried_again_once_due_not_at_the_next_poll(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    message_id = await add_message(sessions, "m")
    loop = asyncio.get_running_loop()
    started = loop.time()
    answers = iter([503, 200])

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        return DeliveryResult(next(answers))

    worker = make_worker(
        sessions,
        deliver,
        poll_seconds=60,
        # Jitter drawn in the middle: the retry is due before the longest wait it could have.
        policy=RetryPolicy(base_seconds=0.05, uniform=lambda: 0.5),
        clock=lambda: NOW + timedelta(seconds=loop.time() - started),
    )
    await run_until_delivered(worker, sessions, message_id)

    assert (await read(sessions, message_id)).attempts == 2  # the failure and the delivery
    assert worker.fallback_polls == 0  # no poll interval ran out: the retry did not wait for it


class FlakySessions(async_sessionmaker[AsyncSession]):
    """Sessions from a database that is away for the first `failures` sessions asked for."""

    failures = 0

    def __call__(self, **local_kw: Any) -> AsyncSession:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("BEGIN", {}, ConnectionRefusedError("the database is down"))
        return super().__call__(**local_kw)


async def test_the_loop_survives_a_failing_database_and_recovers(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = FlakySessions(engine, expire_on_commit=False)
    plain = make_session_factory(engine)
    message_id = await add_message(plain, "m")
    sessions.failures = 3
    worker = make_worker(sessions, answering(200))

    with caplog.at_level(logging.WARNING, logger="lgsp.outbox.worker"):
        await run_until_delivered(worker, plain, message_id)

    failures = [record for record in caplog.records if "round failed" in record.getMessage()]
    assert len(failures) == 3
    assert "OperationalError" in failures[0].getMessage()
    assert all(record.exc_info is None for record in failures)  # no traceback at WARNING


async def test_an_outcome_that_cannot_be_recorded_is_delivered_again_after_the_lease(
    engine: AsyncEngine,
) -> None:
    sessions = FlakySessions(engine, expire_on_commit=False)
    plain = make_session_factory(engine)
    message_id = await add_message(plain, "m")
    calls = Counter[int]()
    now = [NOW]

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        calls[message.id] += 1
        sessions.failures = 1 if calls[message.id] == 1 else 0  # the outcome's update fails
        return DeliveryResult(200)

    worker = make_worker(sessions, deliver, lease_seconds=30, clock=lambda: now[0])
    with pytest.raises(OperationalError):
        await worker.drain_once()
    assert (await read(plain, message_id)).state == OutboxState.DELIVERING

    now[0] = NOW + timedelta(seconds=31)
    assert await worker.drain_once() == 1
    assert calls == {message_id: 2}
    assert (await read(plain, message_id)).state == OutboxState.DELIVERED


@pytest.fixture
async def worker_engines(engine: AsyncEngine) -> AsyncIterator[list[AsyncEngine]]:
    """Four engines on the test database: as four worker processes would have."""
    url = engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url) for _ in range(4)]
    yield engines
    for each in engines:
        await each.dispose()


async def test_several_workers_deliver_every_message_exactly_once_in_key_order(
    engine: AsyncEngine, worker_engines: list[AsyncEngine], caplog: pytest.LogCaptureFixture
) -> None:
    sessions = make_session_factory(engine)
    total, keys = 200, 10
    started = datetime.now(NOW.tzinfo)
    ordering = {}
    for n in range(total):
        key = f"k{n // 2 % keys}" if n % 2 == 0 else None
        message_id = await add_message(sessions, f"m{n}", ordering_key=key, now=started)
        ordering[message_id] = key
    deliveries = Counter[int]()
    by_key: dict[str, list[int]] = defaultdict(list)
    in_flight: Counter[str] = Counter()
    overlaps: list[str] = []
    rng = random.Random(7)  # noqa: S311 - test timing only

    async def deliver(message: ClaimedMessage) -> DeliveryResult:
        key = ordering[message.id]
        if key is not None:
            in_flight[key] += 1
            if in_flight[key] > 1:
                overlaps.append(key)
            by_key[key].append(message.id)
        deliveries[message.id] += 1
        await asyncio.sleep(rng.uniform(0, 0.004))
        if key is not None:
            in_flight[key] -= 1
        return DeliveryResult(200)

    workers = [
        OutboxWorker(
            make_session_factory(each),
            instances=[KG],
            deliver=deliver,
            poll_seconds=0.01,
            lease_seconds=30,
            batch_size=8,
        )
        for each in worker_engines
    ]
    caplog.set_level(logging.INFO, logger="lgsp.outbox.worker")
    tasks = [asyncio.create_task(worker.run()) for worker in workers]
    try:

        async def all_delivered() -> bool:
            counts = await store.count_by_state(sessions, instance=KG)
            return counts[OutboxState.DELIVERED] == total

        await wait_until(all_delivered, seconds=120)
    finally:
        for worker in workers:
            await worker.stop()
        await asyncio.gather(*tasks)

    assert sorted(deliveries) == sorted(ordering)
    assert set(deliveries.values()) == {1}
    assert overlaps == []
    assert caplog.records == []  # claimers wait for each other: no lock errors, no lost claims
    assert len(by_key) == keys
    for key, delivered in by_key.items():
        assert delivered == sorted(delivered), key
        assert len(delivered) == total // 2 // keys


@pytest.mark.parametrize(
    "options",
    [
        {"poll_seconds": 0},
        {"lease_seconds": 0},
        {"batch_size": 0},
        {"lease_seconds": 10, "delivery_timeout": 10},
    ],
)
def test_a_worker_refuses_settings_that_would_lose_claims_or_spin(
    options: dict[str, float],
) -> None:
    with pytest.raises(ValueError, match="must"):
        OutboxWorker(async_sessionmaker(), instances=[KG], deliver=answering(200), **options)
