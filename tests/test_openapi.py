"""The contracts under openapi/ are the code's: regenerate with `lgsp openapi` when this fails."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from adapters import ADAPTERS
from lgsp.catalog.examples import load_examples
from lgsp.catalog.loader import load_catalog
from lgsp.cli._openapi import CATALOG_DIR, OPENAPI_DIR, documents, render
from lgsp.cli._openapi_examples import ERAS, example_requests, profiles
from lgsp.composition import MOCK_SYSTEMS

Documents = dict[str, dict[str, Any]]


def document_names() -> list[str]:
    """The names `documents()` gives its contracts, without building one: this module is
    collected in every test process, and building them all took 2 s of CPU in each."""
    services = load_catalog(CATALOG_DIR, known_adapters=set(ADAPTERS))
    return sorted(
        [
            "gateway.json",
            *(f"services/{service.id}.{service.version}.json" for service in services),
            *(f"systems/{system}.json" for system in MOCK_SYSTEMS),
        ]
    )


@pytest.fixture(name="published", scope="module")
def fx_published() -> Documents:
    """Every published contract, built from the code once for the module."""
    return documents()


def test_the_tests_name_every_published_document(published: Documents) -> None:
    assert document_names() == sorted(published)


@pytest.mark.parametrize("name", document_names())
def test_checked_in_contract_matches_the_code(name: str, published: Documents) -> None:
    checked_in = (OPENAPI_DIR / name).read_text(encoding="utf-8")

    assert checked_in == render(published[name]), f"openapi/{name} is stale: run `lgsp openapi`"


def test_no_stray_files_in_openapi(published: Documents) -> None:
    files = sorted(str(p.relative_to(OPENAPI_DIR)) for p in OPENAPI_DIR.rglob("*.json"))

    assert files == sorted(published)


def test_gateway_errors_are_documented_as_problem_json(published: Documents) -> None:
    invoke = published["gateway.json"]["paths"]["/{service_id}/{version}/{path}"]["get"]

    for status in ("401", "403", "404", "502", "503", "504"):
        content = invoke["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")


@pytest.mark.parametrize("name", document_names())
def test_every_published_document_is_valid_openapi(name: str, published: Documents) -> None:
    validate(published[name])


def test_every_catalog_operation_has_a_contract(published: Documents) -> None:
    for name, document in published.items():
        if not name.startswith("services/"):
            continue
        for operations in document["paths"].values():
            for method, operation in operations.items():
                success = [s for s in operation["responses"] if s.startswith("2")]
                assert success, f"{name} {method} {operation['operationId']} has no contract"


def test_checked_in_example_requests_are_the_code_s() -> None:
    """The runtime endpoints read the stored requests, each instance its own; the published
    files use these."""
    stored = {
        (era, name, item.records_code): {key: e.request for key, e in item.examples.items()}
        for era, instances in load_examples().items()
        for name, item in instances.items()
    }

    assert stored == {
        (era, p.instance, p.here): {r.key: r for r in example_requests(p)}
        for era in ERAS
        for p in profiles(era)
    }, "lgsp/openapi_examples.json is stale: run `lgsp openapi`"


def test_every_service_operation_documents_the_database_outage(published: Documents) -> None:
    """A service call reads the bus's database (the caller's client, revocations, rights, the
    audit) before the owner is asked: while it is away, 503 DATABASE_UNAVAILABLE
    (tests/e2e/test_database_outage.py)."""
    services = {n: d for n, d in published.items() if n.startswith("services/")}

    assert services
    for name, document in services.items():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                described = operation["responses"]["503"]["description"].split(" or ")
                assert "DATABASE_UNAVAILABLE" in described, (name, method, path)
