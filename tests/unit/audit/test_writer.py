from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.audit.chain import GENESIS_HASH, AuditEntry, record_hash
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.audit.repository import AuditRepository
from lgsp.audit.sqlite_writer import SqliteAuditWriter, sqlite_time
from lgsp.audit.verify import verify_chain
from lgsp.audit.writer import AuditLog, AuditWriter, journal_bytes
from lgsp.db import UTCDateTime, make_engine, make_session_factory
from lgsp.journal.models import JournalRecord
from tests.fixtures.audit import audit_entry, journal_entry
from tests.fixtures.database import hold_write_lock

pytestmark = pytest.mark.anyio

ICT = timezone(timedelta(hours=7))
_START = datetime(2024, 5, 1, 8, 30, tzinfo=ICT)


def make_entry(n: int = 0, **overrides: Any) -> AuditEntry:
    return audit_entry(
        **{
            "request_id": f"req-{n}",
            "service": "qlvb.send",
            "method": "POST",
            "path": "/services/qlvb.send",
            "latency_us": 1000 + n,
            "occurred_at": _START + timedelta(microseconds=n),
            **overrides,
        }
    )


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_session_factory(engine)


WriterFactory = Callable[[AsyncEngine], AuditLog]


@pytest.fixture(params=["sqlalchemy", "sqlite-thread"])
async def new_writer(
    request: pytest.FixtureRequest, engine: AsyncEngine
) -> AsyncIterator[WriterFactory]:
    """Makes the writers under test: every test runs on both implementations (the thread
    writer owns a SQLite file, so it has no PostgreSQL case); all are closed at the end."""
    made: list[AuditLog] = []

    def new(on: AsyncEngine) -> AuditLog:
        writer: AuditLog
        if request.param == "sqlalchemy":
            writer = AuditWriter(make_session_factory(on))
        else:
            writer = SqliteAuditWriter(on.url.database or "", busy_timeout=5)
        made.append(writer)
        return writer

    # The thread writer owns a SQLite file: its PostgreSQL cases are deselected
    # (tests/conftest.py SQLITE_ONLY).
    assert request.param == "sqlalchemy" or engine.dialect.name == "sqlite"
    yield new
    for writer in made:
        await writer.close()


@pytest.fixture
def writer(new_writer: WriterFactory, engine: AsyncEngine) -> AuditLog:
    return new_writer(engine)


def fail_batches(
    writer: AuditLog, fail: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Make each transaction of `writer` call `fail` first (it may raise)."""
    real = writer._write_batch  # type: ignore[attr-defined]

    if isinstance(writer, SqliteAuditWriter):

        def in_thread(*args: Any) -> Any:
            fail()
            return real(*args)

        monkeypatch.setattr(writer, "_write_batch", in_thread)
    else:

        async def in_loop(*args: Any) -> Any:
            try:
                fail()
            except sqlite3.Error as error:  # as SQLAlchemy raises what the driver raised
                raise DBAPIError.instance(None, None, error, sqlite3.Error) from error
            return await real(*args)

        monkeypatch.setattr(writer, "_write_batch", in_loop)


def count_batches(
    writer: AuditLog,
    monkeypatch: pytest.MonkeyPatch,
    *,
    then: Callable[[], None] = lambda: None,
) -> Callable[[], int]:
    """Count the transactions of `writer`, each calling `then` first (it may raise); answers a
    function that gives the count so far."""
    count = 0

    def counting() -> None:
        nonlocal count
        count += 1
        then()

    fail_batches(writer, counting, monkeypatch)
    return lambda: count


async def read_chain(
    sessions: async_sessionmaker[AsyncSession], instance: str
) -> tuple[list[AuditRecord], AuditHead | None]:
    async with sessions() as session:
        repository = AuditRepository(session)
        return [r async for r in repository.iter_chain(instance)], await repository.head(instance)


async def assert_chain_holds(
    sessions: async_sessionmaker[AsyncSession], request_ids: list[str]
) -> None:
    """lgsp-91's chain holds these requests' records, in order and linked up to its head."""
    records, head = await read_chain(sessions, "lgsp-91")
    assert [r.request_id for r in records] == request_ids
    assert_linked(records, head)


def assert_linked(records: list[AuditRecord], head: AuditHead | None) -> None:
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    prev_hash = GENESIS_HASH
    for record in records:
        assert record.prev_hash == prev_hash
        assert record.hash == record_hash(record.to_entry(), seq=record.seq, prev_hash=prev_hash)
        prev_hash = record.hash
    assert head is not None
    assert (head.seq, head.hash) == (len(records), prev_hash)


async def test_appends_link_records_in_order_and_move_the_head(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    entries = [make_entry(n) for n in range(5)]

    await writer.append(entries[:3])
    await writer.append(entries[3:])

    records, head = await read_chain(sessions, "lgsp-91")
    assert_linked(records, head)
    assert [r.request_id for r in records] == [e.request_id for e in entries]


async def test_records_read_back_as_the_exact_entries_written(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    # A local-time, microsecond-precise timestamp must come back as the same instant, in UTC.
    entry = make_entry(1, caller=None, service=None, occurred_at=_START.replace(microsecond=7))
    await writer.append([entry])

    (record,), _ = await read_chain(sessions, "lgsp-91")
    assert record.to_entry() == entry
    assert record.occurred_at.utcoffset() == timedelta(0)


async def test_instances_have_independent_chains(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    entries = [make_entry(n, instance=("lgsp-91", "ndxp")[n % 2]) for n in range(7)]

    await writer.append(entries[:4])
    await writer.append(entries[4:])

    for instance, expected in (("lgsp-91", 4), ("ndxp", 3)):
        records, head = await read_chain(sessions, instance)
        assert len(records) == expected
        assert_linked(records, head)


async def test_concurrent_appends_build_one_chain_without_duplicate_seq(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:

    async with anyio.create_task_group() as tasks:
        for n in range(50):
            tasks.start_soon(writer.append, [make_entry(n)])

    records, head = await read_chain(sessions, "lgsp-91")
    assert len(records) == 50
    assert len({r.request_id for r in records}) == 50
    assert_linked(records, head)


async def test_a_second_writer_on_the_same_database_keeps_the_chain_valid(
    engine: AsyncEngine, database_url: str, new_writer: WriterFactory
) -> None:
    # Another engine, hence other connections: as close to another process as one test gets.
    other_engine = make_engine(database_url)
    try:
        writers = [
            new_writer(engine),
            new_writer(other_engine),
        ]
        async with anyio.create_task_group() as tasks:
            for n in range(40):
                entries = [make_entry(n), make_entry(n, instance="ndxp", hop="upstream")]
                tasks.start_soon(writers[n % 2].append, entries)
    finally:
        await other_engine.dispose()

    sessions = make_session_factory(engine)
    for instance in ("lgsp-91", "ndxp"):
        records, head = await read_chain(sessions, instance)
        assert len(records) == 40
        assert_linked(records, head)
    assert (await verify_chain(sessions)).ok


async def test_a_failed_append_writes_nothing_and_leaves_heads_unchanged(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    await writer.append([make_entry(0), make_entry(1)])
    records_before, head_before = await read_chain(sessions, "lgsp-91")
    assert head_before is not None
    not_null_violation = make_entry(4, target=None)

    with pytest.raises(IntegrityError):
        await writer.append([make_entry(2), make_entry(3, instance="ndxp"), not_null_violation])

    records, head = await read_chain(sessions, "lgsp-91")
    assert [r.seq for r in records] == [r.seq for r in records_before]
    assert head is not None
    assert (head.seq, head.hash) == (head_before.seq, head_before.hash)
    assert await read_chain(sessions, "ndxp") == ([], None)

    await writer.append([make_entry(5)])  # the writer is usable again and continues the chain
    await assert_chain_holds(sessions, ["req-0", "req-1", "req-5"])


async def test_appending_nothing_opens_no_chain(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    await writer.append([])

    async with sessions() as session:
        assert await AuditRepository(session).instances() == []


async def test_by_request_id_returns_every_hop_of_one_request_in_order(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    later = _START + timedelta(seconds=1)
    await writer.append(
        [
            make_entry(1, occurred_at=later),
            make_entry(1, hop="upstream", target="qlvb"),
            make_entry(1, instance="ndxp", occurred_at=later + timedelta(seconds=1)),
            make_entry(2),
        ]
    )

    async with sessions() as session:
        repository = AuditRepository(session)
        every_hop = await repository.by_request_id("req-1")
        local_hops = await repository.by_request_id("req-1", instance="lgsp-91")

    assert [(r.instance, r.hop) for r in every_hop] == [
        ("lgsp-91", "upstream"),
        ("lgsp-91", "inbound"),
        ("ndxp", "inbound"),
    ]
    assert [(r.instance, r.hop) for r in local_hops] == [
        ("lgsp-91", "upstream"),
        ("lgsp-91", "inbound"),
    ]


async def test_iter_chain_pages_through_more_records_than_one_batch(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    await writer.append([make_entry(n) for n in range(7)])

    async with sessions() as session:
        seqs = [r.seq async for r in AuditRepository(session).iter_chain("lgsp-91", batch_size=3)]

    assert seqs == list(range(1, 8))


async def test_concurrent_appends_share_transactions_and_stay_contiguous(
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    writer: AuditLog,
) -> None:
    transactions = count_batches(writer, monkeypatch)

    async with anyio.create_task_group() as tasks:
        for n in range(40):
            hops = [make_entry(n), make_entry(n, hop="upstream")]
            tasks.start_soon(writer.append, hops)

    records, head = await read_chain(sessions, "lgsp-91")
    assert_linked(records, head)
    assert len(records) == 80
    assert transactions() < 40  # group commit: requests waiting together share one transaction
    pairs = [
        (a.request_id, a.hop, b.request_id, b.hop)
        for a, b in zip(records[::2], records[1::2], strict=True)
    ]
    assert all(a == b and (ha, hb) == ("inbound", "upstream") for a, ha, b, hb in pairs)


async def test_a_transaction_takes_no_more_journal_than_its_bound(
    monkeypatch: pytest.MonkeyPatch,
    writer: AuditLog,
) -> None:
    """Calls waiting together share a transaction only while their journal rows stay within
    `MAX_BATCH_JOURNAL_BYTES` (the first call's rows counted too); one larger call goes alone."""
    bound = 100
    monkeypatch.setattr("lgsp.audit.writer.MAX_BATCH_JOURNAL_BYTES", bound)
    monkeypatch.setattr("lgsp.audit.sqlite_writer.MAX_BATCH_JOURNAL_BYTES", bound)
    weights: list[int] = []
    real = writer._write_batch  # type: ignore[attr-defined]

    def weigh(*args: Any) -> Any:
        weights.append(journal_bytes(args[-1]))
        return real(*args)

    monkeypatch.setattr(writer, "_write_batch", weigh)

    async def append(n: int) -> None:
        entry = make_entry(n)
        row = journal_entry(
            instance=entry.instance,
            request_id=entry.request_id,
            response_body="x" * 60,
            occurred_at=entry.occurred_at,
        )
        await writer.append([entry], journal=[row])

    async with anyio.create_task_group() as tasks:
        for n in range(12):
            tasks.start_soon(append, n)

    assert sum(weights) == 12 * 60
    assert max(weights) <= bound


async def test_one_bad_request_in_a_shared_transaction_fails_alone(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    await writer.append([make_entry(0)])  # the head exists, so the batch below shares one flush

    results = await asyncio.gather(
        writer.append([make_entry(1)]),
        writer.append([make_entry(2, target=None)]),
        writer.append([make_entry(3)]),
        return_exceptions=True,
    )

    assert results[0] is None
    assert isinstance(results[1], IntegrityError)
    assert results[2] is None
    await assert_chain_holds(sessions, ["req-0", "req-1", "req-3"])


async def test_a_refused_record_fails_only_its_own_request_in_a_shared_transaction(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    outcomes: dict[int, str] = {}

    async def append(n: int, entry: AuditEntry) -> None:
        try:
            await writer.append([entry])
        except IntegrityError:
            outcomes[n] = "refused"
        else:
            outcomes[n] = "written"

    async with anyio.create_task_group() as tasks:
        for n in range(5):
            tasks.start_soon(append, n, make_entry(n, target=None) if n == 2 else make_entry(n))

    assert outcomes == {0: "written", 1: "written", 2: "refused", 3: "written", 4: "written"}
    await assert_chain_holds(sessions, ["req-0", "req-1", "req-3", "req-4"])


async def test_a_database_outage_fails_every_waiting_request_at_once(
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    writer: AuditLog,
) -> None:
    """Retrying one by one would make each request wait its own busy timeout again."""

    def locked() -> None:
        time.sleep(0.01)
        raise sqlite3.OperationalError("database is locked")

    transactions = count_batches(writer, monkeypatch, then=locked)
    failures: list[BaseException] = []

    async def append(n: int) -> None:
        try:
            await writer.append([make_entry(n)])
        except OperationalError as error:
            failures.append(error)

    async with anyio.create_task_group() as tasks:
        for n in range(6):
            tasks.start_soon(append, n)

    assert len(failures) == 6
    assert transactions() <= 2  # the first request alone, then everyone who queued meanwhile


async def test_a_journal_row_the_database_refuses_costs_no_audit_record(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    entry = make_entry(0)
    refused = journal_entry(
        instance=entry.instance,
        request_id=entry.request_id,
        method=None,  # NOT NULL: the database refuses the row
        occurred_at=entry.occurred_at,
    )

    await writer.append([entry], journal=[refused])

    await assert_chain_holds(sessions, ["req-0"])
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(JournalRecord)) == 0


async def test_a_refused_journal_row_leaves_none_of_its_transactions_rows(
    sessions: async_sessionmaker[AsyncSession],
    writer: AuditLog,
) -> None:
    """Rows of the same transaction written before the refused one do not stay behind, and
    the audit records are linked as if no journal had ridden along."""
    entry = make_entry(0)
    kept = journal_entry(
        instance=entry.instance, request_id=entry.request_id, occurred_at=entry.occurred_at
    )
    refused = journal_entry(
        instance=entry.instance,
        request_id=entry.request_id,
        method=None,  # NOT NULL: the database refuses the row
        occurred_at=entry.occurred_at,
    )

    await writer.append([entry], journal=[kept, refused])
    await writer.append([make_entry(1)], journal=[kept])

    await assert_chain_holds(sessions, ["req-0", "req-1"])
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(JournalRecord)) == 1


async def test_over_long_values_are_cut_to_their_columns_and_share_the_group_commit(
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
    writer: AuditLog,
) -> None:
    """Security probe F9: on PostgreSQL a 100-character caller in a VARCHAR(64) failed its
    group commit, which was then retried one request at a time, and the call went unrecorded."""
    await writer.append([make_entry(0)])  # the head exists, so the batch below shares one flush

    results = await asyncio.gather(
        writer.append([make_entry(1)]),
        writer.append([make_entry(2, caller="a" * 100, method="M" * 40, service="s\x00" * 40)]),
        writer.append([make_entry(3)]),
        return_exceptions=True,
    )

    assert results == [None, None, None]
    assert "one by one" not in caplog.text
    records, head = await read_chain(sessions, "lgsp-91")
    assert_linked(records, head)
    long = records[2]
    assert (long.caller, long.method) == ("a" * 63 + "…", "M" * 15 + "…")
    assert long.service == ("s%00" * 40)[:63] + "…"
    assert (await verify_chain(sessions)).ok


@contextlib.asynccontextmanager
async def writer_beside_a_held_lock(
    path: str, busy_timeout: float
) -> AsyncIterator[tuple[SqliteAuditWriter, sqlite3.Connection]]:
    """The thread writer, and another process's writer that holds the file's lock, as
    `lgsp serve --workers 2` has; both closed on the way out."""
    writer = SqliteAuditWriter(path, busy_timeout=busy_timeout)
    other = hold_write_lock(path)
    try:
        yield writer, other
    finally:
        other.close()
        await writer.close()


async def test_a_batch_waits_for_another_writers_lock_and_commits_once_it_is_freed(
    sqlite_file: str, file_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with writer_beside_a_held_lock(sqlite_file, busy_timeout=30) as (writer, other):
        appended = asyncio.ensure_future(writer.append([make_entry(0)]))
        await asyncio.sleep(0.3)
        assert not appended.done()  # still waiting for the lock
        other.execute("ROLLBACK")
        await asyncio.wait_for(appended, timeout=30)

    await assert_chain_holds(file_sessions, ["req-0"])


async def test_a_lock_held_past_the_busy_timeout_fails_the_batch_and_the_next_one_commits(
    sqlite_file: str, file_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with writer_beside_a_held_lock(sqlite_file, busy_timeout=0.2) as (writer, other):
        with pytest.raises(OperationalError, match="locked"):
            await asyncio.wait_for(writer.append([make_entry(0)]), timeout=30)
        other.execute("ROLLBACK")
        await asyncio.wait_for(writer.append([make_entry(1)]), timeout=30)

    await assert_chain_holds(file_sessions, ["req-1"])


_SQLALCHEMY_TIME = UTCDateTime().dialect_impl(sqlite.dialect()).bind_processor(sqlite.dialect())


_ANY_YEAR = {"min_value": datetime(1, 1, 2), "max_value": datetime(9999, 12, 30)}  # noqa: DTZ001
"""Naive bounds, as hypothesis takes them; a day inside the range, so that UTC is too."""


@given(moment=st.datetimes(**_ANY_YEAR, timezones=st.timezones()))
def test_the_thread_writer_stores_times_as_sqlalchemy_does(moment: datetime) -> None:
    # Rows it writes are read back through the ORM: the text must be SQLAlchemy's own.
    assert _SQLALCHEMY_TIME is not None
    assert sqlite_time(moment) == _SQLALCHEMY_TIME(moment)


def test_the_thread_writer_refuses_a_naive_time_as_sqlalchemy_does() -> None:
    assert sqlite_time(None) is None
    with pytest.raises(ValueError, match="naive"):
        sqlite_time(datetime(2024, 5, 1, 8, 30))  # noqa: DTZ001 - the naive time under test
