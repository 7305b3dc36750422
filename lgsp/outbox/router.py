"""`{base}/admin/outbox…`: what an instance still has to deliver, and re-driving what died.

An admin sees and re-drives only the outbox of the instance the request came in on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from lgsp.db import MAX_BIGINT
from lgsp.deps import BusDep, CallerDep, InstanceDep, admin_router
from lgsp.errors import (
    InvalidRequest,
    NotFound,
    OutboxConflict,
    problem_responses,
)
from lgsp.outbox import store
from lgsp.outbox.models import OutboxState
from lgsp.outbox.schemas import (
    HandoverState,
    OutboxCounts,
    OutboxMessageOut,
    OutboxPage,
    Redriven,
)
from lgsp.routing.callers import scoped_key
from lgsp.state import BusState

router = admin_router("/admin/outbox", InvalidRequest)
"""Every route reads a path or query parameter that may be invalid: 422."""
handovers_router = APIRouter(prefix="/handovers", tags=["outbox"])
"""What a system handed over, as that system sees it: only its own messages, by its key."""

DEFAULT_PAGE_SIZE = 50
MAX_ID = MAX_BIGINT  # a larger id would fail in the driver, not be "not found"

MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("")
async def list_outbox(
    instance: InstanceDep,
    bus: BusDep,
    state: OutboxState | None = None,
    limit: int = Query(default=DEFAULT_PAGE_SIZE, ge=1, le=store.MAX_PAGE_SIZE),
    after_id: int | None = Query(default=None, ge=0, le=MAX_ID),
) -> OutboxPage:
    """Counts by state, and a page of messages (bodies only as size and SHA-256)."""
    name = instance.spec.name
    counts = await store.count_by_state(bus.session_factory, instance=name)
    messages = await store.list_messages(
        bus.session_factory, instance=name, state=state, limit=limit, after_id=after_id
    )
    return OutboxPage(
        counts=OutboxCounts(**{state.value: count for state, count in counts.items()}),
        messages=[OutboxMessageOut.from_message(message) for message in messages],
    )


@router.post("/redrive")
async def redrive_all(
    instance: InstanceDep,
    bus: BusDep,
    state: Literal["dead"] = Query(),
) -> Redriven:
    """Send every dead message again, each with a fresh count of attempts."""
    count = await store.redrive_dead(
        bus.session_factory, instance=instance.spec.name, now=datetime.now(UTC)
    )
    _wake(bus)
    return Redriven(redriven=count)


@router.get("/{message_id}", responses=problem_responses(NotFound))
async def get_outbox_message(
    instance: InstanceDep, bus: BusDep, message_id: MessageId
) -> OutboxMessageOut:
    """One message of this instance's outbox."""
    message = await store.get_message(
        bus.session_factory, instance=instance.spec.name, message_id=message_id
    )
    if message is None:
        raise NotFound(f"Outbox message {message_id} is not in the outbox of {instance.spec.name}.")
    return OutboxMessageOut.from_message(message)


@router.post("/{message_id}/redrive", responses=problem_responses(NotFound, OutboxConflict))
async def redrive_message(
    instance: InstanceDep, bus: BusDep, message_id: MessageId
) -> OutboxMessageOut:
    """Send a dead or pending message again now; 409 if it is delivered or being delivered."""
    message = await store.redrive(
        bus.session_factory,
        instance=instance.spec.name,
        message_id=message_id,
        now=datetime.now(UTC),
    )
    _wake(bus)
    return OutboxMessageOut.from_message(message)


def _wake(bus: BusState) -> None:
    """Deliver what was re-driven now rather than at the worker's next poll."""
    if bus.outbox_worker is not None:
        bus.outbox_worker.wake()


@handovers_router.get("", responses=problem_responses(NotFound, InvalidRequest))
async def get_handover(
    caller: CallerDep,
    instance: InstanceDep,
    bus: BusDep,
    key: str = Query(min_length=1, max_length=200, pattern=r"^[!-~]+$"),
) -> HandoverState:
    """The delivery state of a message the calling client handed over with `Idempotency-Key`
    `key` (`Prefer: respond-async`): pending, delivering, delivered, or dead with the last
    status and error. Another client's message is not found, as one that never was."""
    message = await store.get_by_key(
        bus.session_factory, instance=instance.spec.name, key=scoped_key(caller.client_id, key)
    )
    if message is None:
        raise NotFound("This client handed over no message with this key here.")
    return HandoverState.from_message(message)
