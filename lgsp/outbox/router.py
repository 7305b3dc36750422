"""`{base}/admin/outbox…`: what an instance still has to deliver, and re-driving what died.

An admin sees and re-drives only the outbox of the instance the request came in on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Path, Query

from lgsp.db import MAX_BIGINT
from lgsp.deps import BusDep, InstanceDep, admin_router
from lgsp.errors import (
    InvalidRequest,
    NotFound,
    OutboxConflict,
    problem_responses,
)
from lgsp.outbox import store
from lgsp.outbox.models import OutboxState
from lgsp.outbox.schemas import OutboxCounts, OutboxMessageOut, OutboxPage, Redriven
from lgsp.state import BusState

router = admin_router("/admin/outbox")

DEFAULT_PAGE_SIZE = 50
MAX_ID = MAX_BIGINT  # a larger id would fail in the driver, not be "not found"

MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("", response_model=OutboxPage, responses=problem_responses(InvalidRequest))
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


@router.post("/redrive", response_model=Redriven, responses=problem_responses(InvalidRequest))
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


@router.get(
    "/{message_id}",
    response_model=OutboxMessageOut,
    responses=problem_responses(NotFound, InvalidRequest),
)
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


@router.post(
    "/{message_id}/redrive",
    response_model=OutboxMessageOut,
    responses=problem_responses(NotFound, OutboxConflict, InvalidRequest),
)
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
