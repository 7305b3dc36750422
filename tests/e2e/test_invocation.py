"""Calling a service through the gateway: rights, routing errors and the citizen lookup."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from formats.dates import parse_ddmmyyyy
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio


def seeded_cccds(settings: Settings, province_code: str = "91") -> list[str]:
    citizens = generate_citizens(
        province_code=province_code, seed=settings.seed, count=settings.population
    )
    return [citizen.so_dinh_danh for citizen in citizens]


async def new_client(settings: Settings, *services: str, admin: bool = False) -> tuple[str, str]:
    """Register a client with the CLI's own code path, as an operator would."""
    from lgsp.admin_tasks import create_client

    created = await create_client(
        settings, instance="kiengiang", name="vendor", services=list(services), is_admin=admin
    )
    return created.client_id, created.client_secret


async def vendor_token(http: httpx.AsyncClient, settings: Settings, *services: str) -> str:
    client_id, secret = await new_client(settings, *services)
    return await fetch_token(http, client_id=client_id, secret=secret)


async def look_up_first_citizen(
    http: httpx.AsyncClient, settings: Settings, token: str
) -> httpx.Response:
    return await http.get(
        f"{KG}/dancu/v1/citizens/{seeded_cccds(settings)[0]}", headers=bearer(token)
    )


async def test_citizen_lookup_returns_canonical_json(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    expected = generate_citizens(province_code="91", seed=settings.seed, count=settings.population)[
        3
    ]

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{expected.so_dinh_danh}", headers=bearer(demo_token)
    )

    assert response.status_code == 200
    body = response.json()
    assert body["cccd"] == expected.so_dinh_danh
    assert body["full_name"] == expected.ho_va_ten
    assert body["date_of_birth"] == parse_ddmmyyyy(expected.ngay_thang_nam_sinh).isoformat()
    assert body["gender"] in {"male", "female"}
    assert body["permanent_address"]["province_code"] == "91"
    assert set(body) >= {"cccd", "full_name", "date_of_birth", "gender", "permanent_address"}


async def test_request_id_is_echoed_or_created(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = seeded_cccds(settings)[0]

    given = await client.get(
        f"{KG}/dancu/v1/citizens/{cccd}",
        headers={**bearer(demo_token), "X-Request-ID": "it-test-42"},
    )
    fresh = await client.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(demo_token))

    assert given.headers["x-request-id"] == "it-test-42"
    assert len(fresh.headers["x-request-id"]) == 32
    assert fresh.headers["x-request-id"] != given.headers["x-request-id"]


async def test_the_owning_system_gets_the_callers_request_id_and_the_calls_origin(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    bus: BusState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The headers the bus adds to the adapter's request (`extra_headers`) reach the system:
    its own calls to the bus then share the caller's audit trail."""
    transport = bus.instances["kiengiang"].systems["dancu"]
    app = transport._app  # type: ignore[attr-defined]
    received: list[dict[bytes, bytes]] = []

    async def watched(scope: Any, receive: Any, send: Any) -> None:
        received.append(dict(scope["headers"]))
        await app(scope, receive, send)

    monkeypatch.setattr(transport, "_app", watched)
    cccd = seeded_cccds(settings)[0]

    answer = await client.get(  # a household: answered by the system's app, not its function
        f"{KG}/dancu/v1/citizens/{cccd}/household",
        headers={**bearer(demo_token), "X-Request-ID": "hop-headers-1"},
    )

    assert answer.status_code == 200
    (headers,) = received
    assert headers[b"x-request-id"] == b"hop-headers-1"
    assert headers[b"x-lgsp-origin"] == b"kiengiang"


@pytest.mark.parametrize(
    ("cccd", "rule"),
    [
        ("09108700012", "format"),
        ("0910870001234", "format"),
        ("09108700012a", "format"),
        ("999087000123", "province_code"),
        ("091999000123", "birth_year"),
    ],
)
async def test_malformed_cccd_is_refused_with_the_failed_rule(
    client: httpx.AsyncClient, demo_token: str, cccd: str, rule: str
) -> None:
    response = await client.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(demo_token))

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "INVALID_CCCD"
    assert body["rule"] == rule
    assert cccd not in body["detail"]


async def test_unknown_citizen_is_404(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    known = set(seeded_cccds(settings))
    absent = next(f"0910870{n:05d}" for n in range(100_000) if f"0910870{n:05d}" not in known)

    response = await client.get(f"{KG}/dancu/v1/citizens/{absent}", headers=bearer(demo_token))

    assert response.status_code == 404
    assert response.json()["code"] == "CITIZEN_NOT_FOUND"


async def test_each_province_serves_only_its_own_citizens(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    tien_giang_citizen = seeded_cccds(settings, province_code="82")[0]
    token = await fetch_token(client, "/lgsp/tiengiang")

    here = await client.get(
        f"/lgsp/tiengiang/dancu/v1/citizens/{tien_giang_citizen}", headers=bearer(token)
    )
    there = await client.get(
        f"{KG}/dancu/v1/citizens/{tien_giang_citizen}", headers=bearer(await fetch_token(client))
    )

    assert here.status_code == 200
    assert there.status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nosuch/v1/x", 404, "SERVICE_NOT_FOUND"),
        ("GET", "/dancu/v9/citizens/091087000123", 404, "SERVICE_NOT_FOUND"),
        ("GET", "/dancu/v1/households/1", 404, "OPERATION_NOT_FOUND"),
        ("DELETE", "/dancu/v1/citizens/091087000123", 405, "METHOD_NOT_ALLOWED"),
        ("GET", "/dancu/v1/citizens/verify", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_routing_errors_are_problems(
    client: httpx.AsyncClient, demo_token: str, method: str, path: str, status: int, code: str
) -> None:
    response = await client.request(method, f"{KG}{path}", headers=bearer(demo_token))

    assert response.status_code == status
    assert response.json()["code"] == code


async def test_a_405_names_the_methods_the_path_takes_in_allow(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """RFC 9110 §15.5.6; found by schemathesis' `unsupported_method` check."""
    for method in ("PUT", "OPTIONS", "HEAD"):
        response = await client.request(
            method, f"{KG}/dancu/v1/citizens/verify", headers=bearer(demo_token)
        )

        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST", method


async def test_service_owned_by_provinces_is_not_served_by_ndxp(
    client: httpx.AsyncClient,
) -> None:
    token = await fetch_token(client, "/ndxp")

    response = await client.get("/ndxp/dancu/v1/citizens/091087000123", headers=bearer(token))

    assert response.status_code == 404
    assert response.json()["code"] == "SERVICE_NOT_FOUND"


async def test_client_without_the_right_gets_403(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await vendor_token(client, settings)
    cccd = seeded_cccds(settings)[0]

    call = await client.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(token))
    listing = await client.get(f"{KG}/services", headers=bearer(token))

    assert call.status_code == 403
    assert call.json()["code"] == "ACCESS_DENIED"
    assert listing.json() == {"services": []}


async def test_right_limited_to_other_methods_gets_403(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await vendor_token(client, settings, "dancu:POST")

    response = await look_up_first_citizen(client, settings, token)

    assert response.status_code == 403


async def test_client_with_the_right_can_call_and_sees_the_service_listed(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await vendor_token(client, settings, "dancu:GET")

    call = await look_up_first_citizen(client, settings, token)
    listing = (await client.get(f"{KG}/services", headers=bearer(token))).json()

    assert call.status_code == 200
    assert [(s["id"], s["version"], s["methods"]) for s in listing["services"]] == [
        ("dancu", "v1", "GET")
    ]
    assert listing["services"][0]["base_path"] == f"{KG}/dancu/v1"


async def test_token_scope_narrows_the_rights(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await fetch_token(client, scope="admin")

    response = await look_up_first_citizen(client, settings, token)

    assert response.status_code == 403


async def test_revoked_client_loses_access_at_once(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    from lgsp.admin_tasks import revoke_client

    client_id, secret = await new_client(settings, "dancu")
    token = await fetch_token(client, client_id=client_id, secret=secret)
    await revoke_client(settings, instance="kiengiang", client_id=client_id)

    call = await look_up_first_citizen(client, settings, token)
    new_token = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )

    assert call.status_code == 401
    assert new_token.status_code == 401


async def test_more_than_fifty_query_parameters_are_refused_before_any_call(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    path = f"{KG}/dancu/v1/citizens/{seeded_cccds(settings)[0]}"
    many = [(f"p{n}", "1") for n in range(51)]

    refused = await client.get(path, params=many, headers=bearer(demo_token))
    repeated = await client.get(
        path, params=[("p", str(n)) for n in range(51)], headers=bearer(demo_token)
    )
    fifty = await client.get(path, params=many[:50], headers=bearer(demo_token))

    assert refused.status_code == 422
    assert refused.json()["code"] == "INVALID_REQUEST"
    assert repeated.status_code == 200  # one parameter, many values: the limit counts names
    assert fifty.status_code == 200


async def test_a_token_scoped_to_another_service_is_told_its_scope_is_at_fault(
    client: httpx.AsyncClient,
) -> None:
    token = await fetch_token(client, scope="dancu")

    response = await client.get(f"{KG}/dvc/v1/dossiers", headers=bearer(token))

    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "ACCESS_DENIED"
    assert "scope (dancu) does not include dvc" in problem["detail"]
    assert "scope=dvc" in problem["detail"]
