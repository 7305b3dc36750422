"""What every stateful mock's store shares: one instance's rows, in the caller's transaction.

A store holds a mock's SQL and never commits: the route owns the transaction
(`mocks.stateful.write_transaction`), so what one request writes is kept together or not at all.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


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
