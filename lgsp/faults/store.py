"""Every statement on the fault rules table; each function runs its own short transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.db import column_values
from lgsp.faults.models import FaultRuleRecord
from lgsp.faults.schemas import FaultRuleIn, FaultRuleOut
from lgsp.path_patterns import STORED

Sessions = async_sessionmaker[AsyncSession]
_DEFINITION = frozenset({"definition"})


def to_out(record: FaultRuleRecord) -> FaultRuleOut:
    """The rule as stored (its definition) with the row's own columns: id, count left, expiry."""
    rule = FaultRuleIn.model_validate_json(record.definition, context=STORED)
    return FaultRuleOut.model_validate(
        {**column_values(record, exclude=_DEFINITION), **rule.model_dump(exclude_none=True)},
        context=STORED,
    )


async def add_rule(
    sessions: Sessions, *, instance: str, rule: FaultRuleIn, now: datetime
) -> FaultRuleRecord:
    record = FaultRuleRecord(
        instance=instance,
        definition=rule.model_dump_json(exclude_none=True),
        times=rule.times,
        remaining=rule.times,
        expires_at=None if rule.expires_in is None else now + timedelta(seconds=rule.expires_in),
        created_at=now,
    )
    async with sessions.begin() as session:
        session.add(record)
    return record


async def active_rules(
    sessions: Sessions, *, instance: str, now: datetime
) -> Sequence[FaultRuleRecord]:
    """Rules that may still apply, in the order they are tried (oldest first)."""
    statement = (
        select(FaultRuleRecord)
        .where(
            FaultRuleRecord.instance == instance,
            or_(FaultRuleRecord.expires_at.is_(None), FaultRuleRecord.expires_at > now),
        )
        .order_by(FaultRuleRecord.id)
    )
    async with sessions() as session:
        return (await session.execute(statement)).scalars().all()


async def claim(sessions: Sessions, *, rule_id: int, now: datetime) -> bool:
    """Use one of a counted rule's applications; False once they are all used (or it expired).

    One conditional UPDATE: the database serialises concurrent claims (a row lock on
    PostgreSQL, the write lock on SQLite), so exactly `times` calls win whatever the concurrency
    and however many processes serve the instance.
    """
    statement = (
        update(FaultRuleRecord)
        .where(
            FaultRuleRecord.id == rule_id,
            FaultRuleRecord.remaining > 0,
            or_(FaultRuleRecord.expires_at.is_(None), FaultRuleRecord.expires_at > now),
        )
        .values(remaining=FaultRuleRecord.remaining - 1)
        .returning(FaultRuleRecord.id)
    )
    async with sessions.begin() as session:
        return (await session.execute(statement)).scalar_one_or_none() is not None


async def remove_rule(sessions: Sessions, *, instance: str, rule_id: int) -> bool:
    statement = (
        delete(FaultRuleRecord)
        .where(FaultRuleRecord.instance == instance, FaultRuleRecord.id == rule_id)
        .returning(FaultRuleRecord.id)
    )
    async with sessions.begin() as session:
        return (await session.execute(statement)).scalar_one_or_none() is not None


async def clear_rules(sessions: Sessions, *, instances: Sequence[str]) -> int:
    statement = (
        delete(FaultRuleRecord)
        .where(FaultRuleRecord.instance.in_(instances))
        .returning(FaultRuleRecord.id)
    )
    async with sessions.begin() as session:
        return len((await session.execute(statement)).scalars().all())
