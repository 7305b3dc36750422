"""A mock system that calls services through its own LGSP, as a real portal does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.base import SystemRequest
from lgsp.app import create_app
from lgsp.audit.repository import AuditRepository
from lgsp.composition import MOCK_SYSTEMS
from lgsp.db import make_session_factory
from lgsp.routing.systems import EmbeddedSystem, SystemContext
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.apps import running
from tests.fixtures.topology import topology_text

pytestmark = pytest.mark.anyio


def probe_app(context: SystemContext) -> FastAPI:
    """Looks a citizen up through the bus with its own credentials, passing the request id on."""
    access = context.bus
    assert access is not None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=access.base_url, transport=access.transport) as bus:
            yield {"bus": bus}

    app = FastAPI(lifespan=lifespan)

    @app.get("/lookup/{cccd}")
    async def lookup(cccd: str, request: Request) -> JSONResponse:
        bus: httpx.AsyncClient = request.state.bus
        token = await bus.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(access.client_id, access.client_secret),
        )
        if token.status_code != 200:
            return JSONResponse({"token_status": token.status_code}, status_code=502)
        headers = {
            "Authorization": f"Bearer {token.json()['access_token']}",
            "X-Request-ID": request.headers.get("x-request-id", ""),
        }
        citizen = await bus.get(f"/dancu/v1/citizens/{cccd}", headers=headers)
        household = await bus.get(f"/dancu/v1/citizens/{cccd}/household", headers=headers)
        return JSONResponse(
            {
                "client_id": access.client_id,
                "citizen": citizen.json(),
                "household_status": household.status_code,
            }
        )

    return app


@pytest.fixture
async def bus_with_probe(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[BusState]:
    topology = tmp_path / "topology.toml"
    topology.write_text(topology_text(only={"kiengiang": ["dancu", "probe"]}), encoding="utf-8")
    probe = EmbeddedSystem(probe_app, bus_rights={"dancu": "GET"})
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        data_dir=tmp_path,
        topology_file=topology,
        population=10,
    )
    started: list[BusState] = []
    systems = {**MOCK_SYSTEMS, "probe": probe}
    async with running(create_app(settings, systems=systems, on_ready=started.append)):
        yield started[0]


async def test_a_mock_calls_the_bus_with_its_own_client_and_the_callers_request_id(
    bus_with_probe: BusState,
) -> None:
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    probe = bus_with_probe.instances["kiengiang"].systems["probe"]

    response = await probe.send(
        SystemRequest(method="GET", path=f"/lookup/{cccd}", headers={"X-Request-ID": "chain-1"})
    )

    body = httpx.Response(200, content=response.body).json()
    assert response.status == 200
    assert body["client_id"] == "system-probe"
    assert body["citizen"]["cccd"] == cccd
    assert body["household_status"] == 200
    async with make_session_factory(bus_with_probe.engine)() as session:
        records = await AuditRepository(session).by_request_id("chain-1")
    assert {(r.hop, r.caller, r.target) for r in records} >= {
        ("inbound", "system-probe", "kiengiang"),
        ("upstream", "kiengiang", "dancu"),
    }


async def test_a_mock_gets_only_the_rights_it_was_given(bus_with_probe: BusState) -> None:
    probe = bus_with_probe.instances["kiengiang"].systems["probe"]
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    first = await probe.send(SystemRequest(method="GET", path=f"/lookup/{cccd}"))
    assert first.status == 200

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_bus_app(bus_with_probe)), base_url="http://t"
    ) as http:
        token = await http.post(
            "/lgsp/kiengiang/token",
            data={"grant_type": "client_credentials", "scope": "admin"},
            auth=("system-probe", "not-its-secret"),
        )

    assert token.status_code == 401


def _bus_app(bus: BusState) -> FastAPI:
    app = create_app(bus.settings)
    original = app.build_middleware_stack

    async def with_state(scope: Any, receive: Any, send: Any) -> None:
        scope["state"] = {"bus": bus}
        await original()(scope, receive, send)

    return with_state  # type: ignore[return-value]
