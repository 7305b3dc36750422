"""The loop that empties an outbox: claim due messages, deliver them, record each outcome.

Any number of workers, in any number of processes, may serve the same instances: claims are
disjoint (see `store.claim`), and a message whose worker vanished is claimed again when its
lease ends. Delivery is therefore at least once; recipients deduplicate on `Idempotency-Key`.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kit.deadline import within
from lgsp.outbox.models import OutboxState
from lgsp.outbox.store import (
    ClaimedMessage,
    DeliveryResult,
    RetryPolicy,
    claim,
    record_outcome,
    short_error,
)

__all__ = ["ClaimedMessage", "DeliveryResult", "Deliver", "OutboxWorker", "RetryPolicy"]

logger = logging.getLogger(__name__)

Deliver = Callable[[ClaimedMessage], Awaitable[DeliveryResult]]
"""Makes one attempt; raising counts as getting no answer."""

RETRY_SLACK = 0.01
"""Seconds past a retried message's due time before the worker looks for it: clocks differ."""

MAX_KEPT_ATTEMPTS = 10_000
"""The most attempts past their deadline the worker keeps for a retry to take their outcome."""

MAX_ERROR_PAUSE = 30.0
"""The longest wait after a failed round, however long the database stays away."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxWorker:
    """Delivers the outbox messages of `instances`, batch after batch, until stopped.

    Each delivery is cut off after `delivery_timeout` seconds (half the lease unless given), so
    that its outcome is recorded while the claim still holds. The attempt itself is not cut
    (`kit.deadline`): the message's retry in this worker waits for it, and takes its outcome
    once it comes, rather than sending the message again beside it.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        instances: Sequence[str],
        deliver: Deliver,
        policy: RetryPolicy | None = None,
        poll_seconds: float = 0.2,
        lease_seconds: float = 30.0,
        batch_size: int = 20,
        delivery_timeout: float | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if poll_seconds <= 0 or lease_seconds <= 0 or batch_size < 1:
            raise ValueError("poll_seconds and lease_seconds must be positive, batch_size >= 1")
        self._sessions = sessions
        self._instances = tuple(instances)
        self._deliver = deliver
        self._policy = policy or RetryPolicy()
        self._poll_seconds = poll_seconds
        self._lease_seconds = lease_seconds
        self._batch_size = batch_size
        self._delivery_timeout = delivery_timeout or lease_seconds / 2
        if self._delivery_timeout >= lease_seconds:
            raise ValueError("delivery_timeout must be shorter than the lease")
        self._clock = clock
        self._wake = asyncio.Event()
        self._retries: list[float] = []
        """Event-loop times at which a message this worker saw fail is due again (a heap)."""
        self.fallback_polls = 0
        """Rounds begun because a whole poll interval passed without a wake-up: the fallback
        for messages stored by other processes. A hand-over taken, or a message re-driven, in
        this process wakes the worker at once (`wake()`), and a failed attempt of its own when
        the message is due again; none of them waits for the poll."""
        self._stopping = False
        self._finished: asyncio.Event | None = None
        self._round = asyncio.Lock()
        self._attempts: dict[tuple[str, int, str], asyncio.Future[DeliveryResult]] = {}
        """Attempts cut off at their deadline, by message (id and key: an id may be given again
        once `POST /admin/reset` deleted its message), until a retry takes their outcome: at
        most one attempt per message runs at a time, and one that ends late still counts."""

    def wake(self) -> None:
        """Look for due messages now rather than after the poll interval: call it once a message
        is committed (a hand-over taken, a message re-driven)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until `stop()`; a failing database is waited out, never fatal.

        A stopped worker stays stopped: `stop()` before `run()` makes `run()` return at once.
        """
        if self._finished is not None and not self._finished.is_set():
            raise RuntimeError("this worker is already running")
        self._finished = asyncio.Event()
        failures = 0
        try:
            while not self._stopping:
                try:
                    async with self._round:
                        claimed = 0 if self._stopped() else await self.drain_once()
                except Exception as error:
                    failures += 1
                    # Capped exponent: a database away for days must not overflow the float.
                    pause = min(self._poll_seconds * 2 ** min(failures, 30), MAX_ERROR_PAUSE)
                    logger.warning(
                        "outbox worker for %s: round failed (%s); next try in %.3g s",
                        ",".join(self._instances),
                        _describe(error),
                        pause,
                    )
                    logger.debug("outbox worker round failure", exc_info=error)
                    await self._pause(pause)
                    continue
                failures = 0
                if claimed < self._batch_size:
                    pause = self._until_next_retry()
                    if not await self._pause(pause) and pause == self._poll_seconds:
                        self.fallback_polls += 1
        finally:
            self._finished.set()

    async def stop(self) -> None:
        """Claim nothing more, let the deliveries under way finish and be recorded, then return."""
        self._stopping = True
        self._wake.set()
        if self._finished is not None:
            await self._finished.wait()

    def _stopped(self) -> bool:
        """Read afresh: `stop()` may have come while the round waited for a pause to end."""
        return self._stopping

    @asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Claim nothing while the block runs; a round under way is finished and recorded first.

        `POST {base}/admin/reset` deletes the outboxes under it, so that no delivery in flight
        lands in a mock that was just seeded again.
        """
        async with self._round:
            try:
                yield
            finally:
                # Outcomes from before a reset are no one's: a message enqueued after it may
                # have a deleted one's id and key.
                self._attempts.clear()

    async def drain_once(self) -> int:
        """One round: claim a batch and deliver it; returns how many messages were claimed.

        Raises when the database fails. Messages whose outcome could not be recorded stay
        claimed until their lease ends, then are delivered again.
        """
        messages = await claim(
            self._sessions,
            instances=self._instances,
            now=self._clock(),
            lease_seconds=self._lease_seconds,
            limit=self._batch_size,
            max_attempts=self._policy.max_attempts,
        )
        if not messages:
            return 0
        recorded = await asyncio.gather(
            *(self._attempt(message) for message in messages), return_exceptions=True
        )
        failed = [outcome for outcome in recorded if isinstance(outcome, Exception)]
        if failed:
            raise failed[0]
        return len(messages)

    async def _attempt(self, message: ClaimedMessage) -> None:
        result = await self._delivery(message)
        state = await record_outcome(
            self._sessions, message, result, now=self._clock(), policy=self._policy
        )
        if state is OutboxState.PENDING:  # failed, to be retried: look again once it is due
            due = self._policy.longest_delay(message.attempts + 1).total_seconds()
            heapq.heappush(self._retries, asyncio.get_running_loop().time() + due + RETRY_SLACK)
        if state is None:
            logger.info(
                "outbox message %d was claimed again before its outcome (%s) was recorded",
                message.id,
                result.status,
            )

    async def _delivery(self, message: ClaimedMessage) -> DeliveryResult:
        """The outcome of the message's attempt under way in this process, if one still runs
        past an earlier deadline, else of a new attempt: at most one runs at a time."""
        key = (message.instance, message.id, message.idempotency_key)
        attempt = self._attempts.get(key)
        if attempt is None:
            attempt = asyncio.ensure_future(self._deliver(message))
            self._attempts[key] = attempt
            self._forget_old_attempts()
        else:
            logger.info(
                "outbox message %d: the outcome of its attempt past its deadline is "
                "awaited, not a new attempt",
                message.id,
            )
        try:
            # Not cancelled at the timeout, as a remote system would not be: cut short, the
            # in-process call's transactions could leave the database locked (kit.deadline).
            # The next retry waits for it again (or takes its late outcome) instead.
            result = await within(self._delivery_timeout, attempt)
            self._attempts.pop(key, None)
            return result
        except TimeoutError:
            return DeliveryResult(None, f"no answer within {self._delivery_timeout:g} s")
        except Exception as error:
            self._attempts.pop(key, None)
            return DeliveryResult(None, _describe(error))

    def _forget_old_attempts(self) -> None:
        """Drop the oldest attempts that ended unawaited (their message was delivered by
        another process, or reset) past `MAX_KEPT_ATTEMPTS`; any still running stays."""
        if len(self._attempts) <= MAX_KEPT_ATTEMPTS:
            return
        for key in [key for key, attempt in self._attempts.items() if attempt.done()]:
            del self._attempts[key]
            if len(self._attempts) <= MAX_KEPT_ATTEMPTS:
                return

    def _until_next_retry(self) -> float:
        """The poll interval, or less when a message this worker saw fail is due before."""
        now = asyncio.get_running_loop().time()
        while self._retries and self._retries[0] <= now:
            heapq.heappop(self._retries)  # due, and looked for by the round just made
        if not self._retries:
            return self._poll_seconds
        return min(self._poll_seconds, self._retries[0] - now)

    async def _pause(self, seconds: float) -> bool:
        """Sleep, unless woken by `wake()` or `stop()`; whether it was woken."""
        woken = True
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            woken = False
        self._wake.clear()
        return woken


def _describe(error: BaseException) -> str:
    """The exception's class and first line: no traceback, bounded (it may be stored)."""
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__
    return short_error(text) or type(error).__name__
