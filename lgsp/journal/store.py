"""Every SQL statement about the journal, and the matching of stored exchanges against filters.

What a query sees is exactly what the settings keep: the newest `max_entries` exchanges of the
instance that are younger than `retention`, even before the pruner has deleted the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.db import Base, row_values
from lgsp.journal.capture import JournalEntry, mask_document, stored_path
from lgsp.journal.models import JournalRecord
from lgsp.journal.schemas import JournalFilter
from lgsp.path_patterns import path_matcher

_DIGIT_RUN = re.compile(r"[0-9]+")
SCAN_BATCH = 200
MAX_SUBSET_DEPTH = 32
_JOURNAL = Base.metadata.tables[JournalRecord.__tablename__]
"""The table, for the writer's Core insert (no ORM objects on the path calls wait on)."""


async def add_entries(session: AsyncSession, entries: Sequence[JournalEntry]) -> None:
    """Insert in one executemany, inside the caller's transaction (the audit writer's)."""
    if entries:
        await session.execute(insert(_JOURNAL), [row_values(entry) for entry in entries])


async def matching(
    session_factory: async_sessionmaker[AsyncSession],
    instance: str,
    wanted: JournalFilter,
    *,
    now: datetime,
    retention_seconds: float,
    max_entries: int,
    body: Any = None,
    masked: bool = True,
    before: int | None = None,
) -> AsyncIterator[JournalRecord]:
    """Kept exchanges that match `wanted` (and contain `body`), newest first, from the one
    before the id `before` on (keyset paging: a page costs the same however deep it is).

    Plain fields are filtered in SQL; the path pattern and the body subset in Python, over at
    most `max_entries` rows read `SCAN_BATCH` at a time.
    """
    expected = None if body is None else (mask_document(body) if masked else body)
    matches_path = path_matcher(_as_stored(wanted.path) if masked else wanted.path)
    async with session_factory() as session:
        oldest_kept = await session.scalar(select(_kept_from(instance, max_entries))) or 0
        statement = select(JournalRecord).where(
            JournalRecord.instance == instance,
            JournalRecord.id >= oldest_kept,
            JournalRecord.occurred_at >= now - timedelta(seconds=retention_seconds),
        )
        for column, value in (
            (JournalRecord.client_id, wanted.client_id),
            (JournalRecord.service, wanted.service),
            (JournalRecord.method, wanted.method),
            (JournalRecord.status, wanted.status),
            (JournalRecord.request_id, wanted.request_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        if wanted.since is not None:
            statement = statement.where(JournalRecord.occurred_at >= wanted.since)
        while True:
            page = statement if before is None else statement.where(JournalRecord.id < before)
            batch = (
                (await session.execute(page.order_by(JournalRecord.id.desc()).limit(SCAN_BATCH)))
                .scalars()
                .all()
            )
            for record in batch:
                if matches_path is not None and not matches_path(record.path):
                    continue
                if expected is not None and not _body_contains(record, expected):
                    continue
                yield record
            if len(batch) < SCAN_BATCH:
                return
            before = batch[-1].id


def _as_stored(pattern: str | None) -> str | None:
    """A path filter masked as stored paths are, or a CCCD in it never matches; in a regular
    expression each masked number is escaped (the mask's `*` is no quantifier there)."""
    if pattern is None or not pattern.startswith("^"):
        return None if pattern is None else stored_path(pattern, masked=True)
    return _DIGIT_RUN.sub(lambda run: re.escape(stored_path(run[0], masked=True)), pattern)


async def prune(
    session_factory: async_sessionmaker[AsyncSession],
    instances: Sequence[str],
    *,
    now: datetime,
    retention_seconds: float,
    max_entries: int,
) -> int:
    """Delete what queries no longer see; returns how many rows went.

    One statement an instance, the cut-off id a subquery of it: on SQLite a transaction that
    reads first and then writes is refused at once (SQLITE_BUSY, no busy timeout) when another
    connection (the audit writer) committed in between, and under load a round always failed
    so. A transaction whose first statement writes waits for the write lock as any writer."""
    deleted = 0
    async with session_factory.begin() as session:
        for instance in instances:
            result = await session.execute(
                delete(JournalRecord).where(
                    JournalRecord.instance == instance,
                    (JournalRecord.id < _kept_from(instance, max_entries))
                    | (JournalRecord.occurred_at < now - timedelta(seconds=retention_seconds)),
                )
            )
            deleted += result.rowcount or 0  # type: ignore[attr-defined]
    return deleted


async def clear(
    session_factory: async_sessionmaker[AsyncSession], instances: Sequence[str]
) -> None:
    """Every exchange of these instances: what `POST {base}/admin/reset` does to the journal."""
    async with session_factory.begin() as session:
        await session.execute(delete(JournalRecord).where(JournalRecord.instance.in_(instances)))


def _kept_from(instance: str, max_entries: int) -> ColumnElement[int]:
    """The id of the `max_entries`-th newest exchange (0 when there are fewer), as SQL."""
    newest_kept = (
        select(JournalRecord.id)
        .where(JournalRecord.instance == instance)
        .order_by(JournalRecord.id.desc())
        .offset(max_entries - 1)
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(newest_kept, 0)


def _body_contains(record: JournalRecord, expected: Any) -> bool:
    if record.request_truncated:
        return False  # a cut body is not JSON; it cannot be said to contain anything
    try:
        actual = json.loads(record.request_body)
    except (ValueError, RecursionError):
        return False
    return contains(actual, expected)


def contains(actual: Any, expected: Any, *, depth: int = 0) -> bool:
    """Objects: every expected key present with a matching value; arrays: the same length,
    element by element; anything else: equal, as JSON values (`true` is not `1`)."""
    if depth > MAX_SUBSET_DEPTH:
        return False
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and contains(actual[key], value, depth=depth + 1)
            for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains(a, e, depth=depth + 1) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    return type(actual) in (int, float, str, type(None)) and bool(actual == expected)
