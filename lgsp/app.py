"""The app factory and its lifespan: where the gateway is wired together.

`create_app(settings, systems=…)` builds, without touching the database or the network, one
root app with every instance of the topology mounted under its path (`/ndxp`,
`/lgsp/{province}`). The lifespan opens what must be closed — the engine, the signing keys, one
transport per owned system, the links to peers, the background tasks — and puts it in lifespan
state, where `deps.py` finds it. Which systems can run embedded is the caller's to say: the
composition root (`lgsp.composition.create_bus`) hands in the mocks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC
from functools import cached_property, partial
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters import ADAPTERS
from adapters.base import Adapter
from formats.dates import DayClock
from lgsp.audit.recorder import AuditRecorder
from lgsp.audit.router import router as audit_router
from lgsp.audit.sqlite_writer import SqliteAuditWriter
from lgsp.audit.writer import AuditLog, AuditWriter
from lgsp.auth.client_cache import ClientCache
from lgsp.auth.clients_router import router as client_admin_router
from lgsp.auth.keys import KeyForge
from lgsp.auth.login_limiter import LoginLimiter
from lgsp.auth.provisioning import (
    key_forge,
    provision_instance,
    system_client_id,
    system_secret,
)
from lgsp.auth.router import router as auth_router
from lgsp.background import start_audit_checkpoints, start_journal_pruner, start_outbox_worker
from lgsp.ca.router import public as ca_public_router
from lgsp.ca.router import router as ca_router
from lgsp.catalog.loader import Catalog, load_catalog
from lgsp.catalog.router import router as catalog_router
from lgsp.console import mount_console
from lgsp.db import make_engine, make_session_factory
from lgsp.dialects.mount import DOOR_PREFIXES, mount_doors
from lgsp.docs.router import router as docs_router
from lgsp.errors import install_error_handlers
from lgsp.faults.book import FaultBook
from lgsp.faults.router import router as faults_router
from lgsp.journal import store as journal_store
from lgsp.journal.router import router as journal_router
from lgsp.legacy_paths import LegacyPathMiddleware
from lgsp.loopback import INTERNAL_BUS_URL, with_lifespan_state
from lgsp.middleware import EntryMiddleware
from lgsp.models import create_schema
from lgsp.operations.router import router as operations_router
from lgsp.outbox.router import handovers_router
from lgsp.outbox.router import router as outbox_router
from lgsp.reset.router import router as reset_router
from lgsp.routing.dispatch import InvocationDispatch, first_segments, lean_gateway
from lgsp.routing.peer_wiring import open_peers
from lgsp.routing.router import router as invocation_router
from lgsp.routing.systems import BusAccess, SystemRegistry, calls_the_bus, open_system
from lgsp.samples.router import router as samples_router
from lgsp.settings import Settings
from lgsp.state import BUS_STATE_KEY, BusState, InstanceState
from lgsp.topology import InstanceSpec, Topology, load_topology

OnReady = Callable[[BusState], None]
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's OpenTelemetry bridge asks the global providers (environment lookups) on every
call, ~4% of the in-process hop's CPU (issue 21), for a bus that exports no telemetry."""
GATEWAY_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    catalog_router,
    samples_router,
    audit_router,
    outbox_router,
    handovers_router,
    reset_router,
    client_admin_router,
    faults_router,
    journal_router,
    docs_router,
    ca_public_router,
    ca_router,
)
"""Every instance's own endpoints, before the invocation route (which would shadow them)."""


class BusApp(FastAPI):
    """The root app, with the bus's own middleware outermost.

    FastAPI puts added middleware inside Starlette's server-error layer and its own telemetry
    and body-limit layers. The bus's (request id and guard, legacy paths, the invocation
    dispatch) are pure ASGI and hand every service call to its instance's lean app, which
    answers its own errors (`lgsp.routing.dispatch`): a call crossed those three layers, and
    their wrapper of each message it sent, for nothing (issue 21). Here they sit inside the
    bus's middleware, around the routes only: an error no handler takes is answered 500 there
    as before, now with the request id in its header too.
    """

    def build_middleware_stack(self) -> ASGIApp:
        own, self.user_middleware = self.user_middleware, []
        try:
            app = super().build_middleware_stack()
        finally:
            self.user_middleware = own
        for cls, args, kwargs in reversed(own):
            app = cls(app, *args, **kwargs)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A request straight into the middleware stack, once built: what FastAPI's entry
        and then Starlette's do for it when no root path is set and telemetry is off (so for
        every bus `create_app` makes), in one call rather than two (issue 21)."""
        stack = self.middleware_stack
        if stack is None or scope["type"] != "http" or self.root_path or self._telemetry_on:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await stack(scope, receive, send)

    @cached_property
    def _telemetry_on(self) -> bool:
        return any(self._telemetry.get(kind) for kind in ("tracing", "metrics", "logs"))


def create_app(
    settings: Settings | None = None,
    *,
    systems: SystemRegistry | None = None,
    instances: list[str] | None = None,
    on_ready: OnReady | None = None,
    forge: KeyForge | None = None,
) -> FastAPI:
    """Build the bus; `systems` are the systems it may run embedded (none: every system of the
    topology needs a `url`); `instances` limits it to some instances of the topology; `forge`:
    signing keys already being made (`lgsp serve` starts them before it imports the bus), else
    the lifespan starts making those its instances lack."""
    settings = settings or Settings()
    topology = load_topology(settings.topology_file, settings.era)
    topology = _with_ndxp_url(topology, settings.ndxp_url)
    served = _select(topology, instances)
    app = BusApp(
        title="LGSP mock bus",
        summary="A local copy of a provincial LGSP and of the national NDXP.",
        docs_url=None,  # each instance has its own offline docs at `{base}/docs`
        redoc_url=None,
        telemetry=NO_TELEMETRY,
        lifespan=_lifespan(settings, dict(systems or {}), topology, served, on_ready, forge),
    )
    install_error_handlers(app)
    gateways = {spec.mount_path: (spec, create_gateway_app(spec)) for spec in served}
    lean = {
        path: lean_gateway(gateway, instance=spec.name)
        for path, (spec, gateway) in gateways.items()
    }
    # Added first, so innermost: inside the guard and request-id middleware (routing/dispatch.py).
    app.add_middleware(
        InvocationDispatch,
        gateways=lean,
        reserved=_gateway_segments([gateway for _, gateway in gateways.values()])
        | set(DOOR_PREFIXES.values()),
    )
    moved = {
        f"/lgsp/{alias}": spec.mount_path
        for alias, spec in topology.aliases.items()
        if spec.mount_path in gateways
    }
    # An old name in a target header, wherever its successor is served (lgsp/legacy_paths.py).
    renamed = topology.aliases
    if moved or renamed:  # outside the dispatch, which then sees the absorbing instance's path
        app.add_middleware(
            LegacyPathMiddleware,
            moved=moved,
            renamed=renamed,
            public_url=settings.public_url,
            sunset=settings.legacy_path_sunset,
        )
    # Added last: outermost, so every answer has a request id.
    app.add_middleware(EntryMiddleware, max_bytes=settings.max_body_bytes)
    app.include_router(operations_router)
    mount_console(app)  # `/console`: the bus made visible (built at its first request)
    for path, (spec, gateway) in gateways.items():
        own = AuditRecorder(gateway, instance=spec.name)
        mount_doors(app.router, spec, core=lean[path], own=own)  # the real dialects (README)
        app.mount(path, own)
    return app


def create_gateway_app(spec: InstanceSpec) -> FastAPI:
    """One instance's gateway: the same core serves an LGSP and the NDXP (DESIGN.md §3)."""
    # Swagger UI from the package, not a CDN (`lgsp.docs`): FastAPI's own pages are off.
    app = FastAPI(
        title=spec.title,
        summary=f"Gateway of instance {spec.name}.",
        docs_url=None,
        redoc_url=None,
        telemetry=NO_TELEMETRY,
    )
    app.state.instance_name = spec.name
    install_error_handlers(app)
    for router in GATEWAY_ROUTERS:
        app.include_router(router)
    app.include_router(invocation_router)  # last: its path pattern would shadow the others
    return app


def _gateway_segments(gateways: list[FastAPI]) -> set[str]:
    """First path segments the gateways' own endpoints take: never taken for a service id."""
    own = [route for router in GATEWAY_ROUTERS for route in router.routes]
    return first_segments([*own, *(route for gateway in gateways for route in gateway.routes)])


def _select(topology: Topology, names: list[str] | None) -> tuple[InstanceSpec, ...]:
    """The instances this process serves; the others are peers, reached at their `url`."""
    if not names:
        return topology.instances
    unknown = sorted(set(names) - {instance.name for instance in topology.instances})
    if unknown:
        raise ValueError(f"unknown instance(s): {', '.join(unknown)}")
    return tuple(i for i in topology.instances if i.name in names)


def _with_ndxp_url(topology: Topology, url: str | None) -> Topology:
    national = topology.national
    if url is None or national is None:
        return topology
    moved = national.model_copy(update={"url": url})
    return topology.model_copy(
        update={"instances": tuple(moved if i is national else i for i in topology.instances)}
    )


_today = DayClock(UTC)
"""The adapters' today (CCCD birth years), in UTC: asked on every citizen lookup."""


def _lifespan(
    settings: Settings,
    systems: SystemRegistry,
    topology: Topology,
    served: tuple[InstanceSpec, ...],
    on_ready: OnReady | None,
    early_forge: KeyForge | None,
) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, BusState]]:
        async with AsyncExitStack() as stack:
            engine = make_engine(
                settings.resolved_database_url,
                sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds,
            )
            stack.push_async_callback(engine.dispose)
            await create_schema(engine)
            session_factory = make_session_factory(engine)
            audit_writer = _audit_writer(settings, session_factory)
            # Pushed before the tasks that append: it closes after them, writing what is queued.
            stack.push_async_callback(audit_writer.close)
            forge = early_forge or await key_forge(session_factory, list(served))
            stack.callback(forge.close)
            catalog = load_catalog(settings.catalog_dir, known_adapters=set(ADAPTERS))
            adapters: dict[str, Adapter] = {
                name: factory(today=_today) for name, factory in ADAPTERS.items()
            }
            # Mocks that call the bus reach it in-process, with the lifespan state a server
            # would give each request; the state exists once the bus below is built.
            started: dict[str, Any] = {}
            back_to_bus = httpx.ASGITransport(app=with_lifespan_state(app, started))
            instances = {
                spec.name: await _open_instance(
                    stack,
                    spec,
                    systems=systems,
                    topology=topology,
                    settings=settings,
                    catalog=catalog,
                    session_factory=session_factory,
                    back_to_bus=back_to_bus,
                    forge=forge,
                )
                for spec in served
            }
            for instance in instances.values():
                instance.peers = await open_peers(
                    stack, instance.spec, topology, set(instances), settings, back_to_bus
                )
            bus = BusState(
                settings=settings,
                topology=topology,
                engine=engine,
                session_factory=session_factory,
                catalog=catalog,
                adapters=adapters,
                audit_writer=audit_writer,
                client_cache=ClientCache(ttl_seconds=settings.client_cache_seconds),
                login_limiter=LoginLimiter(
                    max_failures=settings.login_max_failures,
                    window_seconds=settings.login_window_seconds,
                ),
                instances=instances,
                faults=FaultBook(
                    session_factory,
                    ttl_seconds=settings.fault_cache_seconds,
                    seed=settings.seed,
                    timeout_seconds=settings.upstream_timeout_seconds,
                ),
                systems=systems,
                ready=True,
            )
            bus.reset_hooks.append(partial(journal_store.clear, session_factory))
            start_audit_checkpoints(stack, bus)
            start_journal_pruner(stack, bus)
            started[BUS_STATE_KEY] = bus
            await start_outbox_worker(stack, bus, back_to_bus)
            if on_ready is not None:
                on_ready(bus)
            yield {BUS_STATE_KEY: bus}
            bus.ready = False

    return lifespan


def _audit_writer(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AuditLog:
    """On a SQLite file, a thread of this process owns the audit writes on stdlib `sqlite3`
    (issue 21: a quarter of the hop's CPU went to SQLAlchemy and aiosqlite), or with `lgsp
    serve --workers N` one process for every worker; elsewhere, group commits through
    SQLAlchemy."""
    if settings.audit_writer_socket is not None:  # a worker of `lgsp serve --workers N`
        from lgsp.audit.writer_service import RemoteAuditWriter

        return RemoteAuditWriter(
            settings.audit_writer_socket, busy_timeout=settings.sqlite_busy_timeout_seconds
        )
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return SqliteAuditWriter(
            url.database or "", busy_timeout=settings.sqlite_busy_timeout_seconds
        )
    return AuditWriter(session_factory)


async def _open_instance(
    stack: AsyncExitStack,
    spec: InstanceSpec,
    *,
    systems: SystemRegistry,
    topology: Topology,
    settings: Settings,
    catalog: Catalog,
    session_factory: async_sessionmaker[AsyncSession],
    back_to_bus: httpx.AsyncBaseTransport,
    forge: KeyForge,
) -> InstanceState:
    """Keys, provisioned clients and one transport per owned system, for one instance."""
    callers = [system.name for system in spec.systems if calls_the_bus(systems, system)]
    keys = await provision_instance(
        session_factory,
        spec,
        topology=topology,
        catalog=catalog,
        settings=settings,
        system_rights={name: systems[name].bus_rights for name in callers},
        forge=forge,
    )
    instance = InstanceState(spec=spec, issuer=f"{settings.public_url}{spec.mount_path}", keys=keys)
    for system in spec.systems:
        access = None
        if system.name in callers and system.url is None:
            access = BusAccess(
                base_url=f"{INTERNAL_BUS_URL}{spec.mount_path}",
                client_id=system_client_id(system.name),
                client_secret=system_secret(settings, instance=spec.name, system=system.name),
                transport=back_to_bus,
            )
        instance.systems[system.name] = await open_system(
            stack, systems, spec, system, settings, access, provinces=topology.provinces
        )
    return instance
