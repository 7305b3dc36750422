"""What every stateful mock's store shares: one instance's rows, in the caller's transaction.

A store holds a mock's SQL and never commits: the route owns the transaction
(`mocks.stateful.write_transaction`), so what one request writes is kept together or not at all.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol, TypeVar, TypeVarTuple

from sqlalchemy import ColumnElement, FromClause, Result, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


class KeyRecord(Protocol):
    """A row that keeps an `Idempotency-Key` once per instance: its table is unique on its
    `instance` and `key` columns."""

    __table__: ClassVar[FromClause]
    key: str


_Key = TypeVar("_Key", bound=KeyRecord)
_Columns = TypeVarTuple("_Columns")


class InstanceStore:
    """The base of a store of one instance's rows (the bus instance the mock serves)."""

    def __init__(self, session: AsyncSession, instance: str) -> None:
        self._session = session
        self._instance = instance

    @property
    def instance(self) -> str:
        return self._instance

    async def _added(self, record: object) -> bool:
        """Insert `record` inside a SAVEPOINT; False when a unique key refused it because its
        twin came first (on PostgreSQL a concurrent twin waits here for the first to commit)."""
        try:
            async with self._session.begin_nested():
                self._session.add(record)
                await self._session.flush()
        except IntegrityError:
            return False
        return True

    async def _claim(self, record: _Key) -> tuple[_Key, bool]:
        """Keep `record`'s key: (`record`, True) if it is new, else (the row that had the key
        first, False): a redelivery, or a key reused for another message."""
        if await self._added(record):
            return record, True
        kind = type(record)
        columns = kind.__table__.c
        earlier = select(kind).where(columns.instance == self._instance, columns.key == record.key)
        return (await self._session.execute(earlier)).scalar_one(), False


def given(*filters: tuple[InstrumentedAttribute[Any], object]) -> list[ColumnElement[bool]]:
    """`column == value` for each of a list's optional filters whose value is given (not None)."""
    return [column == value for column, value in filters if value is not None]


async def paged(
    session: AsyncSession, statement: Select[*_Columns], *, page: int, size: int
) -> tuple[Result[*_Columns], int]:
    """Page `page` (from 1) of `size` rows of the ordered `statement`, and how many rows it has
    in all: what a list endpoint answers, counted over the same conditions as the page."""
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    total = (await session.execute(counted)).scalar_one()
    rows = await session.execute(statement.offset((page - 1) * size).limit(size))
    return rows, total
