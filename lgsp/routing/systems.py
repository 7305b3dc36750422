"""Opens one transport per system an instance owns: the in-process mock, or a real URL.

Some systems call services through their own LGSP, as real ones do (the public-service portal
verifies applicants in the citizen database). Each such mock gets a client of its own on that
LGSP, provisioned at start with the rights it needs, and an HTTP transport that reaches the
bus in-process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from lgsp.routing.transports import (
    HttpTransport,
    InProcessTransport,
    SystemTransport,
    http_client,
)
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, SystemSpec
from mocks.config import SystemConfig
from mocks.csdlqgdc.app import create_app as create_csdlqgdc_app
from mocks.csdlqgdc.app import sample_numbers as national_citizen_samples
from mocks.dancu.app import create_app as create_dancu_app
from mocks.dancu.seed import generate_citizens
from mocks.dvc.agencies import AGENCIES, provincial_procedure_code
from mocks.dvc.app import create_app as create_dvc_app
from mocks.dvc.procedures import PROCEDURES
from mocks.dvc.seed import seeded_dossier_codes
from mocks.dvcqg.app import create_app as create_dvcqg_app
from mocks.dvcqg.seed import sample_dossiers as national_dossier_samples
from mocks.qlvb.app import create_app as create_qlvb_app
from mocks.vdxp.app import create_app as create_vdxp_app

MockFactory = Callable[[SystemConfig, httpx.AsyncBaseTransport | None], FastAPI]
SampleSource = Callable[[SystemConfig, int], dict[str, list[str]]]
"""Identifiers of seeded data to try (kind → values), for the banner and /admin/samples."""


@dataclass(frozen=True)
class MockSystem:
    factory: MockFactory
    bus_rights: dict[str, str] = field(default_factory=dict)
    """Services (and methods) the mock calls through its own LGSP; empty: it calls none."""
    samples: SampleSource | None = None


def _citizen_samples(config: SystemConfig, count: int) -> dict[str, list[str]]:
    if config.province_code is None:
        return {}
    citizens = generate_citizens(
        province_code=config.province_code, seed=config.seed, count=min(count, config.population)
    )
    return {"cccd": [citizen.so_dinh_danh for citizen in citizens]}


def _dvc_samples(config: SystemConfig, count: int) -> dict[str, list[str]]:
    if config.province_code is None:
        return {}
    return {
        "procedure": [
            provincial_procedure_code(procedure.code, config.province_code)
            for procedure in PROCEDURES[:count]
        ],
        "dossier": seeded_dossier_codes(
            province_code=config.province_code, seed=config.seed, population=config.population
        )[:count],
    }


def _organisation_samples(config: SystemConfig, count: int) -> dict[str, list[str]]:
    agencies = AGENCIES.get(config.province_code or "", ())
    return {"organ_id": [agency.organ_id for agency in agencies][:count]}


MOCK_SYSTEMS: dict[str, MockSystem] = {
    "dancu": MockSystem(lambda config, _bus: create_dancu_app(config), samples=_citizen_samples),
    "dvc": MockSystem(
        lambda config, bus: create_dvc_app(config, bus_transport=bus),
        # verifies applicants in the citizen database; syncs every status change to DVCQG
        bus_rights={"dancu": "POST", "dvcqg": "POST"},
        samples=_dvc_samples,
    ),
    "qlvb": MockSystem(
        lambda config, bus: create_qlvb_app(config, bus_transport=bus),
        bus_rights={"vdxp": "POST"},  # documents and statuses for other provinces
        samples=_organisation_samples,
    ),
    "csdlqgdc": MockSystem(
        lambda config, _bus: create_csdlqgdc_app(config), samples=national_citizen_samples
    ),
    "dvcqg": MockSystem(
        lambda config, _bus: create_dvcqg_app(config), samples=national_dossier_samples
    ),
    "vdxp": MockSystem(
        lambda config, bus: create_vdxp_app(config, bus_transport=bus),
        bus_rights={"qlvb": "POST"},  # hands documents and statuses to the recipient's province
    ),
}


def mock_config(
    instance: InstanceSpec, settings: Settings, provinces: dict[str, str] | None = None
) -> SystemConfig:
    """What every in-process mock of `instance` is told (without bus access)."""
    provinces = provinces or {}
    return SystemConfig(
        instance=instance.name,
        province_code=instance.province_code,
        province_name=instance.title.removeprefix("LGSP "),
        provinces=provinces,
        seed=settings.seed,
        population=settings.population,
        database_url=settings.systems_database_url,
    )


def samples(
    instance: InstanceSpec,
    settings: Settings,
    *,
    count: int,
    provinces: dict[str, str] | None = None,
) -> dict[str, list[str]]:
    """Valid identifiers from the seeded data of every mock system the instance owns."""
    found: dict[str, list[str]] = {}
    config = mock_config(instance, settings, provinces)
    for system in instance.systems:
        mock = MOCK_SYSTEMS.get(system.name)
        if system.url is None and mock is not None and mock.samples is not None:
            found.update(mock.samples(config, count))
    return found


def system_client_id(system: str) -> str:
    return f"system-{system}"


@dataclass(frozen=True)
class BusAccess:
    """How a mock reaches the bus: its LGSP's base URL, its credentials, and a transport."""

    base_url: str
    client_secret: str
    transport: httpx.AsyncBaseTransport | None


async def open_system(
    stack: AsyncExitStack,
    instance: InstanceSpec,
    system: SystemSpec,
    settings: Settings,
    bus: BusAccess | None = None,
    *,
    provinces: dict[str, str] | None = None,
) -> SystemTransport:
    """The transport for one system; `stack` closes it, and ends an in-process mock's lifespan."""
    if system.url is not None:
        client = http_client(str(system.url), timeout=settings.upstream_timeout_seconds)
        stack.push_async_callback(client.aclose)
        return HttpTransport(client, system=system.name)
    mock = MOCK_SYSTEMS.get(system.name)
    if mock is None:
        raise ValueError(
            f"instance {instance.name}: no mock for system {system.name!r}; give it a url"
        )
    config = mock_config(instance, settings, provinces)
    if bus is not None and mock.bus_rights:
        config = config.model_copy(
            update={
                "bus_url": bus.base_url,
                "bus_client_id": system_client_id(system.name),
                "bus_client_secret": SecretStr(bus.client_secret),
            }
        )
    app = mock.factory(config, bus.transport if bus is not None else None)
    state = await stack.enter_async_context(_running(app))
    return InProcessTransport(
        app,
        system=system.name,
        host=f"{system.name}.{instance.name}.internal",
        timeout=settings.upstream_timeout_seconds,
        state=state,
    )


@asynccontextmanager
async def _running(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
    """Run a mounted mock's lifespan around the bus's, as uvicorn would for a standalone one."""
    async with app.router.lifespan_context(app) as state:
        yield dict(state or {})
