"""What every route of the document exchange mock shares: its lifespan state and transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocks.bus import BusClient, BusUnavailable, Handover
from mocks.config import SystemConfig
from mocks.qlvb.lifecycle import IllegalStatusTransition
from mocks.qlvb.models import Delivery, Document
from mocks.qlvb.store import DocumentStore, NotAParty, Report, Reported
from mocks.stateful import lifespan_state, write_transaction
from mocks.vdxp.sdk import MockError, ok

STATE_KEY = "qlvb"


@dataclass(frozen=True)
class Context:
    """What the lifespan opened; each request finds it in `request.state`."""

    sessions: async_sessionmaker[AsyncSession]
    config: SystemConfig
    province_code: str
    now: Callable[[], datetime]
    bus: BusClient
    """The endpoint's client on its LGSP: what crosses provinces is handed over there."""


@dataclass(frozen=True)
class Unit:
    """One write transaction: the store, and its session."""

    store: DocumentStore
    session: AsyncSession


def context_of(request: Request) -> Context:
    return lifespan_state(request, STATE_KEY, Context)


@asynccontextmanager
async def writing(context: Context) -> AsyncIterator[Unit]:
    """One write transaction (`mocks.stateful.write_transaction`) with the instance's store."""
    async with write_transaction(context.sessions) as session:
        yield Unit(DocumentStore(session, context.config.instance), session)


@asynccontextmanager
async def reading(context: Context) -> AsyncIterator[DocumentStore]:
    async with context.sessions() as session:
        yield DocumentStore(session, context.config.instance)


async def hand_over(context: Context, handover: Handover, *, request_id: str) -> None:
    """Hand `handover` to the bus inside the caller's transaction, or refuse the change."""
    try:
        await context.bus.hand_over(handover, request_id=request_id)
    except BusUnavailable as error:
        status = 504 if error.timed_out else 502
        raise MockError(
            status,
            "BUS_UNAVAILABLE",
            f"Nothing was changed: {error.reason}, so the national document axis cannot be "
            "reached.",
        ) from None


def require_bus(context: Context) -> None:
    """Refuse what would need the national axis when this endpoint has no access to the bus."""
    if not context.bus.connected:
        raise MockError(
            503,
            "NOT_CONNECTED",
            "This endpoint has no access to the bus, so nothing can travel to or from another "
            "province over NDXP's national document axis.",
        )


def not_found() -> MockError:
    return MockError(404, "DOCUMENT_NOT_FOUND", "No such document in this province.")


def delivered(document: Document, deliveries: Sequence[Delivery], **extra: Any) -> JSONResponse:
    """The answer to a send or a status: the document's ids and each recipient's status."""
    return ok(
        DocId=document.doc_id,
        DocumentId=document.document_id,
        **extra,
        Recipients=[{"OrganId": d.recipient, "StatusCode": d.status} for d in deliveries],
    )


def report_of(status: Mapping[str, Any]) -> Report:
    """What the store applies of a status message parse_status accepted."""
    return Report(
        reporter=status["from"]["organ_id"],
        code=status["status_code"],
        description=status["description"],
        timestamp=status["timestamp"],
        staff_info=status["staff_info"],
    )


async def apply_report(
    store: DocumentStore, document: Document, report: Report, at: datetime
) -> Reported:
    """`store.report`, its refusals as the SDK's answers."""
    try:
        return await store.report(document, report, at=at)
    except IllegalStatusTransition as error:
        raise MockError(
            409,
            "ILLEGAL_STATUS",
            str(error),
            CurrentStatus=error.current,
            AllowedStatusCodes=list(error.allowed),
        ) from None
    except NotAParty:
        raise MockError(
            403, "NOT_A_PARTY", "The reporting organisation neither sent nor received it."
        ) from None
