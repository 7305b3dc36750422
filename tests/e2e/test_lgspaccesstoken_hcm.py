"""HCM's form of the `lgspaccesstoken` dialect (DOMAIN.md §2.2): the base64 JSON credentials in
`Authorization`, answers in `{StatusCode, Status, ThrowException, Description, ResultObject}`,
at an instance whose topology entry selects it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from adapters.dialects import lgspaccesstoken as lat
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec
from mocks.dancu.seed import generate_citizens
from tests.e2e.test_dialects import DEMO, LAT, access_header
from tests.fixtures.bus import KG, bearer, bus_settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def settings(
    bus_database_url: str, bus_data_dir: Path, topology_file: Callable[..., Path]
) -> Settings:
    topology = topology_file(
        dialects={"kiengiang": ("bus", "lgspaccesstoken")},
        access_token_variants={"kiengiang": "hochiminh"},
    )
    return bus_settings(bus_database_url, bus_data_dir, topology_file=topology)


async def test_hcm_credentials_in_authorization_get_the_citizen_in_hcms_envelope(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    cccd = generate_citizens(province_code="91", seed=7, count=1)[0].so_dinh_danh
    own = await client.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(demo_token))

    response = await client.get(
        f"{LAT}/dancu/v1/citizens/{cccd}", headers={"Authorization": access_header(*DEMO)}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("StatusCode", "Status", "ThrowException")} == {
        "StatusCode": 200,
        "Status": "SUCCESS",
        "ThrowException": False,
    }
    assert body["ResultObject"] == own.json()


async def test_hcm_wrong_secret_is_refused_in_hcms_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{LAT}/dancu/v1/citizens/091048993438",
        headers={"Authorization": access_header("demo", "not-the-secret")},
    )

    assert response.status_code == 401, response.text
    body = response.json()
    assert body["StatusCode"] == 401
    assert body["Status"] == lat.HCM_FAILED
    assert body["ResultObject"] is None
    assert "AccessKey and SecretKey" in body["Description"]


async def test_hcm_instance_reads_no_lgspaccesstoken_header(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{LAT}/dancu/v1/citizens/091048993438", headers={lat.HEADER: access_header(*DEMO)}
    )

    assert response.status_code == 401, response.text
    assert response.json()["Description"].startswith("INVALID_TOKEN: Send the Authorization header")


def test_hochiminh_speaks_hcms_form_unless_its_topology_entry_says_otherwise() -> None:
    spec = {"kind": "province", "title": "LGSP HCM", "province_code": "79"}

    assert InstanceSpec(name="hochiminh", **spec).access_token_variant == "hochiminh"
    assert InstanceSpec(name="cantho", **spec).access_token_variant == "haugiang"
    chosen = InstanceSpec(name="cantho", lgspaccesstoken_variant="hochiminh", **spec)
    assert chosen.access_token_variant == "hochiminh"
