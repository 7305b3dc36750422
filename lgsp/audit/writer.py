"""Appends hops to the audit chains durably: `append` returns only once the records are committed.

The gateway answers 2xx only after `append` returns, and 503 if it raises (DESIGN.md §3), so
every append is one transaction that either links all its records or none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.audit.chain import AuditEntry, record_hash
from lgsp.audit.repository import AuditRepository


class AuditWriter:
    """Links entries onto their instances' chains, one writer at a time.

    The lock keeps this process's appends from queueing on the database lock. Other processes
    are held off by the database itself: `BEGIN IMMEDIATE` on SQLite, and on PostgreSQL a
    `SELECT … FOR UPDATE` of each head before it is read.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._lock = asyncio.Lock()

    async def append(self, entries: Sequence[AuditEntry]) -> None:
        """Link and commit `entries` (for any instances) in one transaction, in order."""
        if not entries:
            return
        async with self._lock:
            await self._write_batch(entries)

    async def _write_batch(self, entries: Sequence[AuditEntry]) -> None:
        """Write one batch in one transaction: the seam where group commit will plug in."""
        async with self._session_factory() as session:
            # Read by lgsp.db's SQLite `begin` hook (take the write lock before reading the
            # head); other dialects ignore the option.
            await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            repository = AuditRepository(session)
            # Lock heads in one fixed order so that two processes never deadlock on PostgreSQL.
            heads = {
                instance: await repository.lock_head(instance)
                for instance in sorted({entry.instance for entry in entries})
            }
            for entry in entries:
                head = heads[entry.instance]
                seq = head.seq + 1
                digest = record_hash(entry, seq=seq, prev_hash=head.hash)
                repository.add(entry, seq=seq, prev_hash=head.hash, hash=digest)
                head.seq, head.hash = seq, digest
            await session.commit()
