"""The app factory and its lifespan: the only place where the bus is wired together.

`create_app(settings)` builds, without touching the database or the network, one root app with
every instance of the topology mounted under its path (`/ndxp`, `/lgsp/{province}`). The lifespan
opens what must be closed — the engine, the signing keys, one client per owned system — and puts
it in lifespan state, where `deps.py` finds it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from adapters import ADAPTERS
from adapters.base import Adapter
from lgsp.audit.recorder import AuditRecorder
from lgsp.audit.router import router as audit_router
from lgsp.audit.writer import AuditWriter
from lgsp.auth.client_cache import ClientCache
from lgsp.auth.clients import ALL_METHODS, ensure_client
from lgsp.auth.federation import NDXP_CLIENT_ID, federation_secret, province_client_id
from lgsp.auth.keys import load_or_create_keys
from lgsp.auth.login_limiter import LoginLimiter
from lgsp.auth.repository import ClientRepository
from lgsp.auth.router import router as auth_router
from lgsp.catalog.loader import Catalog, load_catalog
from lgsp.catalog.router import router as catalog_router
from lgsp.db import make_engine, make_session_factory
from lgsp.deps import BusDep
from lgsp.errors import install_error_handlers
from lgsp.faults.book import FaultBook
from lgsp.faults.router import router as faults_router
from lgsp.journal import store as journal_store
from lgsp.journal.pruner import prune_forever
from lgsp.journal.router import router as journal_router
from lgsp.metrics import Gauge
from lgsp.middleware import RequestGuardMiddleware, RequestIdMiddleware
from lgsp.models import create_schema
from lgsp.outbox import store as outbox_store
from lgsp.outbox.delivery import GatewayDelivery
from lgsp.outbox.router import router as outbox_router
from lgsp.outbox.store import RetryPolicy
from lgsp.outbox.worker import OutboxWorker
from lgsp.reset.router import router as reset_router
from lgsp.routing.dispatch import InvocationDispatch, first_segments, lean_gateway
from lgsp.routing.peers import PeerCredentials, PeerLink
from lgsp.routing.router import router as invocation_router
from lgsp.routing.systems import MOCK_SYSTEMS, BusAccess, open_system, system_client_id
from lgsp.routing.transports import http_client
from lgsp.settings import Settings
from lgsp.state import BUS_STATE_KEY, BusState, InstanceState
from lgsp.topology import InstanceSpec, Topology, load_topology

logger = logging.getLogger(__name__)

OnReady = Callable[[BusState], None]
GATEWAY_ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    catalog_router,
    audit_router,
    outbox_router,
    reset_router,
    faults_router,
    journal_router,
)
"""Every instance's own endpoints, before the invocation route (which would shadow them)."""
READINESS_TIMEOUT = 2.0
PROVISIONING_LOCK_ID = 0x4C475351  # next to kit.db's SCHEMA_LOCK_ID ("LGSP" + 1)
WORKER_ENVIRONMENT = "LGSP_SERVE_WORKER"
"""JSON handed by `lgsp serve --workers` to each worker: settings overrides and instances."""
INTERNAL_BUS_URL = "http://bus.internal"
"""Where in-process mocks reach the bus: any host does, the transport never leaves the process."""


def create_app(
    settings: Settings | None = None,
    *,
    instances: list[str] | None = None,
    on_ready: OnReady | None = None,
) -> FastAPI:
    """Build the bus; `instances` limits it to some instances of the topology (one process each)."""
    settings = settings or Settings()
    topology = _with_ndxp_url(load_topology(settings.topology_file), settings.ndxp_url)
    served = _select(topology, instances)
    app = FastAPI(
        title="LGSP mock bus",
        summary="A local copy of a provincial LGSP and of the national NDXP.",
        lifespan=_lifespan(settings, topology, served, on_ready),
    )
    install_error_handlers(app)
    gateways = {spec.mount_path: (spec, create_gateway_app(spec)) for spec in served}
    # Added first, so innermost: inside the guard and request-id middleware (routing/dispatch.py).
    app.add_middleware(
        InvocationDispatch,
        gateways={
            path: lean_gateway(gateway, instance=spec.name)
            for path, (spec, gateway) in gateways.items()
        },
        reserved=_gateway_segments([gateway for _, gateway in gateways.values()]),
    )
    app.add_middleware(RequestGuardMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so every answer has an id

    @app.get("/healthz", tags=["operations"])
    async def healthz(bus: BusDep) -> JSONResponse:
        """200 once the bus is ready to serve calls."""
        if not bus.ready:
            return JSONResponse({"status": "starting"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["operations"])
    async def readyz(bus: BusDep) -> JSONResponse:
        """200 when the database answers and every instance has its signing key; else 503."""
        checks = {"database": await _database_answers(bus), "keys": _keys_loaded(bus)}
        ready = bus.ready and all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics(bus: BusDep) -> PlainTextResponse:
        """Prometheus text format: requests, latency, errors by code, audit lag, outbox depth."""
        gauges: list[Gauge] = [
            (
                "lgsp_audit_pending_records",
                "Audit records waiting for their transaction.",
                (),
                float(bus.audit_writer.pending_entries),
            )
        ]
        for name in bus.instances:
            counts = await outbox_store.count_by_state(bus.session_factory, instance=name)
            gauges += [
                (
                    "lgsp_outbox_messages",
                    "Outbox messages by instance and delivery state.",
                    (("instance", name), ("state", state.value)),
                    float(count),
                )
                for state, count in counts.items()
            ]
        return PlainTextResponse(
            bus.metrics.render(gauges), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    @app.get("/", tags=["operations"])
    async def index(bus: BusDep) -> dict[str, Any]:
        """The instances this process serves, with their base URLs."""
        return {
            "instances": [
                {
                    "name": instance.spec.name,
                    "kind": instance.spec.kind,
                    "title": instance.spec.title,
                    "base_url": instance.issuer,
                    "docs": f"{instance.issuer}/docs",
                }
                for instance in bus.instances.values()
            ]
        }

    for path, (spec, gateway) in gateways.items():
        app.mount(path, AuditRecorder(gateway, instance=spec.name))
    return app


def create_worker_app() -> FastAPI:
    """The factory each of `lgsp serve --workers N`'s processes calls (`uvicorn --factory`).

    Settings come from the environment, as for one process, with the command line's overrides
    and instances that the parent put in `LGSP_SERVE_WORKER`. The workers share one
    PostgreSQL database: each serves every instance, and the kernel spreads connections.
    """
    from lgsp.logging import configure_logging

    handed = json.loads(os.environ.get(WORKER_ENVIRONMENT, "{}"))
    settings = Settings(**handed.get("overrides", {}))
    configure_logging(json=settings.log_format == "json")  # a spawned process: `serve`'s part
    return create_app(settings, instances=handed.get("instances"), on_ready=settle_heap)


def settle_heap(_bus: BusState | None = None) -> None:
    """For a server process once the bus is built: collect, then freeze what start-up made.

    The seeded records, the catalog and the apps live as long as the process. Left to the
    collector, every full collection walks them all again (~130 ms with the default seed) and
    stalls every call under way: it set the p99 under load. Frozen, they are never scanned
    again. Not done by `create_app`, which tests call many times in one process.
    """
    gc.collect()
    gc.freeze()


def worker_environment(overrides: dict[str, Any], instances: list[str] | None) -> str:
    """What `create_worker_app` reads: the value of `LGSP_SERVE_WORKER` for the workers."""
    return json.dumps({"overrides": overrides, "instances": instances}, default=str)


def create_gateway_app(spec: InstanceSpec) -> FastAPI:
    """One instance's gateway: the same core serves an LGSP and the NDXP (DESIGN.md §3)."""
    app = FastAPI(title=spec.title, summary=f"Gateway of instance {spec.name}.")
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


async def _database_answers(bus: BusState) -> bool:
    try:
        async with asyncio.timeout(READINESS_TIMEOUT), bus.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:
        logger.warning("readiness: the database does not answer", exc_info=True)
        return False
    return True


def _keys_loaded(bus: BusState) -> bool:
    return all(instance.keys.signing.kid for instance in bus.instances.values())


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


def _today() -> date:
    return datetime.now(UTC).date()


def _lifespan(
    settings: Settings,
    topology: Topology,
    served: tuple[InstanceSpec, ...],
    on_ready: OnReady | None,
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
            catalog = load_catalog(settings.catalog_dir, known_adapters=set(ADAPTERS))
            adapters: dict[str, Adapter] = {
                name: factory(today=_today) for name, factory in ADAPTERS.items()
            }
            # Mocks that call the bus reach it in-process, with the lifespan state a server
            # would give each request; the state exists once the bus below is built.
            started: dict[str, Any] = {}
            back_to_bus = httpx.ASGITransport(app=_with_state(app, started))
            instances = {
                spec.name: await _open_instance(
                    stack, spec, topology, settings, catalog, session_factory, back_to_bus
                )
                for spec in served
            }
            for instance in instances.values():
                instance.peers = await _open_peers(
                    stack, instance.spec, topology, set(instances), settings, back_to_bus
                )
            bus = BusState(
                settings=settings,
                topology=topology,
                engine=engine,
                session_factory=session_factory,
                catalog=catalog,
                adapters=adapters,
                audit_writer=AuditWriter(session_factory),
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
                ready=True,
            )
            bus.reset_hooks.append(partial(bus.faults.reset, list(instances)))
            bus.reset_hooks.append(partial(journal_store.clear, session_factory, list(instances)))
            _start_journal_pruner(stack, bus)
            started[BUS_STATE_KEY] = bus
            await _start_outbox_worker(stack, bus, back_to_bus)
            if on_ready is not None:
                on_ready(bus)
            yield {BUS_STATE_KEY: bus}
            bus.ready = False

    return lifespan


def _start_journal_pruner(stack: AsyncExitStack, bus: BusState) -> None:
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


async def _start_outbox_worker(
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


async def _open_instance(
    stack: AsyncExitStack,
    spec: InstanceSpec,
    topology: Topology,
    settings: Settings,
    catalog: Catalog,
    session_factory: async_sessionmaker[AsyncSession],
    back_to_bus: httpx.AsyncBaseTransport,
) -> InstanceState:
    """Keys, provisioned clients and one transport per owned system, for one instance."""
    shared = settings.federation_secret.get_secret_value()
    # Derived, not random: every worker serving the instance (`lgsp serve --workers`) must give
    # its mocks the secret the database holds, whichever worker provisioned it last.
    system_secrets = {
        system.name: federation_secret(
            shared, instance=spec.name, client_id=system_client_id(system.name)
        )
        for system in spec.systems
        if system.url is None and _calls_the_bus(system.name)
    }
    async with session_factory.begin() as session:
        await _hold_provisioning_lock(session)
        repository = ClientRepository(session)
        keys = await load_or_create_keys(repository, spec.name)
        await _provision_demo_client(repository, spec, catalog, settings)
        await _provision_system_clients(repository, spec, system_secrets)
        await _provision_peer_clients(repository, spec, topology, catalog, settings)
    instance = InstanceState(spec=spec, issuer=f"{settings.public_url}{spec.mount_path}", keys=keys)
    for system in spec.systems:
        access = None
        if system.name in system_secrets:
            access = BusAccess(
                base_url=f"{INTERNAL_BUS_URL}{spec.mount_path}",
                client_secret=system_secrets[system.name],
                transport=back_to_bus,
            )
        instance.systems[system.name] = await open_system(
            stack, spec, system, settings, access, provinces=topology.provinces
        )
    return instance


async def _hold_provisioning_lock(session: AsyncSession) -> None:
    """Provision one process at a time, until the transaction ends.

    Workers starting together would otherwise each create a signing key without seeing the
    other's, and refuse the tokens the other signs. SQLite: the write lock (`BEGIN IMMEDIATE`,
    lgsp/db.py); PostgreSQL: a transaction-scoped advisory lock.
    """
    connection = await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:id)"), {"id": PROVISIONING_LOCK_ID}
        )


async def _provision_peer_clients(
    repository: ClientRepository,
    spec: InstanceSpec,
    topology: Topology,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """NDXP knows each province as a client, each province knows NDXP (auth/federation.py)."""
    shared = settings.federation_secret.get_secret_value()
    if spec.kind == "national":
        every_service = {service.id: ALL_METHODS for service in catalog}
        for province in topology.instances:
            if province.kind != "province":
                continue
            client_id = province_client_id(province.name)
            await ensure_client(
                repository,
                instance=spec.name,
                client_id=client_id,
                secret=federation_secret(shared, instance=spec.name, client_id=client_id),
                name=f"{province.title} (through NDXP)",
                rights=province.ndxp_rights if province.ndxp_rights is not None else every_service,
                is_admin=False,
            )
        return
    await ensure_client(
        repository,
        instance=spec.name,
        client_id=NDXP_CLIENT_ID,
        secret=federation_secret(shared, instance=spec.name, client_id=NDXP_CLIENT_ID),
        name="NDXP, forwarding calls of other provinces and national systems",
        rights={service.id: ALL_METHODS for service in catalog if service.owner == "province"},
        is_admin=False,
    )


async def _open_peers(
    stack: AsyncExitStack,
    spec: InstanceSpec,
    topology: Topology,
    served: set[str],
    settings: Settings,
    back_to_bus: httpx.AsyncBaseTransport,
) -> dict[str, PeerLink]:
    """A province reaches NDXP; NDXP reaches every province: in this process, or at its url."""
    shared = settings.federation_secret.get_secret_value()
    if spec.kind == "national":
        peers = [p for p in topology.instances if p.kind == "province"]
        client_id = NDXP_CLIENT_ID
    else:
        peers = [p for p in (topology.national,) if p is not None]
        client_id = province_client_id(spec.name)
    links: dict[str, PeerLink] = {}
    for peer in peers:
        timeout = httpx.Timeout(settings.upstream_timeout_seconds)
        if peer.name in served:
            client = httpx.AsyncClient(
                transport=back_to_bus,
                base_url=f"{INTERNAL_BUS_URL}{peer.mount_path}",
                timeout=timeout,
            )
        elif peer.url is not None:
            client = http_client(str(peer.url), timeout=settings.upstream_timeout_seconds)
        else:
            continue
        stack.push_async_callback(client.aclose)
        credentials = PeerCredentials(
            client_id=client_id,
            client_secret=federation_secret(shared, instance=peer.name, client_id=client_id),
        )
        links[peer.name] = PeerLink(name=peer.name, client=client, credentials=credentials)
    return links


async def _provision_system_clients(
    repository: ClientRepository, spec: InstanceSpec, system_secrets: dict[str, str]
) -> None:
    """Each mock that calls the bus gets its own client, with a fresh secret at every start."""
    for name, secret in system_secrets.items():
        await ensure_client(
            repository,
            instance=spec.name,
            client_id=system_client_id(name),
            secret=secret,
            name=f"System {name} of {spec.name}",
            rights=MOCK_SYSTEMS[name].bus_rights,
            is_admin=False,
        )


def _calls_the_bus(system: str) -> bool:
    mock = MOCK_SYSTEMS.get(system)
    return mock is not None and bool(mock.bus_rights)


def _with_state(app: ASGIApp, state: dict[str, Any]) -> ASGIApp:
    """Give requests that enter in-process the lifespan state a server would give them."""

    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return with_state


async def _provision_demo_client(
    repository: ClientRepository, spec: InstanceSpec, catalog: Catalog, settings: Settings
) -> None:
    """The demo client may call every service and read the audit log of every instance."""
    await ensure_client(
        repository,
        instance=spec.name,
        client_id=settings.demo_client_id,
        secret=settings.demo_client_secret.get_secret_value(),
        name="Demo client",
        rights={service.id: ALL_METHODS for service in catalog},
        is_admin=True,
    )
