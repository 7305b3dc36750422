"""What the lifespan builds and every request reads: the bus-wide and per-instance runtime.

Created once in `app.py`'s lifespan and put in lifespan state under `BUS_STATE_KEY`; handlers
reach it through `deps.py`, pure ASGI code (the audit recorder, the invocation dispatch)
through `bus_state_from_scope`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import Scope

from adapters.base import Adapter
from lgsp.audit.writer import AuditLog
from lgsp.auth.client_cache import ClientCache
from lgsp.auth.keys import KeySet
from lgsp.auth.login_limiter import LoginLimiter
from lgsp.auth.rate_limit import RateLimiter
from lgsp.auth.revocation import DenyList
from lgsp.auth.tokens import VerifiedTokens
from lgsp.ca.store import CertificateAuthority
from lgsp.catalog.loader import Catalog
from lgsp.faults.book import FaultBook
from lgsp.metrics import Metrics
from lgsp.outbox.worker import OutboxWorker
from lgsp.routing.peers import PeerLink
from lgsp.routing.systems import SystemRegistry, organisations
from lgsp.routing.transports import SystemTransport
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, Topology

ResetHook = Callable[[Sequence[str]], Awaitable[None]]
"""Restores one feature's state of the instances named on `POST {base}/admin/reset` (see
`lgsp.reset`)."""


@dataclass
class InstanceState:
    spec: InstanceSpec
    issuer: str
    keys: KeySet
    systems: dict[str, SystemTransport] = field(default_factory=dict)
    peers: dict[str, PeerLink] = field(default_factory=dict)
    """Other instances' gateways this one calls, by instance name (a province: only NDXP)."""
    verified_tokens: VerifiedTokens = field(default_factory=VerifiedTokens)
    """Tokens of this instance whose signature has been checked, until they expire."""


@dataclass
class BusState:
    settings: Settings
    topology: Topology
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    catalog: Catalog
    adapters: dict[str, Adapter]
    audit_writer: AuditLog
    client_cache: ClientCache
    login_limiter: LoginLimiter
    instances: dict[str, InstanceState]
    faults: FaultBook
    """Fault rules as this process sees them (`lgsp.faults.book`)."""
    metrics: Metrics = field(default_factory=Metrics)
    deny_list: DenyList = field(default_factory=DenyList)
    """Revoked token ids, per instance, refreshed every `client_cache_seconds`."""
    rate_limiter: RateLimiter = field(init=False)
    """Token buckets per (instance, client, service), in this process, on `clock`
    (`new_rate_limiter`)."""
    outbox_worker: OutboxWorker | None = None
    systems: SystemRegistry = field(default_factory=dict)
    """The systems this bus may run embedded (`create_app(settings, systems=…)`)."""
    reset_hooks: list[ResetHook] = field(default_factory=list)
    """What else `POST {base}/admin/reset` restores (fault rules, …): each feature that keeps
    state of its own appends its hook in the lifespan."""
    ready: bool = False
    systems_open: Callable[[], bool] = lambda: True
    """Whether every embedded system is open: they open once the bus is ready, and a call to
    one still opening waits for it (`lgsp.composition.DeferredSystems`); `/readyz` says so."""
    clock: Callable[[], float] = time.monotonic
    """The monotonic clock a journal wait's deadline is read on (`lgsp.journal.router`): one
    that a test can hold still or move."""

    def __post_init__(self) -> None:
        self.rate_limiter = self.new_rate_limiter()

    def new_rate_limiter(self) -> RateLimiter:
        """Empty buckets on the bus's clock, read at each call: a clock a test puts in later
        (`bus.clock = ...`) is the limiter's too, at start as after `POST /admin/reset`."""
        return RateLimiter(clock=lambda: self.clock())

    @cached_property
    def agencies(self) -> frozenset[str]:
        """The organ ids the document systems of every instance of the topology serve (the
        seeded directory): whose DocumentIds no other agency may claim (`authorise_body`)."""
        topology = self.topology
        return frozenset(
            organisations(
                self.systems, topology.instances, self.settings, provinces=topology.provinces
            )
        )

    @cached_property
    def ca(self) -> CertificateAuthority:
        """The test CA of the data dir (`lgsp.ca`); its root is made on first use."""
        return CertificateAuthority(self.settings.data_dir)


BUS_STATE_KEY = "bus"


def bus_state_from_scope(scope: Scope) -> BusState:
    """The running bus, from a request's scope (ASGI lifespan state, as a server gives it)."""
    state = scope.get("state", {}).get(BUS_STATE_KEY)
    if not isinstance(state, BusState):
        raise RuntimeError(
            "the bus lifespan has not run: serve the app with uvicorn or wrap it in "
            "asgi_lifespan.LifespanManager before sending requests"
        )
    return state
