"""Claims, outcomes and re-drives, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import anyio
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.db import make_session_factory
from lgsp.errors import NotFound, OutboxConflict
from lgsp.outbox import store
from lgsp.outbox.models import OutboxState
from lgsp.outbox.receipts import body_facts
from lgsp.outbox.store import ClaimedMessage, DeliveryResult, RetryPolicy
from tests.fixtures.database import hold_write_lock
from tests.unit.outbox.helpers import KG, NOW, TG, add_message, force, read

pytestmark = pytest.mark.anyio

LEASE = 30.0
MAX_ATTEMPTS = RetryPolicy().max_attempts
NO_JITTER = RetryPolicy(uniform=lambda: 0.0)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


async def claim_ids(
    sessions: async_sessionmaker[AsyncSession],
    *,
    at: timedelta = timedelta(0),
    instances: tuple[str, ...] = (KG,),
    limit: int = 10,
) -> list[int]:
    claimed = await store.claim(
        sessions,
        instances=instances,
        now=NOW + at,
        lease_seconds=LEASE,
        limit=limit,
        max_attempts=MAX_ATTEMPTS,
    )
    return [message.id for message in claimed]


async def claim_twice_across_an_expired_lease(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[int, ClaimedMessage, ClaimedMessage]:
    """One message, claimed, and claimed again once its lease has run out."""
    message_id = await add_message(sessions, "m")
    first = await claim_one(sessions)
    second = await claim_one(sessions, at=timedelta(seconds=LEASE + 1))
    return message_id, first, second


async def claim_one(
    sessions: async_sessionmaker[AsyncSession], *, at: timedelta = timedelta(0)
) -> ClaimedMessage:
    [message] = await store.claim(
        sessions,
        instances=[KG],
        now=NOW + at,
        lease_seconds=LEASE,
        limit=1,
        max_attempts=MAX_ATTEMPTS,
    )
    return message


class TestClaim:
    async def test_takes_only_due_messages_of_the_given_instances(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        due = await add_message(sessions, "due", now=NOW - timedelta(seconds=1))
        await add_message(sessions, "later", now=NOW + timedelta(seconds=1))
        await add_message(sessions, "elsewhere", instance=TG)
        delivered = await add_message(sessions, "delivered")
        dead = await add_message(sessions, "dead")
        await force(sessions, delivered, state=OutboxState.DELIVERED)
        await force(sessions, dead, state=OutboxState.DEAD)

        assert await claim_ids(sessions) == [due]

    async def test_marks_the_claimed_message_delivering_under_a_lease(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m", body=b"payload")

        message = await claim_one(sessions)

        assert (message.id, message.body, message.attempts) == (message_id, b"payload", 0)
        assert (message.service, message.version, message.method) == ("dvcqg", "v1", "POST")
        assert (message.client_id, message.request_id, message.idempotency_key) == (
            "system-dvc",
            "req-m",
            "m",
        )
        assert message.lease_until == NOW + timedelta(seconds=LEASE)
        row = await read(sessions, message_id)
        assert (row.state, row.lease_until) == (OutboxState.DELIVERING, message.lease_until)

    async def test_takes_several_instances_at_once(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        kg = await add_message(sessions, "a")
        tg = await add_message(sessions, "a", instance=TG)

        assert await claim_ids(sessions, instances=(KG, TG)) == [kg, tg]

    async def test_takes_the_oldest_first_up_to_the_limit(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        ids = [await add_message(sessions, f"m{n}") for n in range(5)]

        assert await claim_ids(sessions, limit=3) == ids[:3]
        assert await claim_ids(sessions, limit=3) == ids[3:]
        assert await claim_ids(sessions, limit=3) == []

    async def test_leaves_a_claimed_message_alone_while_its_lease_holds(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        assert await claim_ids(sessions) == [message_id]

        assert await claim_ids(sessions, at=timedelta(seconds=LEASE)) == []

    async def test_takes_one_message_per_ordering_key_oldest_first(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        a1 = await add_message(sessions, "a1", ordering_key="A")
        a2 = await add_message(sessions, "a2", ordering_key="A")
        b1 = await add_message(sessions, "b1", ordering_key="B")
        n1 = await add_message(sessions, "n1")
        n2 = await add_message(sessions, "n2")
        same_key_elsewhere = await add_message(sessions, "a1", instance=TG, ordering_key="A")

        first = await store.claim(
            sessions,
            instances=[KG, TG],
            now=NOW,
            lease_seconds=LEASE,
            limit=10,
            max_attempts=MAX_ATTEMPTS,
        )
        assert [message.id for message in first] == [a1, b1, n1, n2, same_key_elsewhere]
        assert await claim_ids(sessions) == []  # a2 waits while a1 is being delivered

        await store.mark_delivered(sessions, first[0], status=200, now=NOW)
        assert await claim_ids(sessions) == [a2]

    async def test_a_retry_waiting_for_its_time_holds_back_younger_messages_of_its_key(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        a1 = await add_message(sessions, "a1", ordering_key="A")
        a2 = await add_message(sessions, "a2", ordering_key="A")
        first = await claim_one(sessions)
        await store.record_outcome(
            sessions, first, DeliveryResult(503), now=NOW, policy=RetryPolicy(base_seconds=10)
        )

        assert await claim_ids(sessions, at=timedelta(seconds=5)) == []
        assert await claim_ids(sessions, at=timedelta(seconds=11)) == [a1]
        assert a2 not in await claim_ids(sessions, at=timedelta(seconds=11))

    async def test_a_dead_message_no_longer_holds_back_its_key(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await add_message(sessions, "a1", ordering_key="A")
        a2 = await add_message(sessions, "a2", ordering_key="A")
        first = await claim_one(sessions)

        await store.record_outcome(sessions, first, DeliveryResult(400), now=NOW, policy=NO_JITTER)

        assert await claim_ids(sessions) == [a2]

    async def test_an_expired_lease_is_claimed_again(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id, first, second = await claim_twice_across_an_expired_lease(sessions)

        assert second.id == first.id == message_id
        assert second.lease_until == NOW + timedelta(seconds=2 * LEASE + 1)

    async def test_a_lost_lease_counts_as_a_failed_attempt(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id, first, second = await claim_twice_across_an_expired_lease(sessions)

        assert (first.attempts, second.attempts) == (0, 1)
        row = await read(sessions, message_id)
        assert (row.attempts, row.last_error) == (1, store.LEASE_LOST)

    async def test_a_message_whose_worker_always_dies_is_dead_at_max_attempts(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        """Without the count, a message that crashes every worker is claimed forever."""
        message_id = await add_message(sessions, "poison")
        at, claims = NOW, 0
        for _ in range(10):  # bounded: more rounds than attempts allowed
            claimed = await store.claim(
                sessions, instances=[KG], now=at, lease_seconds=LEASE, limit=1, max_attempts=3
            )
            if not claimed:
                break
            claims += 1
            at += timedelta(seconds=LEASE + 1)  # the worker never records an outcome

        assert claims == 3
        row = await read(sessions, message_id)
        assert (row.state, row.attempts, row.last_error) == (
            OutboxState.DEAD,
            3,
            store.LEASE_LOST,
        )


class TestOutcomes:
    async def test_the_first_workers_late_outcome_is_ignored_after_a_new_claim(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id, slow, fresh = await claim_twice_across_an_expired_lease(sessions)
        late = NOW + timedelta(seconds=LEASE + 2)

        assert not await store.mark_delivered(sessions, slow, status=200, now=late)
        assert (
            await store.record_outcome(
                sessions, slow, DeliveryResult(503), now=late, policy=NO_JITTER
            )
            is None
        )
        row = await read(sessions, message_id)
        assert (row.state, row.lease_until, row.attempts) == (
            OutboxState.DELIVERING,
            fresh.lease_until,
            1,  # the lease the slow worker lost, not its late outcome
        )

        outcome = await store.record_outcome(
            sessions, fresh, DeliveryResult(201), now=late, policy=NO_JITTER
        )
        assert outcome is OutboxState.DELIVERED
        assert (await read(sessions, message_id)).last_status == 201

    async def test_a_late_outcome_does_not_undo_the_new_claims_failure(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id, slow, fresh = await claim_twice_across_an_expired_lease(sessions)
        await store.record_outcome(
            sessions, fresh, DeliveryResult(None, "down"), now=NOW, policy=NO_JITTER
        )

        assert not await store.mark_delivered(sessions, slow, status=200, now=NOW)
        row = await read(sessions, message_id)
        # Two failures: the lease the slow worker lost, and the new claim's own.
        assert (row.state, row.attempts, row.delivered_at) == (OutboxState.PENDING, 2, None)

    async def test_a_late_outcome_still_counts_when_nobody_claimed_the_message_again(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        slow = await claim_one(sessions)

        assert await store.mark_delivered(
            sessions, slow, status=200, now=NOW + timedelta(seconds=LEASE * 3)
        )
        assert (await read(sessions, message_id)).state == OutboxState.DELIVERED

    async def test_delivery_records_status_and_time_and_releases_the_lease(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        message = await claim_one(sessions)
        at = NOW + timedelta(seconds=2)

        await store.record_outcome(sessions, message, DeliveryResult(202), now=at, policy=NO_JITTER)

        row = await read(sessions, message_id)
        assert (row.state, row.last_status, row.delivered_at, row.lease_until, row.attempts) == (
            OutboxState.DELIVERED,
            202,
            at,
            None,
            1,  # the delivering attempt is one: a delivered message was tried at least once
        )

    async def test_a_delivered_message_keeps_only_its_bodys_digest_a_dead_one_its_body(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        body = b'{"applicant": "Nguyen Van A", "cccd": "091087000123"}'
        delivered = await add_message(sessions, "d", body=body)
        refused = await add_message(sessions, "r", body=body)
        for message in await store.claim(
            sessions, instances=(KG,), now=NOW, lease_seconds=LEASE, limit=2, max_attempts=8
        ):
            status = 200 if message.id == delivered else 400
            await store.record_outcome(
                sessions, message, DeliveryResult(status), now=NOW, policy=NO_JITTER
            )

        kept = await read(sessions, delivered)
        assert b"091087000123" not in kept.body
        assert body_facts(kept) == (len(body), hashlib.sha256(body).hexdigest())
        dead = await read(sessions, refused)
        assert (dead.state, dead.body) == (OutboxState.DEAD, body)  # for a re-drive

    async def test_a_delivery_after_a_failure_counts_both_attempts(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        failed = await claim_one(sessions)
        await store.record_outcome(sessions, failed, DeliveryResult(503), now=NOW, policy=NO_JITTER)
        retried = await claim_one(sessions, at=timedelta(minutes=10))

        await store.record_outcome(
            sessions, retried, DeliveryResult(200), now=NOW, policy=NO_JITTER
        )

        assert (await read(sessions, message_id)).attempts == 2

    @pytest.mark.parametrize(
        ("result", "error"),
        [
            (DeliveryResult(None, "ConnectError: refused"), "ConnectError: refused"),
            (DeliveryResult(None), "no answer"),
            (DeliveryResult(503), "answered 503"),
            (DeliveryResult(500, "INTERNAL_ERROR: boom"), "INTERNAL_ERROR: boom"),
            (DeliveryResult(408), "answered 408"),
            (DeliveryResult(425), "answered 425"),
            (DeliveryResult(429, "RATE_LIMITED: slow down"), "RATE_LIMITED: slow down"),
        ],
    )
    async def test_a_failure_that_may_pass_schedules_the_next_attempt(
        self, sessions: async_sessionmaker[AsyncSession], result: DeliveryResult, error: str
    ) -> None:
        message_id = await add_message(sessions, "m")
        message = await claim_one(sessions)

        state = await store.record_outcome(sessions, message, result, now=NOW, policy=NO_JITTER)

        row = await read(sessions, message_id)
        assert state is OutboxState.PENDING
        assert (row.state, row.attempts, row.next_attempt_at, row.lease_until) == (
            OutboxState.PENDING,
            1,
            NOW + timedelta(seconds=0.5),
            None,
        )
        assert (row.last_status, row.last_error) == (result.status, error)

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
    async def test_a_refusal_is_dead_at_once(
        self, sessions: async_sessionmaker[AsyncSession], status: int
    ) -> None:
        message_id = await add_message(sessions, "m")
        message = await claim_one(sessions)

        state = await store.record_outcome(
            sessions,
            message,
            DeliveryResult(status, "INVALID_REQUEST: no"),
            now=NOW,
            policy=NO_JITTER,
        )

        row = await read(sessions, message_id)
        assert state is OutboxState.DEAD
        assert (row.state, row.attempts, row.last_status, row.last_error) == (
            OutboxState.DEAD,
            1,
            status,
            "INVALID_REQUEST: no",
        )

    async def test_back_off_grows_with_each_failure_and_the_message_dies_at_max_attempts(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        policy = RetryPolicy(max_attempts=4, base_seconds=1, max_seconds=3, uniform=lambda: 0.0)
        at, waits, outcomes = NOW, [], []
        for _ in range(4):
            [message] = await store.claim(
                sessions,
                instances=[KG],
                now=at,
                lease_seconds=LEASE,
                limit=1,
                max_attempts=policy.max_attempts,
            )
            outcomes.append(
                await store.record_outcome(
                    sessions, message, DeliveryResult(503), now=at, policy=policy
                )
            )
            row = await read(sessions, message_id)
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at

        assert outcomes == [OutboxState.PENDING] * 3 + [OutboxState.DEAD]
        assert waits[:3] == [timedelta(seconds=1), timedelta(seconds=2), timedelta(seconds=3)]
        row = await read(sessions, message_id)
        assert (row.state, row.attempts) == (OutboxState.DEAD, 4)
        assert await claim_ids(sessions, at=timedelta(days=1)) == []

    async def test_a_long_error_is_stored_as_one_bounded_line(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        message_id = await add_message(sessions, "m")
        message = await claim_one(sessions)
        error = "ReadError: reset\nTraceback (most recent call last):\n" + "x" * 5000

        await store.record_outcome(
            sessions, message, DeliveryResult(None, error), now=NOW, policy=NO_JITTER
        )

        stored = (await read(sessions, message_id)).last_error
        assert stored is not None
        assert len(stored) == store.MAX_ERROR_LENGTH
        assert "\n" not in stored


class TestRedrive:
    @pytest.mark.parametrize("state", [OutboxState.DEAD, OutboxState.PENDING])
    async def test_a_dead_or_pending_message_is_sent_again_now_with_fresh_attempts(
        self, sessions: async_sessionmaker[AsyncSession], state: OutboxState
    ) -> None:
        message_id = await add_message(sessions, "m")
        await force(
            sessions,
            message_id,
            state=state,
            attempts=8,
            next_attempt_at=NOW + timedelta(hours=1),
            last_status=503,
        )
        at = NOW + timedelta(minutes=5)

        message = await store.redrive(sessions, instance=KG, message_id=message_id, now=at)

        assert (message.state, message.attempts, message.next_attempt_at) == (
            OutboxState.PENDING,
            0,
            at,
        )
        assert message.last_status == 503  # why it died stays visible
        assert await claim_ids(sessions, at=timedelta(minutes=5)) == [message_id]

    @pytest.mark.parametrize("state", [OutboxState.DELIVERED, OutboxState.DELIVERING])
    async def test_a_delivered_or_delivering_message_cannot_be_re_driven(
        self, sessions: async_sessionmaker[AsyncSession], state: OutboxState
    ) -> None:
        message_id = await add_message(sessions, "m")
        await force(sessions, message_id, state=state, lease_until=NOW + timedelta(seconds=LEASE))

        with pytest.raises(OutboxConflict) as raised:
            await store.redrive(sessions, instance=KG, message_id=message_id, now=NOW)

        assert raised.value.extensions == {"state": state.value}
        assert (await read(sessions, message_id)).state == state

    async def test_another_instances_message_is_not_found(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        theirs = await add_message(sessions, "m", instance=TG)
        await force(sessions, theirs, state=OutboxState.DEAD)

        for message_id in (theirs, theirs + 1000):
            with pytest.raises(NotFound):
                await store.redrive(sessions, instance=KG, message_id=message_id, now=NOW)
        assert (await read(sessions, theirs)).state == OutboxState.DEAD

    async def test_re_driving_all_dead_messages_touches_only_this_instances_dead(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        dead = [await add_message(sessions, f"d{n}") for n in range(3)]
        delivered = await add_message(sessions, "ok")
        theirs = await add_message(sessions, "d0", instance=TG)
        for message_id in (*dead, theirs):
            await force(sessions, message_id, state=OutboxState.DEAD, attempts=8)
        await force(sessions, delivered, state=OutboxState.DELIVERED)

        assert await store.redrive_dead(sessions, instance=KG, now=NOW) == 3

        assert [(await read(sessions, i)).state for i in dead] == [OutboxState.PENDING] * 3
        assert (await read(sessions, delivered)).state == OutboxState.DELIVERED
        assert (await read(sessions, theirs)).state == OutboxState.DEAD
        assert await store.redrive_dead(sessions, instance=KG, now=NOW) == 0


DEAD = OutboxState.DEAD


async def kiengiang_messages(
    sessions: async_sessionmaker[AsyncSession], *states: OutboxState | None
) -> list[int]:
    """One Kiên Giang message per state (None: left pending), beside a pending Tiền Giang one."""
    ids = [await add_message(sessions, f"m{n}") for n in range(len(states))]
    await add_message(sessions, "m0", instance=TG)
    for message_id, state in zip(ids, states, strict=True):
        if state is not None:
            await force(sessions, message_id, state=state)
    return ids


class TestAdminQueries:
    async def test_lists_an_instances_messages_by_state_in_pages(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        ids = await kiengiang_messages(sessions, None, DEAD, None, DEAD, None)

        async def page(**filters: object) -> list[int]:
            found = await store.list_messages(sessions, instance=KG, **filters)  # type: ignore[arg-type]
            return [message.id for message in found]

        assert await page() == ids
        assert await page(limit=2) == ids[:2]
        assert await page(limit=2, after_id=ids[1]) == ids[2:4]
        assert await page(state=OutboxState.DEAD) == [ids[1], ids[3]]
        assert await page(state=OutboxState.DEAD, after_id=ids[1]) == [ids[3]]
        assert await page(state=OutboxState.DELIVERED) == []

    async def test_a_page_is_never_longer_than_the_maximum(
        self, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(store, "MAX_PAGE_SIZE", 2)
        for n in range(3):
            await add_message(sessions, f"m{n}")

        assert len(await store.list_messages(sessions, instance=KG, limit=1000)) == 2

    async def test_counts_every_state_of_one_instance(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        await kiengiang_messages(sessions, DEAD, DEAD, OutboxState.DELIVERED, None)

        assert await store.count_by_state(sessions, instance=KG) == {
            OutboxState.PENDING: 1,
            OutboxState.DELIVERING: 0,
            OutboxState.DELIVERED: 1,
            OutboxState.DEAD: 2,
        }

    async def test_gets_one_message_of_this_instance_only(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        ours = await add_message(sessions, "m")
        theirs = await add_message(sessions, "m", instance=TG)

        found = await store.get_message(sessions, instance=KG, message_id=ours)
        assert found is not None
        assert found.idempotency_key == "m"
        assert await store.get_message(sessions, instance=KG, message_id=theirs) is None


async def test_a_claim_that_finds_nothing_due_does_not_wait_for_the_write_lock(
    sqlite_file: str, file_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """An idle worker's poll reads; it takes SQLite's write lock only when something is due,
    so it never queues behind the audit writer, nor holds that writer up."""
    later = await add_message(file_sessions, "later")
    writer = hold_write_lock(sqlite_file)
    try:
        with anyio.fail_after(20):  # the busy timeout is longer: without the read, it waits
            assert await claim_ids(file_sessions, at=-timedelta(hours=1)) == []
        writer.execute("ROLLBACK")
    finally:
        writer.close()

    assert await claim_ids(file_sessions) == [later]  # due now: claimed as before
