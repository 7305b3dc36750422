"""What the lifespan builds and every request reads: the bus-wide and per-instance runtime.

Created once in `app.py`'s lifespan, reached only through `deps.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.base import Adapter
from lgsp.audit.writer import AuditWriter
from lgsp.auth.client_cache import ClientCache
from lgsp.auth.keys import KeySet
from lgsp.auth.login_limiter import LoginLimiter
from lgsp.catalog.loader import Catalog
from lgsp.metrics import Metrics
from lgsp.outbox.worker import OutboxWorker
from lgsp.routing.peers import PeerLink
from lgsp.routing.transports import SystemTransport
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, Topology


@dataclass
class InstanceState:
    spec: InstanceSpec
    issuer: str
    keys: KeySet
    systems: dict[str, SystemTransport] = field(default_factory=dict)
    peers: dict[str, PeerLink] = field(default_factory=dict)
    """Other instances' gateways this one calls, by instance name (a province: only NDXP)."""


@dataclass
class BusState:
    settings: Settings
    topology: Topology
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    catalog: Catalog
    adapters: dict[str, Adapter]
    audit_writer: AuditWriter
    client_cache: ClientCache
    login_limiter: LoginLimiter
    instances: dict[str, InstanceState]
    metrics: Metrics = field(default_factory=Metrics)
    outbox_worker: OutboxWorker | None = None
    ready: bool = False
