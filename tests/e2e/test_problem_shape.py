"""Every error is RFC 9457 problem+json with a stable code and the request id."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from lgsp.db import make_engine
from lgsp.errors import ProblemDetails
from lgsp.metrics import Metrics
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


@pytest.mark.parametrize(
    ("method", "path", "authorised", "status", "code"),
    [
        ("GET", "/nowhere", False, 404, "NOT_FOUND"),
        ("POST", "/healthz", False, 405, "METHOD_NOT_ALLOWED"),
        ("GET", f"{KG}/services", False, 401, "INVALID_TOKEN"),
        ("GET", f"{KG}/nosuch/v1/x", True, 404, "SERVICE_NOT_FOUND"),
        ("GET", f"{KG}/dancu/v1/citizens/123", True, 422, "INVALID_CCCD"),
        ("GET", f"{KG}/admin/audit?status=abc", True, 422, "INVALID_REQUEST"),
    ],
)
async def test_errors_are_problem_json(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    path: str,
    authorised: bool,
    status: int,
    code: str,
) -> None:
    headers = {**(bearer(demo_token) if authorised else {}), "X-Request-ID": "problem-1"}

    response = await client.request(method, path, headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) >= PROBLEM_MEMBERS
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == "problem-1"
    assert body["type"].endswith(code.lower().replace("_", "-"))
    assert response.headers["x-request-id"] == "problem-1"
    assert "Traceback" not in response.text


async def test_oversized_body_is_refused_with_413(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.post(f"{KG}/token", content=b"x" * (settings.max_body_bytes + 1))

    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"


async def test_healthz_answers_once_ready(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(client: httpx.AsyncClient, app: FastAPI) -> None:
    ready = await client.get("/readyz")

    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "keys": True, "systems": True}


async def test_readyz_says_not_ready_when_the_database_does_not_answer(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    working = bus.engine
    bus.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/nothing")  # refused
    try:
        response = await client.get("/readyz")
    finally:
        await bus.engine.dispose()
        bus.engine = working

    assert response.status_code == 503
    checks = {"database": False, "keys": True, "systems": True}
    assert response.json() == {"status": "not ready", "checks": checks}


async def test_index_lists_the_instances(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()

    assert [i["name"] for i in body["instances"]] == ["ndxp", "kiengiang", "tiengiang"]
    assert body["instances"][1]["base_url"] == "http://lgsp.test/lgsp/kiengiang"


async def test_metrics_count_calls_and_errors_by_code(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    bus.metrics = Metrics()  # counters run for the life of the process, over earlier tests too
    demo_token = await fetch_token(client)
    await client.get(f"{KG}/services", headers=bearer(demo_token))
    await client.get(f"{KG}/services")
    await client.get(f"{KG}/nosuch/v1/x", headers=bearer(demo_token))

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    # the token request and the listing
    assert 'lgsp_requests_total{instance="kiengiang",service="-",status="200"} 2' in lines
    assert 'lgsp_errors_total{instance="kiengiang",code="INVALID_TOKEN"} 1' in lines
    assert 'lgsp_errors_total{instance="kiengiang",code="SERVICE_NOT_FOUND"} 1' in lines
    assert "lgsp_audit_pending_records 0" in lines


async def test_problem_bodies_conform_to_the_published_schema(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{KG}/services")

    problem = ProblemDetails.model_validate(response.json())
    assert problem.code == "INVALID_TOKEN"
