"""`bus_router`: client code tested with no bus, and the router answering as the bus does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from lgsp.testing import bus_router
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, fetch_token

BASE = "http://127.0.0.1:8000/lgsp/kiengiang"


def find_citizen(base: str, cccd: str) -> dict[str, Any] | None:
    """Client code under test: a token, then a lookup; None when no such citizen."""
    with httpx.Client(base_url=base) as http:
        token = http.post(
            "/token", data={"grant_type": "client_credentials"}, auth=("demo", "secret")
        ).json()["access_token"]
        answer = http.get(f"/dancu/v1/citizens/{cccd}", headers=bearer(token))
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    found: dict[str, Any] = answer.json()
    return found


def test_client_code_finds_a_seeded_citizen() -> None:
    first = generate_citizens(province_code="91", seed=2024, count=1)[0]
    with bus_router() as router:
        found = find_citizen(BASE, first.so_dinh_danh)
        assert router["token"].call_count == 1
    assert found is not None
    assert found["cccd"] == first.so_dinh_danh
    assert found["full_name"] == first.ho_va_ten


def test_client_code_sees_an_unknown_citizen_as_none() -> None:
    first = generate_citizens(province_code="91", seed=2024, count=1)[0]
    unknown = first.so_dinh_danh[:-1] + str((int(first.so_dinh_danh[-1]) + 1) % 10)
    with bus_router():
        assert find_citizen(BASE, unknown) is None


def test_a_problem_without_a_token_is_401() -> None:
    with bus_router(), httpx.Client() as http:
        answer = http.get(f"{BASE}/dancu/v1/citizens/091048993438")
        forged = http.get(f"{BASE}/dancu/v1/citizens/091048993438", headers=bearer("forged"))
    assert answer.status_code == forged.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["code"] == forged.json()["code"] == "INVALID_TOKEN"


def test_a_malformed_number_is_a_422_problem() -> None:
    with bus_router(), httpx.Client(base_url=BASE) as http:
        token = http.post("/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
        answer = http.get("/dancu/v1/citizens/12", headers=bearer(token.json()["access_token"]))
    assert answer.status_code == 422
    assert answer.json()["code"] == "INVALID_CCCD"
    assert answer.json()["instance"] == "/lgsp/kiengiang/dancu/v1/citizens/12"


@pytest.mark.anyio
async def test_async_client_code_is_answered_too() -> None:
    first = generate_citizens(province_code="91", seed=2024, count=1)[0]
    with bus_router():
        async with httpx.AsyncClient(base_url=BASE) as http:
            token = await http.post(
                "/token", data={"grant_type": "client_credentials"}, auth=("a", "b")
            )
            headers = bearer(token.json()["access_token"])
            answer = await http.get(f"/dancu/v1/citizens/{first.so_dinh_danh}", headers=headers)
    assert answer.json()["cccd"] == first.so_dinh_danh


def test_other_services_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="supports dancu, csdlqgdc, not 'dvc'"):
        bus_router("dvc")
    with pytest.raises(ValueError, match="base_url must end"):
        bus_router(base_url="http://127.0.0.1:8000/lgsp/atlantis")


def test_the_token_endpoint_answers_as_rfc_6749() -> None:
    with bus_router(), httpx.Client(base_url=BASE) as http:
        token = http.post("/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
        wrong = http.post("/token", data={"grant_type": "password"}, auth=("a", "b"))
    assert token.status_code == 200
    assert set(token.json()) == {"access_token", "token_type", "expires_in", "scope"}
    assert token.json()["token_type"] == "Bearer"
    assert token.headers["cache-control"] == "no-store"
    assert (wrong.status_code, wrong.json()["error"]) == (400, "unsupported_grant_type")


# --- the router's answers against the real bus's (tests/fixtures/bus.py, seed 7, 40 citizens)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The comparison needs one bus, not one per database: SQLite is enough."""
    return f"sqlite+aiosqlite:///{tmp_path / 'lgsp.db'}"


def requests_to_compare() -> list[tuple[str, str, str, dict[str, Any] | None]]:
    kiengiang = generate_citizens(province_code="91", seed=7, count=2)
    tiengiang = generate_citizens(province_code="82", seed=7, count=1)[0]
    cccd = kiengiang[0].so_dinh_danh
    unknown = cccd[:-1] + str((int(cccd[-1]) + 1) % 10)
    claim = {"cccd": cccd, "full_name": kiengiang[0].ho_va_ten, "date_of_birth": "1900-01-01"}
    return [
        ("dancu", "GET", f"/dancu/v1/citizens/{cccd}", None),
        ("dancu", "GET", f"/dancu/v1/citizens/{kiengiang[1].so_dinh_danh}/household", None),
        ("dancu", "GET", f"/dancu/v1/citizens/{unknown}", None),
        ("dancu", "GET", "/dancu/v1/citizens/12345", None),
        ("dancu", "GET", "/dancu/v1/citizens/821990123456", None),
        ("dancu", "POST", "/dancu/v1/citizens/verify", claim),
        ("dancu", "GET", "/dancu/v1/citizens/verify", None),
        ("dancu", "GET", "/dancu/v1/nothing", None),
        ("dancu", "GET", "/dancu/v9/citizens/1", None),
        ("csdlqgdc", "GET", f"/csdlqgdc/v1/citizens/{tiengiang.so_dinh_danh}", None),
        ("csdlqgdc", "GET", f"/csdlqgdc/v1/citizens/{unknown}", None),
        ("csdlqgdc", "GET", "/csdlqgdc/v1/citizens/abc", None),
    ]


@pytest.mark.anyio
async def test_the_router_answers_as_the_bus_does(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client)
    compared = 0
    for service, method, path, body in requests_to_compare():
        headers = {"X-Request-ID": f"compare-{compared}"}
        real = await client.request(
            method, f"{KG}{path}", json=body, headers={**headers, **bearer(token)}
        )
        with bus_router(service, base_url=TEST_PUBLIC_URL + KG, seed=7, population=40):
            async with httpx.AsyncClient(base_url=TEST_PUBLIC_URL + KG) as http:
                mocked_token = await http.post(
                    "/token", data={"grant_type": "client_credentials"}, auth=("demo", "s")
                )
                mocked = await http.request(
                    method,
                    path,
                    json=body,
                    headers={**headers, **bearer(mocked_token.json()["access_token"])},
                )
                anonymous = await http.request(method, path, json=body, headers=headers)
        real_anonymous = await client.request(method, f"{KG}{path}", json=body, headers=headers)
        where = f"{method} {path}"
        assert (mocked.status_code, mocked.json()) == (real.status_code, real.json()), where
        assert mocked.content == real.content, where
        assert mocked.headers["content-type"] == real.headers["content-type"], where
        assert mocked.headers.get("allow") == real.headers.get("allow"), where
        assert anonymous.content == real_anonymous.content, where
        compared += 1
    assert compared == len(requests_to_compare())


def test_the_default_base_is_the_eras_first_province(monkeypatch: pytest.MonkeyPatch) -> None:
    """Today's map has no Kiên Giang of its own: the default follows `LGSP_ERA`, as the bus."""
    monkeypatch.setenv("LGSP_ERA", "2026")
    with bus_router() as router, httpx.Client() as http:
        answer = http.post(
            "http://127.0.0.1:8000/lgsp/angiang/token",
            data={"grant_type": "client_credentials"},
            auth=("demo", "secret"),
        )

        assert answer.status_code == 200, answer.text
        assert router["token"].call_count == 1
