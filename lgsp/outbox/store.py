"""Every statement on the outbox: claiming due messages, recording outcomes, admin queries.

Workers in several processes share one outbox, so a claim takes a lease in one transaction
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite, DESIGN.md §4) and every
later update names the lease it holds: a worker that outlived its lease finds its message claimed
again and its late outcome is dropped, never written over the newer claim's.
"""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import (
    BindParameter,
    Executable,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from lgsp.db import UTCDateTime
from lgsp.errors import NotFound, OutboxConflict
from lgsp.masking import mask_personal_data
from lgsp.outbox.models import OutboxMessage, OutboxState
from lgsp.outbox.receipts import receipt

MAX_PAGE_SIZE = 200
MAX_ERROR_LENGTH = 200
_ACTIVE = (OutboxState.PENDING.value, OutboxState.DELIVERING.value)
LEASE_LOST = "no outcome was recorded before the lease ended (the worker stopped or hung)"
_REDRIVABLE = (OutboxState.PENDING.value, OutboxState.DEAD.value)
# Answers that may well differ on a later try (RFC 9110 §15.5.9 408, RFC 8470 425, RFC 6585 429).
_RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ClaimedMessage:
    """What a worker needs to make one delivery attempt, as of its claim."""

    id: int
    instance: str
    client_id: str
    service: str
    version: str
    method: str
    path: str
    target_instance: str | None
    content_type: str | None
    body: bytes
    request_id: str
    idempotency_key: str
    attempts: int
    """Failed attempts before this one."""
    lease_until: datetime
    """The claim's own lease: outcomes are recorded only while the message still holds it."""


@dataclass(frozen=True)
class DeliveryResult:
    """One attempt's outcome: the recipient's status, or None when no answer came back."""

    status: int | None
    error: str | None = None


class Verdict(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


def classify(status: int | None) -> Verdict:
    """What an answer means for the message.

    No answer, a 5xx, 408, 425 and 429 may go better later. Any other 4xx is a refusal that
    repeating the same request cannot change: the message is dead until an admin has fixed the
    cause and re-drives it.
    """
    if status is None or status >= 500 or status in _RETRYABLE_CLIENT_ERRORS:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    return Verdict.REFUSED


def _uniform() -> float:
    # Jitter only spreads retries apart; it needs no cryptographic randomness.
    return random.random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with bounded jitter, and the number of failures that kill a message."""

    max_attempts: int = 8
    base_seconds: float = 0.5
    max_seconds: float = 60.0
    jitter: float = 0.2
    """Each wait is shortened by up to this fraction, so that failed messages spread out."""
    uniform: Callable[[], float] = field(default=_uniform, compare=False, repr=False)
    """Returns a number in [0, 1); tests pass a constant."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 < self.base_seconds <= self.max_seconds:
            raise ValueError("need 0 < base_seconds <= max_seconds")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be in [0, 1)")

    def delay(self, failures: int) -> timedelta:
        """The wait after the `failures`-th failed attempt: base · 2^(failures-1), capped."""
        return self.longest_delay(failures) * (1 - self.jitter * self.uniform())

    def longest_delay(self, failures: int) -> timedelta:
        """`delay(failures)` before its jitter, which only shortens it: the message is due by
        then (the worker that recorded the failure looks again at that time)."""
        exponent = min(max(failures - 1, 0), 60)  # 2^60 · base is past any cap; no overflow
        return timedelta(seconds=min(self.max_seconds, self.base_seconds * 2.0**exponent))


def short_error(error: str | None) -> str | None:
    """One line of at most MAX_ERROR_LENGTH characters, as the table and the admin API keep it.

    No traceback or body fits; id numbers are masked (an error may quote a URL), and control
    characters escaped (PostgreSQL refuses NUL in text: the outcome could not be recorded).
    """
    if error is None:
        return None
    line = mask_personal_data(_WHITESPACE.sub(" ", error).strip())
    line = _CONTROL.sub(lambda match: f"%{ord(match.group()):02X}", line)
    return line if len(line) <= MAX_ERROR_LENGTH else line[: MAX_ERROR_LENGTH - 1] + "…"


_CLAIMED_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.instance,
    OutboxMessage.client_id,
    OutboxMessage.service,
    OutboxMessage.version,
    OutboxMessage.method,
    OutboxMessage.path,
    OutboxMessage.target_instance,
    OutboxMessage.content_type,
    OutboxMessage.body,
    OutboxMessage.request_id,
    OutboxMessage.idempotency_key,
    OutboxMessage.attempts,
    OutboxMessage.lease_until,
)


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    *,
    instances: Sequence[str],
    now: datetime,
    lease_seconds: float,
    limit: int,
    max_attempts: int,
) -> list[ClaimedMessage]:
    """Lease up to `limit` due messages of `instances`, oldest first.

    Due: pending and its time has come, or delivering under a lease that has run out (its
    worker died). A message waits while an older one of its ordering key is pending or
    delivering, so each key's messages arrive in order.

    A lease that ran out counts as a failed attempt: a message that makes every worker crash
    or hang would otherwise be claimed forever. At `max_attempts` it is dead instead.
    """
    if not instances or limit < 1:
        return []
    statements = _claim_statements()
    values = {"now": now, "instances": list(instances), "max_attempts": max_attempts}
    async with sessions() as session:
        # Nothing due, the usual answer of an idle poll: known from one read, without taking
        # SQLite's write lock (which the audit writer waits for) or writing anything.
        if await session.scalar(statements.anything_due, values) is None:
            return []
    async with sessions() as session:
        # SQLite: take the write lock before reading (lgsp/db.py's `begin` hook), so that two
        # claimers never read the same due rows; PostgreSQL ignores the option.
        connection = await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        # PostgreSQL: rows another worker is claiming are skipped, not waited for.
        due = statements.due_locked if connection.dialect.name == "postgresql" else statements.due
        await session.execute(statements.bury_lost, values)
        ids = list((await session.scalars(due, {**values, "limit": limit})).all())
        if not ids:
            await session.commit()
            return []
        lease_until = now + timedelta(seconds=lease_seconds)
        rows = await session.execute(
            statements.lease, {**values, "ids": ids, "new_lease": lease_until}
        )
        claimed = [ClaimedMessage(**row._asdict()) for row in rows]
        await session.commit()
    return sorted(claimed, key=lambda message: message.id)


@dataclass(frozen=True)
class _ClaimStatements:
    anything_due: Select[int]
    bury_lost: Executable
    due: Select[int]
    due_locked: Select[int]
    lease: Executable


@functools.cache
def _claim_statements() -> _ClaimStatements:
    """The claim's statements, built once with bound parameters (issue 21: rebuilding them on
    every poll was most of an idle worker's CPU). Parameters: `now`, `instances`,
    `max_attempts`, `limit`, `ids`, `new_lease`."""
    now = bindparam("now", type_=UTCDateTime)
    instances: BindParameter[list[str]] = bindparam("instances", expanding=True)
    lease_lost = and_(
        OutboxMessage.state == OutboxState.DELIVERING.value, OutboxMessage.lease_until < now
    )
    bury_lost = (
        update(OutboxMessage)
        .where(
            OutboxMessage.instance.in_(instances),
            lease_lost,
            OutboxMessage.attempts + 1 >= bindparam("max_attempts", type_=Integer),
        )
        .values(
            state=OutboxState.DEAD.value,
            attempts=OutboxMessage.attempts + 1,
            lease_until=None,
            last_status=None,
            last_error=LEASE_LOST,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    older = aliased(OutboxMessage)
    blocked_by_older = exists().where(
        older.instance == OutboxMessage.instance,
        older.ordering_key == OutboxMessage.ordering_key,
        older.id < OutboxMessage.id,
        older.state.in_(_ACTIVE),
    )
    is_due = or_(
        and_(
            OutboxMessage.state == OutboxState.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
        ),
        and_(
            OutboxMessage.state == OutboxState.DELIVERING.value,
            OutboxMessage.lease_until < now,
        ),
    )
    due = (
        select(OutboxMessage.id)
        .where(
            OutboxMessage.instance.in_(instances),
            is_due,
            or_(OutboxMessage.ordering_key.is_(None), ~blocked_by_older),
        )
        .order_by(OutboxMessage.id)
        .limit(bindparam("limit", type_=Integer))
    )
    lease = (
        update(OutboxMessage)
        # Still due: a second line of defence should the rows not be locked (an engine
        # without lgsp.db's SQLite recipe reads outside any transaction).
        .where(OutboxMessage.id.in_(bindparam("ids", expanding=True)), is_due)
        .values(
            state=OutboxState.DELIVERING.value,
            lease_until=bindparam("new_lease", type_=UTCDateTime),
            updated_at=now,
            attempts=case((lease_lost, OutboxMessage.attempts + 1), else_=OutboxMessage.attempts),
            last_error=case((lease_lost, LEASE_LOST), else_=OutboxMessage.last_error),
        )
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    anything_due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.instance.in_(instances), or_(is_due, lease_lost))
        .limit(1)
    )
    return _ClaimStatements(
        anything_due=anything_due,
        bury_lost=bury_lost,
        due=due,
        due_locked=due.with_for_update(skip_locked=True, of=OutboxMessage),
        lease=lease,
    )


async def _update_claimed(
    sessions: async_sessionmaker[AsyncSession], message: ClaimedMessage, values: dict[str, Any]
) -> bool:
    """Apply `values` only if `message` is still delivering under this very claim's lease."""
    async with sessions() as session, session.begin():
        updated = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.state == OutboxState.DELIVERING.value,
                OutboxMessage.lease_until == message.lease_until,
            )
            .values(**values)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return updated.scalar_one_or_none() is not None


async def mark_delivered(
    sessions: async_sessionmaker[AsyncSession],
    message: ClaimedMessage,
    *,
    status: int,
    now: datetime,
) -> bool:
    """Record the recipient's acknowledgement; False if the claim was lost meanwhile. The
    delivering attempt counts: a message delivered at once reports one attempt, not none. The
    body is dropped in the same update, its receipt kept (`lgsp.outbox.receipts`)."""
    return await _update_claimed(
        sessions,
        message,
        {
            "state": OutboxState.DELIVERED.value,
            "body": receipt(message.body),
            "attempts": message.attempts + 1,
            "last_status": status,
            "last_error": None,
            "lease_until": None,
            "delivered_at": now,
            "updated_at": now,
        },
    )


async def record_outcome(
    sessions: async_sessionmaker[AsyncSession],
    message: ClaimedMessage,
    result: DeliveryResult,
    *,
    now: datetime,
    policy: RetryPolicy,
) -> OutboxState | None:
    """The message's new state after this attempt: delivered, the next attempt scheduled, or
    buried; None if its claim was lost meanwhile."""
    verdict = classify(result.status)
    if verdict is Verdict.DELIVERED and result.status is not None:
        delivered = await mark_delivered(sessions, message, status=result.status, now=now)
        return OutboxState.DELIVERED if delivered else None
    failures = message.attempts + 1
    if verdict is Verdict.REFUSED or failures >= policy.max_attempts:
        state, next_attempt_at = OutboxState.DEAD, now
    else:
        state, next_attempt_at = OutboxState.PENDING, now + policy.delay(failures)
    error = result.error
    if error is None and result.status is not None:
        error = f"answered {result.status}"
    recorded = await _update_claimed(
        sessions,
        message,
        {
            "state": state.value,
            "attempts": failures,
            "next_attempt_at": next_attempt_at,
            "lease_until": None,
            "last_status": result.status,
            "last_error": short_error(error or "no answer"),
            "updated_at": now,
        },
    )
    return state if recorded else None


async def list_messages(
    sessions: async_sessionmaker[AsyncSession],
    *,
    instance: str,
    state: OutboxState | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[OutboxMessage]:
    """A page of `instance`'s messages in id order; pass the last id seen as `after_id`."""
    query = select(OutboxMessage).where(OutboxMessage.instance == instance)
    if state is not None:
        query = query.where(OutboxMessage.state == state.value)
    if after_id is not None:
        query = query.where(OutboxMessage.id > after_id)
    query = query.order_by(OutboxMessage.id).limit(max(1, min(limit, MAX_PAGE_SIZE)))
    async with sessions() as session:
        return list((await session.scalars(query)).all())


async def count_by_state(
    sessions: async_sessionmaker[AsyncSession], *, instance: str
) -> dict[OutboxState, int]:
    """How many of `instance`'s messages are in each state (every state present, maybe 0)."""
    query = (
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.instance == instance)
        .group_by(OutboxMessage.state)
    )
    async with sessions() as session:
        found = {state: count for state, count in (await session.execute(query)).all()}
    return {state: found.get(state.value, 0) for state in OutboxState}


async def get_message(
    sessions: async_sessionmaker[AsyncSession], *, instance: str, message_id: int
) -> OutboxMessage | None:
    async with sessions() as session:
        return await _get(session, instance=instance, message_id=message_id)


async def get_by_key(
    sessions: async_sessionmaker[AsyncSession], *, instance: str, key: str
) -> OutboxMessage | None:
    """The message stored under `key` (as stored: scoped to its client) in `instance`'s outbox."""
    async with sessions() as session:
        message: OutboxMessage | None = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.instance == instance, OutboxMessage.idempotency_key == key
            )
        )
        return message


async def _get(session: AsyncSession, *, instance: str, message_id: int) -> OutboxMessage | None:
    message: OutboxMessage | None = await session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.instance == instance
        )
    )
    return message


async def redrive(
    sessions: async_sessionmaker[AsyncSession],
    *,
    instance: str,
    message_id: int,
    now: datetime,
) -> OutboxMessage:
    """Send a dead or pending message again now, with a fresh count of attempts.

    A delivered message was acknowledged, and a delivering one is in a worker's hands: neither
    may be re-driven (`OutboxConflict`). A message of another instance is `NotFound`.
    """
    async with sessions() as session, session.begin():
        redriven = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.instance == instance,
                OutboxMessage.state.in_(_REDRIVABLE),
            )
            .values(_redriven(now))
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        found = redriven.scalar_one_or_none() is not None
        message = await _get(session, instance=instance, message_id=message_id)
    if message is None:
        raise NotFound(f"Outbox message {message_id} is not in the outbox of {instance}.")
    if not found:
        raise OutboxConflict(
            f"Outbox message {message_id} is {message.state}: only a dead or pending message "
            "can be re-driven.",
            state=message.state,
        )
    return message


async def redrive_dead(
    sessions: async_sessionmaker[AsyncSession], *, instance: str, now: datetime
) -> int:
    """Re-drive every dead message of `instance`; returns how many."""
    async with sessions() as session, session.begin():
        redriven = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.instance == instance,
                OutboxMessage.state == OutboxState.DEAD.value,
            )
            .values(_redriven(now))
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return len(redriven.all())


def _redriven(now: datetime) -> dict[str, Any]:
    return {
        "state": OutboxState.PENDING.value,
        "attempts": 0,
        "next_attempt_at": now,
        "lease_until": None,
        "updated_at": now,
    }
