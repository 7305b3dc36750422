"""The bus's background tasks, started in the lifespan and stopped before what they use closes:
the outbox worker (store-and-forward delivery), the journal pruner and the audit checkpoints."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, suppress
from datetime import UTC, datetime

import httpx

from lgsp.audit.anchor import Checkpointer, checkpoint_path
from lgsp.journal.pruner import prune_forever
from lgsp.loopback import INTERNAL_BUS_URL
from lgsp.outbox.delivery import GatewayDelivery
from lgsp.outbox.store import RetryPolicy
from lgsp.outbox.worker import OutboxWorker
from lgsp.state import BusState


def start_audit_checkpoints(stack: AsyncExitStack, bus: BusState) -> None:
    """Anchor the heads this process moves (`lgsp.audit.anchor`), and once more at the end.

    Pushed before the other tasks, so that it stops after them: the outbox worker's last
    deliveries are audited, then checkpointed.
    """
    checkpointer = Checkpointer(
        checkpoint_path(bus.settings.data_dir),
        committed=lambda: bus.audit_writer.committed_heads,
        keys=lambda name: bus.instances[name].keys.signing if name in bus.instances else None,
        now=lambda: datetime.now(UTC),
    )
    interval = bus.settings.audit_checkpoint_seconds
    task = (
        asyncio.create_task(checkpointer.run(interval), name="audit-checkpoints")
        if interval
        else None
    )

    async def stop() -> None:
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await checkpointer.checkpoint()

    stack.push_async_callback(stop)


def start_journal_pruner(stack: AsyncExitStack, bus: BusState) -> None:
    """Drop journal entries past their retention, while the bus runs (if the journal is on)."""
    if not bus.settings.journal_enabled:
        return
    task = asyncio.create_task(
        prune_forever(bus.session_factory, list(bus.instances), bus.settings), name="journal"
    )

    async def stop() -> None:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)


async def start_outbox_worker(
    stack: AsyncExitStack, bus: BusState, back_to_bus: httpx.AsyncBaseTransport
) -> None:
    """Deliver what this process's instances have stored; stopped first when the bus stops."""
    settings = bus.settings
    http = httpx.AsyncClient(transport=back_to_bus, base_url=INTERNAL_BUS_URL)
    stack.push_async_callback(http.aclose)
    worker = OutboxWorker(
        bus.session_factory,
        instances=list(bus.instances),
        deliver=GatewayDelivery(http, bus.instances),
        policy=RetryPolicy(
            max_attempts=settings.outbox_max_attempts,
            base_seconds=settings.outbox_backoff_seconds,
            max_seconds=max(settings.outbox_backoff_seconds, settings.outbox_backoff_max_seconds),
        ),
        poll_seconds=settings.outbox_poll_seconds,
        lease_seconds=settings.outbox_lease_seconds,
    )
    task = asyncio.create_task(worker.run(), name="outbox-worker")

    async def stop() -> None:
        await worker.stop()
        await task

    stack.push_async_callback(stop)
    bus.outbox_worker = worker
