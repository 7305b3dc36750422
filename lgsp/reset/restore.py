"""Put every instance this process serves back to its seeded state, quickly and atomically.

A reset restores, in order, with the outbox worker paused so that no delivery in flight lands
in a mock just seeded again (`OutboxWorker.paused`):

1. each stateful mock of each instance: its rows deleted and seeded again from the same seed,
   in one transaction per mock (`mocks.reset`), unless nothing has written to it since the
   last reset (one process on SQLite: `SystemConfig.sole_writer`); a stateless mock
   (`dancu`, `csdlqgdc`) has nothing to do, and a system reached at a URL is not ours to touch;
2. the outboxes of the served instances, whatever their messages' state;
3. the demo client as a fresh bus's provisioning wrote it, every column of its rows (rights,
   rate limits, identity, handling, admin, not revoked; `restore_demo_clients`); every other
   client is kept;
   the OpenCPS door's login sessions end (deleted, and their tokens revoked, so that no
   worker that remembers one honours it);
4. the fault rules and the journals of the served instances (`lgsp.faults`, `lgsp.journal`),
   and whatever other feature registered a hook in `BusState.reset_hooks`;
5. the in-memory throttles and caches: failed logins, client snapshots, rate buckets.

By default the whole process is reset: flows cross instances (a document leaves Kiên Giang,
crosses NDXP and lands in Tiền Giang), and resetting one end would leave the others holding its
traces. That takes a bus-wide admin; an instance's own admin resets its instance only (issue 15,
SECURITY-PROBE F10: one province's operator must not delete another's undelivered messages),
and the process's throttles and rate buckets are left alone. The audit log is never reset: it
is an append-only hash chain, and a deletion is exactly what `lgsp audit verify` exists to
detect.

A request that runs during a reset may or may not survive it; none leaves a mock half-seeded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import make_url

from adapters.base import SystemRequest
from kit.protocol import RESET_PATH
from lgsp.auth.client_cache import ClientCache
from lgsp.auth.login_limiter import LoginLimiter
from lgsp.errors import UpstreamUnavailable
from lgsp.reset.repository import (
    delete_outbox_messages,
    end_opencps_sessions,
    restore_demo_clients,
)
from lgsp.reset.schemas import ResetReport, SystemReset
from lgsp.state import BusState, InstanceState

RESET_TIMEOUT_SECONDS = 60.0
"""How long a reset waits for a mock to delete and seed its rows again: not the instance's
upstream timeout, which a test of timeouts sets to a second and a loaded machine overran."""

logger = logging.getLogger(__name__)


async def reset_bus(bus: BusState, *, only: str | None = None) -> ResetReport:
    """Restore the seeded state of every instance of `bus`, or of instance `only`; see the
    module docstring."""
    started = time.perf_counter()
    names = [only] if only is not None else list(bus.instances)
    async with _outbox_paused(bus):
        systems = await _reset_systems(bus, names)
        async with bus.session_factory.begin() as session:
            outbox_deleted = await delete_outbox_messages(session, instances=names)
            await restore_demo_clients(
                session, instances=names, settings=bus.settings, catalog=bus.catalog
            )
            ended = await end_opencps_sessions(session, instances=names, now=datetime.now(UTC))
        for instance, jti in ended:
            bus.deny_list.add(instance, jti)
        await bus.faults.reset(names)
        for hook in bus.reset_hooks:
            await hook(names)
        if only is None:
            _forget_in_memory_state(bus)
        else:
            bus.client_cache = ClientCache(ttl_seconds=bus.settings.client_cache_seconds)
    took_ms = (time.perf_counter() - started) * 1000
    logger.info("bus reset to seed %d in %.0f ms", bus.settings.seed, took_ms)
    return ResetReport(
        instances=names,
        systems=systems,
        outbox_deleted=outbox_deleted,
        took_ms=round(took_ms, 1),
    )


@asynccontextmanager
async def _outbox_paused(bus: BusState) -> AsyncIterator[None]:
    if bus.outbox_worker is None:
        yield
        return
    async with bus.outbox_worker.paused():
        yield


async def _reset_systems(bus: BusState, names: list[str]) -> list[SystemReset]:
    """Each system of the `names` instances reset, in order. On SQLite one after another, as
    the file has one writer at a time; on PostgreSQL together, each in its own transaction,
    so that a reset waits for the slowest mock rather than for every mock's round trips."""
    resets = [
        partial(_reset_system, instance, system.name, reached_at_url=system.url is not None)
        for instance in (bus.instances[name] for name in names)
        for system in instance.spec.systems
    ]
    if make_url(bus.settings.systems_database_url).get_backend_name() == "sqlite":
        return [await reset() for reset in resets]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(reset()) for reset in resets]
    except BaseExceptionGroup as failed:  # the first failure, as one after another would raise
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


async def _reset_system(
    instance: InstanceState, system: str, *, reached_at_url: bool
) -> SystemReset:
    name = instance.spec.name
    if reached_at_url:  # an integrator's real system, or one we cannot vouch for
        return SystemReset(instance=name, system=system, outcome="not ours")
    reset = SystemRequest(method="POST", path=RESET_PATH, timeout=RESET_TIMEOUT_SECONDS)
    answer = await instance.systems[system].send(reset)
    if answer.status == 404:
        return SystemReset(instance=name, system=system, outcome="stateless")
    if answer.status != 200:
        raise UpstreamUnavailable(
            f"System {system} of {name} could not be reset (it answered {answer.status})."
        )
    parsed = json.loads(answer.body)
    return SystemReset(
        instance=name,
        system=system,
        outcome="unchanged" if parsed.get("unchanged") is True else "reseeded",
        deleted=int(parsed["deleted"]),
        seeded=int(parsed["seeded"]),
    )


def _forget_in_memory_state(bus: BusState) -> None:
    """Counters a test may have filled: a throttled login must not throttle the next test."""
    settings = bus.settings
    bus.login_limiter = LoginLimiter(
        max_failures=settings.login_max_failures, window_seconds=settings.login_window_seconds
    )
    bus.client_cache = ClientCache(ttl_seconds=settings.client_cache_seconds)
    bus.rate_limiter = bus.new_rate_limiter()
