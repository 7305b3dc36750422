"""`{base}/docs` works on a closed network: every asset from the bus, every operation listed,
and Authorize fetches a token with client credentials."""

from __future__ import annotations

import re

import httpx
import pytest
from openapi_spec_validator import validate

from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def _references(html: str) -> list[str]:
    return [a or b for a, b in _URL.findall(html)]


async def test_docs_page_references_nothing_outside_the_bus(client: httpx.AsyncClient) -> None:
    page = await client.get(f"{KG}/docs")

    assert page.status_code == 200
    references = _references(page.text)
    assert references  # the page does load its script and style
    for reference in references:
        assert "//" not in reference, reference  # no scheme, no other host
        if reference.startswith("data:"):
            continue
        asset = await client.get(f"{KG}/{reference}")
        assert asset.status_code == 200, reference
    assert "SwaggerUIBundle" in page.text
    assert "validatorUrl: null" in page.text  # Swagger UI would ask validator.swagger.io


async def test_only_the_listed_assets_are_served(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "..%2F..%2Fsettings.py", "favicon.png"):
        response = await client.get(f"{KG}/docs/assets/{name}")
        assert response.status_code in (400, 404), name


async def test_docs_document_lists_every_operation_of_every_service(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get(f"{KG}/docs/openapi.json")).json()

    paths = document["paths"]
    assert "/{service_id}/{version}/{path}" not in paths  # the catch-all is gone
    assert any(path.startswith("/dancu/v1/citizens/") for path in paths)
    assert any(path.startswith("/qlvb/") for path in paths)
    assert "/admin/journal" in paths  # the gateway's own endpoints stay
    assert document["servers"] == [{"url": KG, "description": "this instance"}]
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


async def test_authorize_gets_a_token_with_client_credentials(client: httpx.AsyncClient) -> None:
    document = (await client.get(f"{KG}/docs/openapi.json")).json()
    flow = document["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert document["security"] == [{"oauth2": []}]

    # What Swagger UI sends: Basic credentials and a form (RFC 6749 §4.4).
    token = await client.post(
        flow["tokenUrl"],
        data={"grant_type": "client_credentials", "scope": "dancu"},
        auth=("demo", "lgsp-demo-secret"),
    )
    assert token.status_code == 200, token.text
    assert "dancu" in flow["scopes"]
    services = await client.get(f"{KG}/services", headers=bearer(token.json()["access_token"]))
    assert services.status_code == 200


async def test_docs_document_is_valid_openapi(client: httpx.AsyncClient) -> None:
    validate((await client.get(f"{KG}/docs/openapi.json")).json())
