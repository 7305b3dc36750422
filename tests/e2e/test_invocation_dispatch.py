"""Service calls take the lean route (no FastAPI routing, no dependency solving); others do not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from adapters.dancu import DancuAdapter
from lgsp import errors
from lgsp.routing import dispatch
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer

pytestmark = pytest.mark.anyio


@pytest.fixture
def lean_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the lean route authenticated: the FastAPI route authenticates through deps."""
    seen: list[str] = []
    real = dispatch.authenticate

    async def spy(request, bus, instance, audit, *read):  # type: ignore[no-untyped-def]
        seen.append(request.url.path)
        return await real(request, bus, instance, audit, *read)

    monkeypatch.setattr(dispatch, "authenticate", spy)
    return seen


async def test_a_service_call_takes_the_lean_route_with_its_request_id_and_audit(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, lean_calls: list[str]
) -> None:
    cccd = generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh
    path = f"{KG}/dancu/v1/citizens/{cccd}"

    answer = await client.get(path, headers={**bearer(demo_token), "X-Request-ID": "lean-1"})
    trail = await client.get(f"{KG}/admin/audit?request_id=lean-1", headers=bearer(demo_token))

    assert answer.status_code == 200
    assert answer.headers["x-request-id"] == "lean-1"
    assert lean_calls == [path]
    assert [record["hop"] for record in trail.json()["records"]] == ["inbound", "upstream"]


async def test_a_refused_service_call_is_a_problem_from_the_lean_route(
    client: httpx.AsyncClient, lean_calls: list[str]
) -> None:
    answer = await client.get(f"{KG}/dancu/v1/citizens/1", headers=bearer("not-a-token"))

    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "INVALID_TOKEN"
    assert answer.json()["instance"] == f"{KG}/dancu/v1/citizens/1"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert lean_calls == [f"{KG}/dancu/v1/citizens/1"]


async def test_an_unknown_service_and_the_gateway_endpoints_stay_with_fastapi(
    client: httpx.AsyncClient, demo_token: str, lean_calls: list[str]
) -> None:
    unknown = await client.get(f"{KG}/nosuch/v1/x", headers=bearer(demo_token))
    listing = await client.get(f"{KG}/services", headers=bearer(demo_token))

    assert unknown.status_code == 404
    assert unknown.json()["code"] == "SERVICE_NOT_FOUND"
    assert listing.status_code == 200
    assert lean_calls == []


async def test_a_bug_on_the_lean_route_is_answered_500_audited_and_raised_for_the_server(
    app: FastAPI,
    demo_token: str,
    settings: Settings,
    lean_calls: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("an adapter bug")

    monkeypatch.setattr(DancuAdapter, "to_canonical", broken)
    cccd = generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh
    headers = {**bearer(demo_token), "X-Request-ID": "lean-bug"}
    raising = httpx.ASGITransport(app=app)  # as a server sees it: the error comes out
    lenient = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    async with httpx.AsyncClient(transport=raising, base_url=TEST_PUBLIC_URL) as http:
        with pytest.raises(RuntimeError, match="an adapter bug"):
            await http.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=headers)
    async with httpx.AsyncClient(transport=lenient, base_url=TEST_PUBLIC_URL) as http:
        answer = await http.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=headers)
        trail = await http.get(f"{KG}/admin/audit?request_id=lean-bug", headers=bearer(demo_token))

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "lean-bug"
    assert answer.json()["code"] == "INTERNAL_ERROR"
    assert "an adapter bug" not in answer.text
    assert len(lean_calls) == 2
    inbound = [record for record in trail.json()["records"] if record["hop"] == "inbound"]
    assert [record["status"] for record in inbound] == [500, 500]


async def test_a_handler_that_fails_on_the_lean_route_still_gives_a_500_problem_with_the_id(
    client: httpx.AsyncClient, lean_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = errors._render

    def render(request: Request, error: errors.LgspError, *args: Any) -> Response:
        if isinstance(error, errors.InvalidToken):
            raise RuntimeError("the 401 handler broke")
        return real(request, error, *args)

    monkeypatch.setattr(errors, "_render", render)

    answer = await client.get(
        f"{KG}/dancu/v1/citizens/1",
        headers={**bearer("not-a-token"), "X-Request-ID": "handler-bug"},
    )

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "handler-bug"
    assert answer.json()["code"] == "INTERNAL_ERROR"
    assert answer.json()["request_id"] == "handler-bug"
    assert lean_calls == [f"{KG}/dancu/v1/citizens/1"]


async def test_an_answer_failing_after_its_start_on_the_lean_route_is_raised_not_answered_again(
    app: FastAPI, demo_token: str, lean_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed answer that fails mid-way has begun: no 500 is sent after its start."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b"{"
        raise RuntimeError("failed mid-stream")

    async def streamed(*args: object) -> Response:
        return StreamingResponse(chunks(), media_type="application/json")

    monkeypatch.setattr(dispatch, "invoke", streamed)
    raising = httpx.ASGITransport(app=app)  # a second start would fail its own assertion

    async with httpx.AsyncClient(transport=raising, base_url=TEST_PUBLIC_URL) as http:
        with pytest.raises(RuntimeError, match="failed mid-stream"):
            await http.get(f"{KG}/dancu/v1/citizens/1", headers=bearer(demo_token))

    assert lean_calls == [f"{KG}/dancu/v1/citizens/1"]
