"""What the citizen database and the public-service portal answer alike: both speak the NGSP
envelope `{error_code, message, data}`, so the router's own 404 and 405 come in it too. One
test for the two mocks, as `test_sdk_mocks.py` is for the two that speak the VDXP SDK's JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from mocks.dancu.app import create_app as create_dancu
from tests.fixtures.apps import serving
from tests.fixtures.clocks import WallClock
from tests.fixtures.envelopes import envelope_error_message
from tests.unit.mocks.test_dancu_app import CONFIG as DANCU_CONFIG
from tests.unit.mocks.test_dancu_app import TODAY
from tests.unit.mocks.test_dvc_app import START, FakeBus, config_for, portal

pytestmark = pytest.mark.anyio

CCCD = "091087000123"


@asynccontextmanager
async def running(system: str, url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Kiên Giang's citizen database (it keeps no database of its own), or its portal on `url`
    with a stand-in bus."""
    if system == "dancu":
        app = create_dancu(DANCU_CONFIG, today=lambda: TODAY)
        async with serving(app, "http://dancu.test") as client:
            yield client
        return
    transport = httpx.ASGITransport(app=FakeBus().app)
    async with portal(config_for(url), transport, WallClock(START)) as client:
        yield client


@pytest.mark.parametrize(
    ("system", "method", "path", "status", "message"),
    [
        ("dancu", "GET", "/nowhere", 404, "NOT_FOUND"),
        ("dancu", "GET", f"/api/congdanx/{CCCD}", 404, "NOT_FOUND"),
        ("dancu", "POST", f"/api/congdan/{CCCD}", 405, "METHOD_NOT_ALLOWED"),
        ("dancu", "DELETE", "/api/congdan", 405, "METHOD_NOT_ALLOWED"),
        ("dvc", "GET", "/nowhere", 404, "NOT_FOUND"),
        ("dvc", "DELETE", "/api/hoso", 405, "METHOD_NOT_ALLOWED"),
        ("dvc", "PUT", "/api/hoso/000.00.07.H33-260302-0001", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_unknown_routes_answer_in_the_envelope(
    db_url: str, system: str, method: str, path: str, status: int, message: str
) -> None:
    async with running(system, db_url) as client:
        response = await client.request(method, path)

    assert response.headers["content-type"] == "application/json"
    assert envelope_error_message(response, status, str(status)) == message
    assert CCCD not in response.text
