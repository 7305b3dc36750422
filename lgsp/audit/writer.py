"""Appends hops to the audit chains durably: `append` returns only once the records are committed.

The gateway answers 2xx only after `append` returns, and 503 if it raises (DESIGN.md §3). To keep
that promise cheap, appends are group-committed: requests that arrive while a transaction is
being written wait for the next one, which links all their records at once, so a burst of N
requests costs one transaction (and one fsync) instead of N. Each request's records stay
contiguous and in order in their chain.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import String
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.audit.chain import AuditEntry, record_hash
from lgsp.audit.models import AuditRecord
from lgsp.audit.repository import AuditRepository, ChainLink
from lgsp.journal.capture import JournalEntry
from lgsp.journal.store import add_entries

logger = logging.getLogger(__name__)

MAX_BATCH_ENTRIES = 2000
"""Bound on one transaction; a larger backlog is written in several."""
MAX_BATCH_JOURNAL_BYTES = 16 * 1024 * 1024
"""The same for the journal bodies riding along (up to 2 × `LGSP_JOURNAL_MAX_BODY_BYTES` a call)."""

_LIMITS = tuple(
    (column.name, column.type.length)
    for column in AuditRecord.__table__.columns
    if isinstance(column.type, String)
    and column.type.length is not None
    and column.name in {f.name for f in dataclasses.fields(AuditEntry)}
)
"""The text fields of an entry whose column has a length, and that length."""


def bounded(entry: AuditEntry) -> AuditEntry:
    """The entry as its columns can hold it: a value too long (or with a NUL, which PostgreSQL
    text refuses) is cut and marked `…`, before it is hashed. One refused row would otherwise
    fail its whole group commit, the call answered 503 unrecorded (security probe F9)."""
    fixes: dict[str, Any] = {}
    for name, limit in _LIMITS:
        value = getattr(entry, name)
        if value is not None and (len(value) > limit or "\x00" in value):
            text = value.replace("\x00", "%00")
            fixes[name] = text if len(text) <= limit else text[: limit - 1] + "…"
    return dataclasses.replace(entry, **fixes) if fixes else entry


class AuditLog(Protocol):
    """What the gateway needs of an audit writer: `AuditWriter` (any database, through
    SQLAlchemy) or `lgsp.audit.sqlite_writer.SqliteAuditWriter` (the embedded SQLite file)."""

    committed_heads: dict[str, ChainLink]

    @property
    def pending_entries(self) -> int: ...

    async def append(
        self, entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None: ...

    async def close(self) -> None: ...


_Pending = tuple[Sequence[AuditEntry], Sequence[JournalEntry], "asyncio.Future[None]"]


class AuditWriter:
    """Links entries onto their instances' chains; one flusher per process writes at a time.

    Other processes are held off by the database itself: `BEGIN IMMEDIATE` on SQLite, and on
    PostgreSQL a `SELECT … FOR UPDATE` of each head before it is read.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self.committed_heads: dict[str, ChainLink] = {}
        """The newest link this process committed per instance, for `lgsp.audit.anchor`."""

    @property
    def pending_entries(self) -> int:
        """Records waiting for their transaction: the audit lag, for /metrics."""
        return sum(len(entries) for entries, _, _ in self._pending)

    async def append(
        self, entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None:
        """Link and commit `entries` (for any instances), contiguously and in order.

        The call's journal entries (`lgsp.journal`) ride in the same transaction: committed
        before the answer leaves, so a test that verifies right after its call finds it, and
        at no extra commit.
        """
        if not entries:
            return
        entries = [bounded(entry) for entry in entries]
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entries, journal, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def close(self) -> None:
        """Wait for the batches under way (the lifespan closes the engine next)."""
        if self._flusher is not None:
            await asyncio.wait([self._flusher])

    async def _flush(self) -> None:
        """Write whatever is pending, batch after batch, until nothing is left."""
        while self._pending:
            batch: list[_Pending] = []
            size = weight = 0
            while self._pending and (
                not batch
                or (
                    size + len(self._pending[0][0]) <= MAX_BATCH_ENTRIES
                    and weight + journal_bytes(self._pending[0][1]) <= MAX_BATCH_JOURNAL_BYTES
                )
            ):
                item = self._pending.pop(0)
                batch.append(item)
                size += len(item[0])
                weight += journal_bytes(item[1])
            await self._commit_batch(batch)

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            await self._write_batch(
                [entry for entries, _, _ in batch for entry in entries],
                [exchange for _, journal, _ in batch for exchange in journal],
            )
        except Exception as error:
            if len(batch) == 1 or database_unavailable(error):
                # Retrying one by one cannot help when the database itself is away or locked,
                # and would make each waiting request wait its turn again (busy timeout × N).
                for _, _, future in batch:
                    settle_future(future, error)
                return
            # One bad request must not fail the others that happened to share its transaction.
            logger.warning("group commit of %d requests failed; retrying one by one", len(batch))
            for item in batch:
                await self._commit_batch([item])
            return
        for _, _, future in batch:
            settle_future(future, None)

    async def _write_batch(
        self, entries: Sequence[AuditEntry], journal: Sequence[JournalEntry] = ()
    ) -> None:
        """Write one batch in one transaction."""
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
            links = []
            for entry in entries:
                seq, prev_hash = heads[entry.instance]
                digest = record_hash(entry, seq=seq + 1, prev_hash=prev_hash)
                links.append((entry, seq + 1, prev_hash, digest))
                heads[entry.instance] = ChainLink(seq + 1, digest)
            await repository.add_linked(links)
            for instance, head in heads.items():
                await repository.move_head(instance, head)
            await _add_journal(session, journal)
            await session.commit()
        self.committed_heads.update(heads)


async def _add_journal(session: AsyncSession, journal: Sequence[JournalEntry]) -> None:
    """In a SAVEPOINT: a journal row the database refuses must not cost the calls their audit
    records (the journal is for tests to look at; the audit log is the promise)."""
    if not journal:
        return
    try:
        async with session.begin_nested():
            await add_entries(session, journal)
    except (OperationalError, InterfaceError):
        raise  # the database itself is failing: the audit write fails with it
    except Exception:
        logger.warning("journal entries of %d calls were refused; audit kept", len(journal))


def journal_bytes(journal: Sequence[JournalEntry]) -> int:
    return sum(len(entry.request_body) + len(entry.response_body) for entry in journal)


def database_unavailable(error: Exception) -> bool:
    """A failure of the database, not of one request's records (a refused value)."""
    return isinstance(error, (OperationalError, InterfaceError, PoolTimeout, TimeoutError))


def settle_future(future: asyncio.Future[None], error: BaseException | None) -> None:
    """Wake the request waiting on its records: done, or failed with `error`."""
    if future.done():  # the waiting request was cancelled (client gone)
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
