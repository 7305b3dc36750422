"""Each instance documents itself: its `/docs` and `/services/{id}/{version}/openapi.json` name
its own server and carry examples made of its own province's codes in the bus's era, and no
example names an agency its era's directory does not have open (review: every instance's docs
carried An Giang's examples and server)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url

from adapters import ADAPTERS
from formats.agency_codes import CLOSED_FROM, closure_of
from lgsp.catalog.loader import load_catalog
from lgsp.cli._openapi_examples import profiles
from lgsp.composition import create_bus
from lgsp.settings import Settings
from lgsp.topology import TOPOLOGIES, Era, InstanceSpec
from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.agencies import CENTRAL_AGENCIES, agencies_of, find_agency
from tests.fixtures.apps import running
from tests.fixtures.bus import TEST_PUBLIC_URL, BusPool, asgi_client, bus_settings
from tests.fixtures.database import database_url_for, hold_schema, wipe_postgresql_schema

pytestmark = pytest.mark.anyio

PROVINCES: dict[Era, tuple[str, str]] = {
    "2026": ("angiang", "cantho"),
    "2024": ("kiengiang", "haugiang"),
}
"""Two provinces of each era, neither the other's partner (the province its documents go to)."""
ORGAN_ID = re.compile(r"\b\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}\b")


@pytest.fixture(scope="module", params=list(PROVINCES))
async def era_client(
    request: pytest.FixtureRequest,
    bus_database_url: str,
    bus_pool: BusPool,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[Era, httpx.AsyncClient]]:
    """A bus of the era serving NDXP and the era's two provinces, on a database of its own,
    for every test of the era: the tests only read what it serves."""
    era: Era = request.param
    directory = tmp_path_factory.mktemp(f"era-{era}")
    if make_url(bus_database_url).get_backend_name() == "postgresql":
        await bus_pool.close()  # the run's schema is the shared bus's: stopped, then emptied
        wipe_postgresql_schema()
        database_url = bus_database_url
    else:
        database_url = database_url_for("sqlite", directory)
    settings = bus_settings(database_url, directory, era=era)
    app = create_bus(settings, instances=["ndxp", *PROVINCES[era]])
    hold_schema(database_url, held=True)
    try:
        async with running(app) as manager, asgi_client(manager.app) as http:  # type: ignore[arg-type]
            yield era, http
    finally:
        hold_schema(database_url, held=False)


async def _served_documents(http: httpx.AsyncClient, spec: InstanceSpec) -> dict[str, Any]:
    """The instance's docs document and each catalog service's contract, as it serves them."""
    base = spec.mount_path
    documents = {"docs": (await http.get(f"{base}/docs/openapi.json")).json()}
    catalog = load_catalog(
        Settings.model_fields["catalog_dir"].default, known_adapters=set(ADAPTERS)
    )
    for service in catalog:
        url = f"{base}/services/{service.id}/{service.version}/openapi.json"
        response = await http.get(url)
        assert response.status_code == 200, url
        documents[f"{service.id}.{service.version}"] = response.json()
    return documents


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for operation in item.values():
            yield path, operation


def _request_examples(document: dict[str, Any]) -> list[Any]:
    """What the examples send: parameters and bodies (answers may list other provinces)."""
    found: list[Any] = []
    for _, operation in _operations(document):
        found += [p["example"] for p in operation.get("parameters", []) if "example" in p]
        content = operation.get("requestBody", {}).get("content", {})
        found += [body["example"] for body in content.values() if "example" in body]
    return found


def _example_of(document: dict[str, Any], suffix: str, name: str) -> Any:
    """The example of path parameter or query parameter `name` of the operation at `suffix`."""
    for path, operation in _operations(document):
        if path.endswith(suffix):
            return next(p["example"] for p in operation["parameters"] if p["name"] == name)
    raise AssertionError(f"no operation at {suffix}")


def _letter(era: Era, records_code: str) -> str:
    return agencies_of(records_code, era=era)[0].letter_code


async def test_each_instance_names_its_own_server_and_its_own_codes(
    era_client: tuple[Era, httpx.AsyncClient],
) -> None:
    era, http = era_client
    topology = TOPOLOGIES[era]
    partners = {p.instance: p.there for p in profiles(era)}
    for name, other in (PROVINCES[era], PROVINCES[era][::-1]):
        spec, other_spec = topology.get(name), topology.get(other)
        assert spec is not None
        assert other_spec is not None
        assert spec.seed_code is not None
        own, partner = _letter(era, spec.seed_code), _letter(era, partners[name])
        documents = await _served_documents(http, spec)

        assert documents["docs"]["servers"] == [
            {"url": spec.mount_path, "description": "this instance"}
        ]
        for key, document in documents.items():
            if key != "docs":
                assert document["servers"][0]["url"] == TEST_PUBLIC_URL + spec.mount_path, key
            sent = json.dumps(_request_examples(document), ensure_ascii=False)
            # a central body (VPCP) is of no province: every province's examples may name it
            found = set(ORGAN_ID.findall(sent)) - set(CENTRAL_AGENCIES)
            letters = {organ_id[-3:] for organ_id in found}
            assert letters <= {own, partner}, (name, key, letters)
            assert _letter(era, str(other_spec.seed_code)) not in letters, (name, key)
        docs = documents["docs"]
        assert own in json.dumps(_request_examples(docs))
        # a citizen of its own records (the CCCD's first three digits: the province of birth)
        assert str(_example_of(docs, "/dancu/v1/citizens/{cccd}", "cccd")).startswith(
            f"0{spec.seed_code}"
        )
        # a commune of its own province (the era of the code: before 1 July 2025)
        commune = ADMIN_UNITS.unit("2024", str(_example_of(docs, "/dmhc/v1/units/{code}", "code")))
        assert commune is not None
        assert commune.province_code == spec.seed_code, name
        assert _example_of(docs, "/dvcqg/v1/agencies", "province") == spec.province_code


async def test_every_agency_code_in_every_served_contract_is_open_in_the_era(
    era_client: tuple[Era, httpx.AsyncClient],
) -> None:
    era, http = era_client
    for name in ("ndxp", *PROVINCES[era]):
        spec = TOPOLOGIES[era].get(name)
        assert spec is not None
        for key, document in (await _served_documents(http, spec)).items():
            for organ_id in set(ORGAN_ID.findall(json.dumps(document, ensure_ascii=False))):
                if organ_id in CENTRAL_AGENCIES:  # a central body (VPCP): of no province, no era
                    continue
                agency = find_agency(organ_id)
                assert agency is not None, (name, key, organ_id)  # in the directory
                assert agency.era == era, (name, key, organ_id)  # of the era's map
                if era == "2026":
                    assert closure_of(organ_id, CLOSED_FROM) is None, (name, key, organ_id)
