"""The gateway runs only the embedded systems it is handed (`create_app(settings, systems=…)`):
with none, it serves the systems the topology places at a `url`, as a real deployment would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.app import create_app
from lgsp.settings import Settings
from mocks.config import SystemConfig
from mocks.dancu.app import create_app as create_dancu_app
from mocks.dancu.seed import generate_citizens
from tests.fixtures.apps import running
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, bus_settings, fetch_token
from tests.fixtures.topology import topology_text

pytestmark = pytest.mark.anyio

SEED, POPULATION = 7, 10


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn on a free loopback port, in a thread: a system outside the bus."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "the system failed to start"
        assert time.monotonic() < deadline, "the system did not start in time"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


def settings_for(tmp_path: Path, database_url: str, dancu_url: str | None) -> Settings:
    """Kiên Giang alone, with `dancu` at `dancu_url` or, given None, nowhere."""
    topology = tmp_path / "topology.toml"
    system_urls = {("kiengiang", "dancu"): dancu_url} if dancu_url else None
    text = topology_text(system_urls=system_urls, only={"kiengiang": ["dancu"]})
    topology.write_text(text, encoding="utf-8")
    return bus_settings(
        database_url, tmp_path, topology_file=topology, seed=SEED, population=POPULATION
    )


@pytest.fixture
async def bus_without_mocks(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    dancu = create_dancu_app(
        SystemConfig(instance="kiengiang", province_code="91", seed=SEED, population=POPULATION)
    )
    with serving(dancu) as url:
        settings = settings_for(tmp_path, database_url, url)
        async with running(create_app(settings)) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=TEST_PUBLIC_URL) as http:
                yield http


async def test_a_bus_without_embedded_systems_serves_a_system_at_its_url(
    bus_without_mocks: httpx.AsyncClient,
) -> None:
    cccd = generate_citizens(province_code="91", seed=SEED, count=1)[0].so_dinh_danh
    token = await fetch_token(bus_without_mocks, KG)

    citizen = await bus_without_mocks.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(token))

    assert citizen.status_code == 200, citizen.text
    assert citizen.json()["cccd"] == cccd


async def test_a_system_at_a_url_offers_no_samples(bus_without_mocks: httpx.AsyncClient) -> None:
    token = await fetch_token(bus_without_mocks, KG, scope="admin")

    answer = await bus_without_mocks.get(f"{KG}/admin/samples", headers=bearer(token))

    assert answer.status_code == 200
    assert answer.json() == {"instance": "kiengiang", "samples": {}}


async def test_a_system_neither_embedded_nor_at_a_url_stops_start_up(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, database_url, None)

    with pytest.raises(ValueError, match="no mock for system 'dancu'; give it a url"):
        async with running(create_app(settings)):
            pass  # pragma: no cover - start-up fails
