"""Opens one transport per system an instance owns: the in-process mock, or a real URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from lgsp.routing.transports import HttpTransport, InProcessTransport, SystemTransport
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, SystemSpec
from mocks.config import SystemConfig
from mocks.dancu.app import create_app as create_dancu_app

MOCK_SYSTEMS: dict[str, Callable[[SystemConfig], FastAPI]] = {
    "dancu": create_dancu_app,
}


async def open_system(
    stack: AsyncExitStack, instance: InstanceSpec, system: SystemSpec, settings: Settings
) -> SystemTransport:
    """The transport for one system; `stack` closes it, and ends an in-process mock's lifespan."""
    if system.url is not None:
        client = httpx.AsyncClient(
            base_url=str(system.url),
            timeout=httpx.Timeout(settings.upstream_timeout_seconds),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        stack.push_async_callback(client.aclose)
        return HttpTransport(client, system=system.name)
    factory = MOCK_SYSTEMS.get(system.name)
    if factory is None:
        raise ValueError(
            f"instance {instance.name}: no mock for system {system.name!r}; give it a url"
        )
    app = factory(
        SystemConfig(
            instance=instance.name,
            province_code=instance.province_code,
            province_name=instance.title.removeprefix("LGSP "),
            seed=settings.seed,
            population=settings.population,
            database_url=settings.resolved_database_url,
        )
    )
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
