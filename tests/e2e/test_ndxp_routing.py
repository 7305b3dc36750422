"""Calls that leave a province go through NDXP, with the LGSP's own credentials, on one trail."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lgsp.audit.repository import AuditRepository
from lgsp.composition import create_bus
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.apps import serving
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, fetch_token
from tests.fixtures.topology import topology_text

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"


def tiengiang_cccd(settings: Settings) -> str:
    return generate_citizens(province_code="82", seed=settings.seed, count=1)[0].so_dinh_danh


async def reach_tiengiang_citizen(
    http: httpx.AsyncClient, settings: Settings, token: str | None = None
) -> httpx.Response:
    """Kiên Giang's `dancu` asked, through NDXP, for a Tiền Giang citizen (by the demo client
    unless `token` says otherwise)."""
    return await http.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_cccd(settings)}",
        headers={**bearer(token or await fetch_token(http)), "X-LGSP-Target": "tiengiang"},
    )


async def test_a_province_reaches_another_provinces_service_through_ndxp(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = tiengiang_cccd(settings)
    there = await fetch_token(client, TG)

    through_ndxp = await client.get(
        f"{KG}/dancu/v1/citizens/{cccd}",
        headers={**bearer(demo_token), "X-LGSP-Target": "tiengiang"},
    )
    direct = await client.get(f"{TG}/dancu/v1/citizens/{cccd}", headers=bearer(there))

    assert through_ndxp.status_code == direct.status_code == 200
    assert through_ndxp.json() == direct.json()
    assert through_ndxp.headers["content-type"] == "application/json"


async def test_every_hop_is_recorded_by_the_instance_it_passes_under_one_request_id(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    response = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_cccd(settings)}",
        headers={**bearer(demo_token), "X-LGSP-Target": "tiengiang", "X-Request-ID": "path-1"},
    )
    assert response.status_code == 200

    async with make_session_factory(bus.engine)() as session:
        records = await AuditRepository(session).by_request_id("path-1")

    hops = {(r.instance, r.hop, r.caller, r.target, r.status) for r in records}
    assert hops == {
        ("kiengiang", "inbound", "demo", "kiengiang", 200),
        ("kiengiang", "forward", "kiengiang", "ndxp", 200),
        ("ndxp", "inbound", "lgsp-kiengiang", "ndxp", 200),
        ("ndxp", "forward", "ndxp", "tiengiang", 200),
        ("tiengiang", "inbound", "ndxp", "tiengiang", 200),
        ("tiengiang", "upstream", "tiengiang", "dancu", 200),
    }


async def test_the_owner_answers_for_itself_when_the_target_is_the_calling_province(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{cccd}",
        headers={**bearer(demo_token), "X-LGSP-Target": "kiengiang"},
    )

    assert response.status_code == 200


@pytest.mark.parametrize("target", ["hanoi", "ndxp", "../tiengiang", ""])
async def test_a_target_that_is_no_province_of_the_bus_is_a_404_problem(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, target: str
) -> None:
    response = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_cccd(settings)}",
        headers={**bearer(demo_token), "X-LGSP-Target": target},
    )

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "TARGET_NOT_FOUND"


@pytest.mark.parametrize("target", ["tiengiang", "kiengiang"])
async def test_a_national_service_goes_to_ndxp_whichever_province_the_target_names(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, target: str
) -> None:
    path = f"{KG}/csdlqgdc/v1/citizens/{tiengiang_cccd(settings)}"

    plain = await client.get(path, headers=bearer(demo_token))
    targeted = await client.get(path, headers={**bearer(demo_token), "X-LGSP-Target": target})

    assert plain.status_code == targeted.status_code == 200, targeted.text
    assert targeted.json() == plain.json()


async def test_ndxp_asks_which_province_when_a_provincial_call_names_none(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await fetch_token(client, "/ndxp")

    response = await client.get(
        f"/ndxp/dancu/v1/citizens/{tiengiang_cccd(settings)}", headers=bearer(token)
    )

    assert response.status_code == 404
    assert response.json()["code"] == "SERVICE_NOT_FOUND"
    assert "X-LGSP-Target" in response.json()["detail"]


async def test_a_malformed_idempotency_key_is_refused_before_anything_is_called(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    response = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_cccd(settings)}",
        headers={**bearer(demo_token), "X-LGSP-Target": "tiengiang", "Idempotency-Key": "a b"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_REQUEST"


async def running_bus(
    settings: Settings, **app_options: object
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_bus(settings, **app_options)  # type: ignore[arg-type]
    async with serving(app, TEST_PUBLIC_URL, raise_app_exceptions=False) as http:
        yield http


@pytest.fixture
async def bus_with_narrow_ndxp_rights(
    fresh_settings: Settings, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    topology = tmp_path / "topology.toml"
    without_dancu = topology_text(
        only={"ndxp": (), "kiengiang": ("dancu",), "tiengiang": ("dancu",)},
        ndxp_rights={"kiengiang": {"qlvb": "POST"}},
    )
    topology.write_text(without_dancu, encoding="utf-8")
    async for http in running_bus(fresh_settings.model_copy(update={"topology_file": topology})):
        yield http


async def test_ndxp_refuses_a_province_without_the_right_and_the_caller_sees_why(
    bus_with_narrow_ndxp_rights: httpx.AsyncClient, fresh_settings: Settings
) -> None:
    response = await reach_tiengiang_citizen(bus_with_narrow_ndxp_rights, fresh_settings)

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    assert "lgsp-kiengiang" in response.json()["detail"]


async def test_a_province_whose_ndxp_is_unreachable_answers_502_and_says_so(
    fresh_settings: Settings, free_tcp_port: int
) -> None:
    alone = fresh_settings.model_copy(update={"ndxp_url": f"http://127.0.0.1:{free_tcp_port}/ndxp"})
    async for http in running_bus(alone, instances=["kiengiang"]):
        response = await reach_tiengiang_citizen(http, fresh_settings)

        assert response.status_code == 502
        assert response.json()["code"] == "UPSTREAM_UNAVAILABLE"
        assert "ndxp could not be reached" in response.json()["detail"]


async def test_a_province_with_no_route_to_ndxp_says_how_to_give_one(
    fresh_settings: Settings,
) -> None:
    async for http in running_bus(fresh_settings, instances=["kiengiang"]):
        response = await reach_tiengiang_citizen(http, fresh_settings)

        assert response.status_code == 502
        assert "no route to ndxp" in response.json()["detail"]


async def test_the_lgsp_token_on_ndxp_is_fetched_once_and_reused(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    for _ in range(3):
        response = await reach_tiengiang_citizen(client, settings, demo_token)
        assert response.status_code == 200

    assert bus.instances["kiengiang"].peers["ndxp"].tokens_fetched == 1
