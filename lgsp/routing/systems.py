"""Opens one transport per system an instance owns: an embedded system, or a real URL.

The gateway does not know which systems can run inside it: it is handed a registry
(`create_app(settings, systems=…)`; the composition root `lgsp.composition` hands it the mocks).
Each entry says how to build the system's ASGI app from what the bus tells it (`SystemContext`),
which services it calls through its own LGSP, as real systems do (the public-service portal
verifies applicants in the citizen database), and where to find identifiers of its seeded data.
A system with a `url` in the topology needs no entry: the bus reaches it over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from lgsp.auth.gateway_key import GATEWAY_KEY_HEADER, gateway_key
from lgsp.routing.transports import (
    DirectCall,
    HttpTransport,
    InProcessTransport,
    SystemTransport,
    http_client,
)
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, SystemSpec


@dataclass(frozen=True)
class BusAccess:
    """How an embedded system reaches the bus: its LGSP's base URL, its client, a transport."""

    base_url: str
    client_id: str
    client_secret: str
    transport: httpx.AsyncBaseTransport | None


@dataclass(frozen=True)
class SystemContext:
    """What the bus tells a system it runs in-process: whose it is, and with which settings."""

    instance: InstanceSpec
    settings: Settings
    provinces: Mapping[str, str] = field(default_factory=dict)
    """Every province of the topology: legacy 2-digit code → instance name."""
    bus: BusAccess | None = None
    """Given to a system that calls services through its LGSP (`EmbeddedSystem.bus_rights`)."""


SystemFactory = Callable[[SystemContext], FastAPI]
SampleSource = Callable[[SystemContext, int], dict[str, list[str]]]
"""Identifiers of seeded data to try (kind → values), for the banner and /admin/samples."""
OrganisationSource = Callable[[SystemContext], dict[str, str]]
"""The organisations a system serves: organ id → name (whom the test CA may issue to)."""
DirectSource = Callable[[FastAPI], DirectCall | None]
"""The plain function a system's app offers for its hottest requests (`InProcessTransport`)."""


@dataclass(frozen=True)
class EmbeddedSystem:
    """A system the bus can run in its own process, as an ASGI app mounted in-process."""

    factory: SystemFactory
    bus_rights: dict[str, str] = field(default_factory=dict)
    """Services (and methods) the system calls through its own LGSP; empty: it calls none."""
    samples: SampleSource | None = None
    organisations: OrganisationSource | None = None
    central: OrganisationSource | None = None
    """A national system that is itself the exchange of central bodies (the national axis):
    those it serves, organ id → name, which no province's directory lists."""
    direct: DirectSource | None = None


SystemRegistry = Mapping[str, EmbeddedSystem]
"""Embedded systems by the name topology files give them (`dancu`, `dvc`, …)."""


def calls_the_bus(systems: SystemRegistry, system: SystemSpec) -> bool:
    """Whether `system` is of a kind the registry knows to call services through its LGSP.

    Such a system gets a client on its instance, embedded or not: one of ours run as a process
    of its own at its `url` (`lgsp serve --system`) authenticates with that client, its secret
    derived from the deployment's federation secret (`lgsp.auth.provisioning.system_secret`).
    """
    embedded = systems.get(system.name)
    return embedded is not None and bool(embedded.bus_rights)


def samples(
    systems: SystemRegistry,
    instance: InstanceSpec,
    settings: Settings,
    *,
    count: int,
    provinces: Mapping[str, str] | None = None,
) -> dict[str, list[str]]:
    """Valid identifiers from the seeded data of every embedded system the instance owns."""
    found: dict[str, list[str]] = {}
    context = SystemContext(instance=instance, settings=settings, provinces=provinces or {})
    for system in instance.systems:
        embedded = systems.get(system.name)
        if system.url is None and embedded is not None and embedded.samples is not None:
            found.update(embedded.samples(context, count))
    return found


def organisations(
    systems: SystemRegistry,
    instances: Iterable[InstanceSpec],
    settings: Settings,
    *,
    provinces: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The organisations the embedded systems of `instances` serve: organ id → name."""
    found: dict[str, str] = {}
    for instance in instances:
        context = SystemContext(instance=instance, settings=settings, provinces=provinces or {})
        for system in instance.systems:
            embedded = systems.get(system.name)
            if embedded is not None and embedded.organisations is not None:
                found.update(embedded.organisations(context))
    return found


def central_bodies(
    systems: SystemRegistry, instance: InstanceSpec, settings: Settings
) -> dict[str, str] | None:
    """The central bodies the embedded systems of `instance` serve (organ id → name); None
    when none of them says (no national axis here, or a real one at a `url`)."""
    found: dict[str, str] | None = None
    context = SystemContext(instance=instance, settings=settings)
    for system in instance.systems:
        embedded = systems.get(system.name)
        if system.url is None and embedded is not None and embedded.central is not None:
            found = {**(found or {}), **embedded.central(context)}
    return found


async def open_system(
    stack: AsyncExitStack,
    systems: SystemRegistry,
    instance: InstanceSpec,
    system: SystemSpec,
    settings: Settings,
    bus: BusAccess | None = None,
    *,
    provinces: Mapping[str, str] | None = None,
) -> SystemTransport:
    """The transport for one system; `stack` closes it, and ends an embedded system's lifespan."""
    if system.url is not None:
        client = http_client(str(system.url), timeout=settings.upstream_timeout_seconds)
        stack.push_async_callback(client.aclose)
        # Before the transport reads the client's headers: they are fixed once (issue 21).
        key = gateway_key(settings, instance=instance.name, system=system.name)
        client.headers[GATEWAY_KEY_HEADER] = key
        return HttpTransport(client, system=system.name)
    embedded = systems.get(system.name)
    if embedded is None:
        raise ValueError(
            f"instance {instance.name}: no mock for system {system.name!r}; give it a url"
        )
    context = SystemContext(
        instance=instance,
        settings=settings,
        provinces=provinces or {},
        bus=bus if embedded.bus_rights else None,
    )
    app = embedded.factory(context)
    state = await stack.enter_async_context(_running(app))
    return InProcessTransport(
        app,
        system=system.name,
        host=f"{system.name}.{instance.name}.internal",
        timeout=settings.upstream_timeout_seconds,
        state=state,
        direct=embedded.direct(app) if embedded.direct is not None else None,
    )


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Run an embedded system's lifespan around the bus's, as uvicorn would for a standalone one."""
    async with app.router.lifespan_context(app) as state:
        yield dict(state or {})
