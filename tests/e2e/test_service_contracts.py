"""Real answers match the published service contracts, and each instance serves them."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import httpx
import pytest

from adapters import CONTRACTS
from lgsp.cli._openapi import OPENAPI_DIR
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer
from tests.fixtures.contracts import contract_shape

pytestmark = pytest.mark.anyio


async def test_served_contract_is_the_checked_in_one(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{KG}/services/dancu/v1/openapi.json")

    checked_in = json.loads((OPENAPI_DIR / "services" / "dancu.v1.json").read_text("utf-8"))
    assert response.status_code == 200
    assert contract_shape(response.json()) == contract_shape(checked_in)
    assert response.json()["servers"] == [{"url": TEST_PUBLIC_URL + KG, "description": "LGSP"}]


async def test_every_served_contracts_token_url_gets_a_token_from_its_instance(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    # A generated client resolves tokenUrl against the server URL (OAS 3.1, RFC 3986 §5.2).
    for instance in (state.spec for state in bus.instances.values()):
        for service in bus.catalog:
            path = f"{instance.mount_path}/services/{service.id}/{service.version}/openapi.json"
            served = await client.get(path)
            assert served.status_code == 200, (path, served.text)
            contract = served.json()
            flow = contract["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
            token_url = urljoin(contract["servers"][0]["url"], flow["tokenUrl"])

            token = await client.post(
                token_url,
                data={"grant_type": "client_credentials", "scope": service.id},
                auth=("demo", "lgsp-demo-secret"),
            )

            assert token.status_code == 200, (path, token_url, token.text)
            assert token_url == f"{TEST_PUBLIC_URL}{instance.mount_path}/token"


async def test_contract_of_an_unknown_service_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{KG}/services/nosuch/v1/openapi.json")

    assert response.status_code == 404
    assert response.json()["code"] == "SERVICE_NOT_FOUND"


async def test_dancu_answers_conform_to_their_contract_models(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    citizen = generate_citizens(province_code="91", seed=settings.seed, count=1)[0]
    contracts = CONTRACTS["dancu"]
    base = f"{KG}/dancu/v1/citizens"

    answers = {
        "get_citizen": await client.get(
            f"{base}/{citizen.so_dinh_danh}", headers=bearer(demo_token)
        ),
        "get_household": await client.get(
            f"{base}/{citizen.so_dinh_danh}/household", headers=bearer(demo_token)
        ),
        "verify_citizen": await client.post(
            f"{base}/verify",
            json={
                "cccd": citizen.so_dinh_danh,
                "full_name": "Không Phải",
                "date_of_birth": "1990-01-01",
            },
            headers=bearer(demo_token),
        ),
    }

    assert set(answers) == set(contracts)
    for operation, response in answers.items():
        contract = contracts[operation]
        assert response.status_code == contract.status, operation
        contract.response.model_validate(response.json())


async def test_admin_samples_give_identifiers_that_work(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    response = await client.get(f"{KG}/admin/samples", headers=bearer(demo_token))

    assert response.status_code == 200
    found = response.json()["samples"]
    assert set(found) == {"cccd", "procedure", "dossier", "organ_id"}
    assert all(len(values) == 5 for values in found.values())
    checks = [
        *(f"{KG}/dancu/v1/citizens/{cccd}" for cccd in found["cccd"]),
        *(f"{KG}/dvc/v1/dossiers/{code}" for code in found["dossier"]),  # as the seeder wrote them
        *(f"{KG}/qlvb/v1/documents/inbox?organ_id={organ}" for organ in found["organ_id"]),
    ]
    for url in checks:
        lookup = await client.get(url, headers=bearer(demo_token))
        assert lookup.status_code == 200, url


async def test_admin_samples_need_an_admin_token(client: httpx.AsyncClient) -> None:
    token = (
        await client.post(
            f"{KG}/token",
            data={"grant_type": "client_credentials", "scope": "dancu"},
            auth=("demo", "lgsp-demo-secret"),
        )
    ).json()["access_token"]

    response = await client.get(f"{KG}/admin/samples", headers=bearer(token))

    assert response.status_code == 403
