"""The audit writer of the embedded SQLite database: one thread owns the file's connection.

`lgsp.audit.writer` group-commits through SQLAlchemy and aiosqlite, which costs every call a
session, compiled statements and several hops between the event loop and aiosqlite's thread:
a quarter of the gateway's CPU (issue 21's profile). Here the loop only queues a call's entries
and waits on a future; a dedicated thread takes whatever is queued, links it onto the chains and
commits it in one transaction on stdlib `sqlite3` (WAL, `synchronous=FULL`, `BEGIN IMMEDIATE`
against other processes), then answers every waiter of the batch at once. The promise is
unchanged: `append` returns only once its records are committed, and raises if they are not.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import operator
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Boolean, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError

from lgsp.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    canonical_timestamp,
    entry_values,
    record_hash,
)
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.audit.repository import ChainLink
from lgsp.audit.writer import (
    MAX_BATCH_ENTRIES,
    MAX_BATCH_JOURNAL_BYTES,
    bounded,
    database_unavailable,
    journal_bytes,
    settle_future,
)
from lgsp.db import UTCDateTime
from lgsp.journal.capture import JournalEntry
from lgsp.journal.models import JournalRecord

logger = logging.getLogger(__name__)

_FIRST_PAUSE = 0.0005
_LONGEST_PAUSE = 0.004
"""How `_begin` polls for the write lock another process holds: short pauses, as a batch holds
it for a millisecond or two."""

_DIALECT = sqlite.dialect()

_NULLS: dict[None, None] = {}
# The stdlib's sqlite3 looks for an adapter for every None it binds (None is not among the
# types it binds as they are): a registry miss and two failed attribute lookups, some 3k
# instructions a NULL, three a hop. Registered, the adapter is found at once; `{}.get` answers
# None for None, in C. Every connection of the process binds None as before: NULL (issue 21).
sqlite3.register_adapter(type(None), _NULLS.get)


@dataclasses.dataclass(frozen=True)
class Gathering:
    """When the writer lets calls share a commit. A commit costs the same whatever it holds (its
    WAL pages, `fdatasync`, the thread's wake-ups and the loop's): a bus whose calls come in
    waves, as each gateway of a cross-province call sees them, paid it for one or two calls
    (issue 21: a 1 ms pause cut the three-gateway hop's CPU by a fifth). The promise is
    unchanged: no answer before its commit."""

    pause: float = 0.001
    """How long a call that finds the bus busy waits for others to join its commit."""
    busy_window: float = 0.05
    """The bus is busy when a call comes within this of the last commit's end and that commit
    held more than one call: others are in flight. A call on a quiet bus, or one of a client
    calling one call at a time (every commit one call), is committed at once: it has no
    company to wait for."""


ROWS_PER_STATEMENT = 32
"""Most rows one INSERT carries: 32 rows of the widest table bind 608 values, within the 999
that SQLite before 3.32 allows one statement."""


class _Insert:
    """One table's INSERT for a dataclass's fields plus `extra` columns, with SQLAlchemy's own
    bind processors for SQLite, so that rows read back through the ORM exactly as if it had
    written them (UTC times in its text form, booleans as 0/1).

    Several rows go in one statement (`VALUES (…), (…)`) rather than one `executemany` step a
    row: each step costs the stdlib's reset-bind-step round and a hand-over of the GIL, which
    the event loop takes and the writer then waits to get back (issue 21). One statement per
    number of rows up to `ROWS_PER_STATEMENT`, each prepared once used and then kept in the
    connection's statement cache (128 statements: these are 64 at most)."""

    def __init__(self, table: Table, fields: Sequence[str], extra: Sequence[str] = ()) -> None:
        self.names = (*fields, *extra)
        columns = ", ".join(self.names)
        row_marks = "({})".format(", ".join("?" for _ in self.names))
        head = f"INSERT INTO {table.name} ({columns}) VALUES "  # noqa: S608 - names are our columns
        self._width = len(self.names)
        self._most_values = ROWS_PER_STATEMENT * self._width
        self._statements = [
            head + ", ".join([row_marks] * rows) for rows in range(ROWS_PER_STATEMENT + 1)
        ]
        """Per number of rows, its statement (prepared once used, then kept in the cache)."""
        self.processors: list[tuple[int, Callable[[Any], Any]]] = []
        for index, name in enumerate(self.names):
            column_type = table.c[name].type
            if isinstance(column_type, UTCDateTime):
                processor: Callable[[Any], Any] | None = sqlite_time
            elif isinstance(column_type, Boolean):
                # The stdlib binds a bool as the integer it is (1 or 0), as SQLAlchemy's
                # processor would convert it: a Python call per flag less, two a journal row
                # (issue 21). Our rows' flags are bools (`JournalEntry`), never another value.
                processor = None
            else:
                processor = column_type.dialect_impl(_DIALECT).bind_processor(_DIALECT)
            if processor is not None:
                self.processors.append((index, processor))

    def add(self, values: list[Any], row: Sequence[Any]) -> None:
        """Append `row`'s values, bound as SQLAlchemy would, to the flat `values`."""
        start = len(values)
        values += row
        for index, processor in self.processors:
            values[start + index] = processor(values[start + index])

    def insert(self, cursor: sqlite3.Cursor, values: list[Any]) -> None:
        """Insert the rows whose values follow each other in `values`, in their order."""
        size = len(values)
        if size <= self._most_values:  # a batch of a bus under load: one statement
            cursor.execute(self._statements[size // self._width], values)
            return
        for start in range(0, size, self._most_values):
            chunk = values[start : start + self._most_values]
            cursor.execute(self._statements[len(chunk) // self._width], chunk)


def sqlite_time(moment: datetime | None) -> str | None:
    """The text SQLAlchemy stores for `UTCDateTime` on SQLite (UTC, naive values refused), at
    a fraction of its cost: one `isoformat` instead of a conversion and a `%` of seven fields."""
    if moment is None:
        return None
    return _stored_time(canonical_timestamp(moment))


def _stored_time(timestamp: str) -> str:
    """`sqlite_time` from the canonical text of the same time: `2024-05-01 08:30:00.123456`."""
    return f"{timestamp[:10]} {timestamp[11:26]}"


_ENTRY_FIELDS = tuple(f.name for f in dataclasses.fields(AuditEntry))
_JOURNAL_FIELDS = tuple(f.name for f in dataclasses.fields(JournalEntry))
journal_values = operator.attrgetter(*_JOURNAL_FIELDS)
"""A journal row's fields in their order, in one call (as `entry_values` for an audit entry)."""
_RECORDS = _Insert(AuditRecord.__table__, _ENTRY_FIELDS, ("seq", "prev_hash", "hash"))  # type: ignore[arg-type]
_OCCURRED_AT = _RECORDS.names.index("occurred_at")
_JOURNAL = _Insert(JournalRecord.__table__, _JOURNAL_FIELDS)  # type: ignore[arg-type]
_HEADS = AuditHead.__tablename__
_READ_HEAD = f"SELECT seq, hash FROM {_HEADS} WHERE instance = ?"  # noqa: S608
_NEW_HEAD = f"INSERT INTO {_HEADS} (instance, seq, hash) VALUES (?, 0, ?)"  # noqa: S608
_MOVE_HEAD = f"UPDATE {_HEADS} SET seq = ?, hash = ? WHERE instance = ?"  # noqa: S608


class Replies(Protocol):
    """Where the writer thread hands the outcome of the calls it committed: the loop of a
    caller in this process, or a worker's connection to `lgsp.audit.writer_service`."""

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None: ...


@dataclasses.dataclass(slots=True)
class Call:
    """One `append`: its entries, journal rows, what its caller waits on, and where to answer."""

    entries: Sequence[AuditEntry]
    journal: Sequence[JournalEntry]
    token: Any
    """The caller's own handle: its future here, its call number for a worker."""
    replies: Replies


class _LoopReplies:
    """Answers the calls of one event loop of this process: one wake-up per batch."""

    def __init__(self, writer: SqliteAuditWriter, loop: asyncio.AbstractEventLoop) -> None:
        self._writer = writer
        self._loop = loop

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        try:
            self._loop.call_soon_threadsafe(self._writer.settle, calls, error, heads)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


_STOP = None


class SqliteAuditWriter:
    """`AuditWriter`'s contract on one SQLite file, written by one thread of this process."""

    def __init__(
        self,
        path: str,
        *,
        busy_timeout: float,
        gathering: Gathering = Gathering(),
    ) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._gathering = gathering
        self._queue: queue.SimpleQueue[Call | None] = queue.SimpleQueue()
        self._loops: dict[asyncio.AbstractEventLoop, _LoopReplies] = {}
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._queued = 0
        self._closed = False
        self._connection: sqlite3.Connection | None = None
        """`write`'s connection (the writer thread keeps its own)."""
        self.committed_heads: dict[str, ChainLink] = {}
        """The newest link this process committed per instance, for `lgsp.audit.anchor`."""

    @property
    def pending_entries(self) -> int:
        """Records waiting for their transaction: the audit lag, for /metrics."""
        return self._queued

    async def append(
        self, entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None:
        """Link and commit `entries` (and the call's journal rows) before returning."""
        if not entries:
            return
        if self._closed:
            raise RuntimeError("the audit writer is closed")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        replies = self._loops.get(loop)
        if replies is None:
            replies = self._loops[loop] = _LoopReplies(self, loop)
        self._queued += len(entries)
        self.submit(Call(entries, journal, future, replies))
        await future

    def submit(self, call: Call) -> None:
        """Queue `call` for the writer thread, from any thread; `call.replies` gets its outcome."""
        self._start()
        self._queue.put(call)

    async def close(self) -> None:
        """Write what is queued, then stop the thread and close the connection."""
        self._closed = True
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        """`close` for a thread that has no loop: write what is queued, then stop."""
        self._closed = True
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def write(self, calls: Sequence[Call]) -> None:
        """Commit `calls` now, in this thread, in transactions within the batch bounds, each
        answered to its `replies`: for a process whose one thread owns the file
        (`lgsp.audit.writer_service`), instead of `submit` to the writer thread."""
        batch: list[Call] = []
        size = weight = 0
        for call in calls:
            grown = size + len(call.entries)
            heavier = weight + journal_bytes(call.journal)
            if batch and (grown > MAX_BATCH_ENTRIES or heavier > MAX_BATCH_JOURNAL_BYTES):
                self._connection = self._commit_batch(self._connection, batch)
                batch, grown, heavier = [], len(call.entries), journal_bytes(call.journal)
            batch.append(call)
            size, weight = grown, heavier
        if batch:
            self._connection = self._commit_batch(self._connection, batch)

    def _start(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="lgsp-audit-writer", daemon=True
                    )
                    self._thread.start()

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        carried: Call | None = None
        stopping = False
        committed_at, company = -float("inf"), False
        try:
            while not stopping:
                first, caught_up = carried, False
                if first is None:
                    try:
                        first = self._queue.get_nowait()
                    except queue.Empty:
                        first, caught_up = self._queue.get(), True
                carried = None
                if first is _STOP:
                    break
                if (
                    caught_up
                    and company
                    and time.monotonic() - committed_at < self._gathering.busy_window
                ):
                    # Every call so far committed, and this one came soon after a commit of
                    # several: more are in flight and follow.
                    time.sleep(self._gathering.pause)
                batch = [first]
                # The journal's weight only once another call may join: most batches of a
                # quiet bus are one call, whose weight nothing needs (issue 21).
                size, weight = len(first.entries), -1
                while True:  # everything queued meanwhile joins this transaction, within bounds
                    try:
                        call = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if call is _STOP:
                        stopping = True
                        break
                    if weight < 0:
                        weight = journal_bytes(first.journal)
                    grown = size + len(call.entries)
                    heavier = weight + journal_bytes(call.journal)
                    if grown > MAX_BATCH_ENTRIES or heavier > MAX_BATCH_JOURNAL_BYTES:
                        carried = call
                        break
                    batch.append(call)
                    size, weight = grown, heavier
                connection = self._commit_batch(connection, batch)
                committed_at, company = time.monotonic(), len(batch) > 1
            if carried is not None:
                connection = self._commit_batch(connection, [carried])
        finally:
            if connection is not None:
                connection.close()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")  # a committed record survives power loss
        # The write lock is waited for by `_begin`; once it is held, WAL needs no other lock.
        connection.execute("PRAGMA busy_timeout=0")
        return connection

    def _begin(self, cursor: sqlite3.Cursor) -> None:
        """Take the file's write lock, polling every few milliseconds until `busy_timeout`.

        SQLite's own busy handler sleeps ever longer (1, 2, 5 … 100 ms) and is never woken
        when the lock is freed: with `lgsp serve --workers 2` on one file a batch waited up to
        100 ms for a lock held a millisecond, and the hop's p99 was 0.7 s (issue 21)."""
        deadline = time.monotonic() + self._busy_timeout
        pause = _FIRST_PAUSE
        while True:
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes too
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE)

    def _commit_batch(
        self, connection: sqlite3.Connection | None, batch: list[Call]
    ) -> sqlite3.Connection | None:
        """Commit `batch` in one transaction and answer its callers; the connection to go on
        with (None after a failure of the database itself: the next batch reconnects)."""
        try:
            if connection is None:
                connection = self._connect()
            heads = self._write_batch(
                connection,
                [bounded(entry) for call in batch for entry in call.entries],
                [row for call in batch for row in call.journal],
            )
        except sqlite3.Error as raw:
            error = DBAPIError.instance(None, None, raw, sqlite3.Error)
            if len(batch) == 1 or database_unavailable(error):
                # Retrying one by one cannot help when the database itself is away or locked.
                if connection is not None and database_unavailable(error):
                    connection.close()
                    connection = None
                self._answer(batch, error, {})
                return connection
            # One bad request must not fail the others that happened to share its transaction.
            logger.warning("group commit of %d requests failed; retrying one by one", len(batch))
            for call in batch:
                connection = self._commit_batch(connection, [call])
            return connection
        except Exception as error:
            self._answer(batch, error, {})
            return connection
        self._answer(batch, None, heads)
        return connection

    def _write_batch(
        self,
        connection: sqlite3.Connection,
        entries: Sequence[AuditEntry],
        journal: Sequence[JournalEntry],
    ) -> dict[str, ChainLink]:
        """One transaction: take the write lock, read the heads, link, insert, move, commit.

        Six statements on one cursor (a cursor per statement cost some 2k instructions each).
        The journal rows go in without a SAVEPOINT around them (two statements fewer on every
        batch): if the database refuses one, the whole transaction is rolled back and written
        again without the journal, the heads read afresh (issue 21). That second transaction
        takes the write lock again: with other processes on the file, such a rare batch may wait
        up to twice the busy timeout, where the savepoint kept the lock it had."""
        cursor = connection.cursor()
        try:
            heads = _link_and_insert(self._begin, cursor, entries, journal)
            if heads is None:  # a journal row refused: the entries again, without the journal
                heads = _link_and_insert(self._begin, cursor, entries, ())
            # Without a journal nothing is refused: heads, or an error raised.
            return heads or {}
        finally:
            cursor.close()

    def _answer(
        self, batch: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        """Hand the outcome to each caller's `Replies`: one wake-up per loop or worker."""
        by_replies: dict[Replies, list[Call]] = {}
        for call in batch:
            by_replies.setdefault(call.replies, []).append(call)
        for replies, calls in by_replies.items():
            replies.deliver(calls, error, heads)

    def settle(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        """On the caller's loop: move the committed heads, then wake the callers."""
        self.committed_heads.update(heads)
        for call in calls:
            self._queued -= len(call.entries)
            settle_future(call.token, error)


def _link_and_insert(
    begin: Callable[[sqlite3.Cursor], None],
    cursor: sqlite3.Cursor,
    entries: Sequence[AuditEntry],
    journal: Sequence[JournalEntry],
) -> dict[str, ChainLink] | None:
    """`SqliteAuditWriter._write_batch`'s transaction: the heads committed, or None
    when the database refused a journal row (everything rolled back: the caller writes the
    entries again without the journal, which is for tests to look at; the audit log is the
    promise)."""
    begin(cursor)
    try:
        # Plain (seq, hash) pairs while linking: a ChainLink is built per head at the end,
        # not per entry (a named tuple's `__new__` is a Python call).
        links: dict[str, tuple[int, str]] = {}
        for instance in sorted({entry.instance for entry in entries}):
            head = cursor.execute(_READ_HEAD, (instance,)).fetchone()
            if head is None:
                cursor.execute(_NEW_HEAD, (instance, GENESIS_HASH))
                head = (0, GENESIS_HASH)
            links[instance] = head
        values: list[Any] = []
        for entry in entries:
            seq, prev_hash = links[entry.instance]
            seq += 1
            # The time's text once, for the hash and (cut to SQLite's form) the column.
            timestamp = canonical_timestamp(entry.occurred_at)
            digest = record_hash(entry, seq=seq, prev_hash=prev_hash, timestamp=timestamp)
            start = len(values)
            values += entry_values(entry)
            values[start + _OCCURRED_AT] = _stored_time(timestamp)
            values += (seq, prev_hash, digest)
            links[entry.instance] = (seq, digest)
        _RECORDS.insert(cursor, values)
        cursor.executemany(_MOVE_HEAD, [(*link, name) for name, link in links.items()])
        if journal:
            try:
                rows: list[Any] = []
                for row in journal:
                    _JOURNAL.add(rows, journal_values(row))
                _JOURNAL.insert(cursor, rows)
            except sqlite3.OperationalError:
                raise  # the database itself is failing: the audit write fails with it
            except sqlite3.Error:
                cursor.execute("ROLLBACK")
                logger.warning("journal entries of %d calls were refused; audit kept", len(journal))
                return None
        cursor.execute("COMMIT")
    except BaseException:
        if cursor.connection.in_transaction:
            cursor.execute("ROLLBACK")
        raise
    return {name: ChainLink(*link) for name, link in links.items()}
