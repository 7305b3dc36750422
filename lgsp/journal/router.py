"""`{base}/admin/journal…`: what an instance received and answered, listed and verified.

Like WireMock's request journal: a test makes its client call the bus, then asks whether the
bus received the calls it expected (`verify`), waits for what has yet to arrive (`wait`), or
reads them (`GET`) to see what went wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query, Request

from lgsp.db import MAX_BIGINT, column_values
from lgsp.deps import BusDep, InstanceDep, admin_router
from lgsp.errors import (
    JournalDisabled,
    JournalMismatch,
    WaitTimedOut,
    problem_responses,
)
from lgsp.journal import store
from lgsp.journal.models import JournalRecord
from lgsp.journal.schemas import (
    MAX_LIST,
    Body,
    JournalEntryOut,
    JournalFilter,
    JournalPage,
    VerifyRequest,
    VerifyResult,
    WaitRequest,
)
from lgsp.settings import Settings
from lgsp.state import BusState

router = admin_router("/admin/journal", JournalDisabled)
"""Every route answers 409 on a bus that keeps no journal (`_enabled`)."""

SHOWN_ON_MISMATCH = 3
FIRST_PAUSE = 0.02
LAST_PAUSE = 0.25
"""A wait reads the journal again after these pauses, doubling: a fast answer, a light poll."""


class JournalQuery(JournalFilter):
    limit: int = Query(default=50, ge=1, le=MAX_LIST)
    """At most this many exchanges, newest first."""
    before: int | None = Query(default=None, ge=1, le=MAX_BIGINT)
    """Only exchanges older than this id: the last id of the previous page (keyset paging)."""


@router.get("")
async def list_exchanges(
    instance: InstanceDep, bus: BusDep, query: Annotated[JournalQuery, Query()]
) -> JournalPage:
    """The newest exchanges of this instance that match every filter given."""
    settings = _enabled(bus.settings)
    entries: list[JournalEntryOut] = []
    async for record in _matching(bus, instance.spec.name, query, before=query.before):
        entries.append(_out(record))
        if len(entries) >= query.limit:
            break
    return JournalPage(
        instance=instance.spec.name, masked=not settings.journal_unmasked, entries=entries
    )


@router.post(
    "/verify",
    # JournalMismatch's status is JournalDisabled's too: the route's entry replaces the router's.
    responses=problem_responses(JournalMismatch, JournalDisabled),
)
async def verify_exchanges(
    instance: InstanceDep, bus: BusDep, expectation: VerifyRequest
) -> VerifyResult:
    """200 when the number of matching exchanges meets the expectation, else 409 with what
    was found: the count, the newest matches and, when too few matched, the newest exchanges
    on the same path (or service) that did not."""
    _enabled(bus.settings)
    return await _verify(bus, instance.spec.name, expectation)


@router.post("/wait", responses=problem_responses(WaitTimedOut))
async def wait_for_exchanges(
    request: Request, instance: InstanceDep, bus: BusDep, expectation: WaitRequest
) -> VerifyResult:
    """`verify` that waits for what has yet to arrive (a delivery, a sync): 200 as soon as the
    expectation holds, else 408 after `timeout_seconds` with what `verify` would say (the
    count, the matches, the near misses). Long polling: any HTTP client in any language can."""
    settings = _enabled(bus.settings)
    waited = min(expectation.timeout_seconds, settings.journal_wait_max_seconds)
    deadline = bus.clock() + waited
    pause = FIRST_PAUSE
    while True:
        try:
            return await _verify(bus, instance.spec.name, expectation)
        except JournalMismatch as mismatch:
            left = deadline - bus.clock()
            if left <= 0 or await request.is_disconnected():
                raise WaitTimedOut(
                    f"{mismatch.detail} Waited {waited:g} s.",
                    **mismatch.extensions,
                ) from None
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, LAST_PAUSE)


async def _verify(bus: BusState, name: str, expectation: VerifyRequest) -> VerifyResult:
    low, high = expectation.bounds
    count, newest = 0, list[dict[str, Any]]()
    async for record in _matching(bus, name, expectation, body=expectation.body):
        count += 1
        if len(newest) < SHOWN_ON_MISMATCH:
            newest.append(_summary(record))
    if count >= low and (high is None or count <= high):
        return VerifyResult(verified=True, count=count, expected=expectation.describe())
    near_misses = [] if count >= low else await _near_misses(bus, name, expectation, newest)
    raise JournalMismatch(
        f"Expected {expectation.describe()} matching exchange(s) on {name}; found {count}.",
        count=count,
        expected=expectation.describe(),
        matched=newest,
        near_misses=near_misses,
    )


def _enabled(settings: Settings) -> Settings:
    if not settings.journal_enabled:
        raise JournalDisabled("Start the bus with LGSP_JOURNAL_ENABLED=true to keep a journal.")
    return settings


def _matching(
    bus: BusState,
    instance: str,
    wanted: JournalFilter,
    *,
    body: Any = None,
    before: int | None = None,
) -> AsyncIterator[JournalRecord]:
    settings = bus.settings
    return store.matching(
        bus.session_factory,
        instance,
        wanted,
        now=datetime.now(UTC),
        retention_seconds=settings.journal_retention_seconds,
        max_entries=settings.journal_max_entries,
        body=body,
        masked=not settings.journal_unmasked,
        before=before,
    )


async def _near_misses(
    bus: BusState, instance: str, expectation: VerifyRequest, matched: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Exchanges on the same path (or else the same service) that the other filters refused."""
    if expectation.path is not None:
        looser = JournalFilter(path=expectation.path)
    elif expectation.service is not None:
        looser = JournalFilter(service=expectation.service)
    else:
        return []
    seen = {entry["id"] for entry in matched}
    found: list[dict[str, Any]] = []
    async for record in _matching(bus, instance, looser):
        if record.id not in seen:
            found.append(_summary(record))
        if len(found) >= SHOWN_ON_MISMATCH:
            break
    return found


def _summary(record: JournalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "request_id": record.request_id,
        "client_id": record.client_id,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "request_body": record.request_body[:500],
    }


def _out(record: JournalRecord) -> JournalEntryOut:
    return JournalEntryOut.model_validate(
        {
            **column_values(record),
            "request": Body(
                content_type=record.request_content_type,
                body=record.request_body,
                truncated=record.request_truncated,
            ),
            "response": Body(
                content_type=record.response_content_type,
                body=record.response_body,
                truncated=record.response_truncated,
            ),
        }
    )
