"""Every service contract under openapi/services/, as an LGSP serves it (and NDXP the national
ones): each documents the gateway's own errors and is what the instances publish. The fuzzing
of every operation is `test_answers.py`'s (issue 5; issue 7's fuzz with a fixed budget)."""

from __future__ import annotations

import json
from functools import partial

import httpx
import pytest

from lgsp.cli._openapi import OPENAPI_DIR
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.contract.harness import NDXP, Bus, load_schema
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer
from tests.fixtures.contracts import contract_shape


def test_every_service_operation_documents_the_gateways_own_errors() -> None:
    """What the invocation route may answer before or after the owner (the request guard, rate
    limits, injected faults, an unknown X-LGSP-Target) is every operation's answer too."""
    gateway = load_schema("gateway.json").raw_schema
    invoke = gateway["paths"]["/{service_id}/{version}/{path}"]["get"]["responses"]
    gateway_errors = {status for status in invoke if int(status) >= 400}

    for path in sorted((OPENAPI_DIR / "services").glob("*.json")):
        document = load_schema(f"services/{path.name}").raw_schema
        for route, methods in document["paths"].items():
            for method, operation in methods.items():
                missing = gateway_errors - set(operation["responses"])
                assert not missing, (path.name, method, route, missing)


@pytest.mark.anyio
async def test_an_encoded_question_mark_is_part_of_the_forwarded_parameter(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh

    response = await client.get(
        f"{KG}/csdlqgdc/v1/citizens/{cccd}%3Fx=1", headers=bearer(demo_token)
    )

    # Found by schemathesis: forwarded decoded, `%3F` became the next hop's query, and the
    # answer was for citizen 091…, not for "091…?x=1".
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PATH"


@pytest.mark.parametrize("base", [KG, NDXP])
def test_every_instance_serves_the_checked_in_contracts(base: str, contract_bus: Bus) -> None:
    """So fuzzing the checked-in documents is fuzzing what the instances publish: the same
    paths, shapes and errors, with the instance's own server and examples."""
    for path in sorted((OPENAPI_DIR / "services").glob("*.json")):
        service, version, _ = path.name.split(".")
        fetch = partial(contract_bus.http.get, f"{base}/services/{service}/{version}/openapi.json")

        served = contract_bus.portal.call(fetch)

        assert served.status_code == 200
        checked_in = json.loads(path.read_text(encoding="utf-8"))
        assert contract_shape(served.json()) == contract_shape(checked_in), path.name
        assert served.json()["servers"][0]["url"] == TEST_PUBLIC_URL + base
