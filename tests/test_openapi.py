"""The contracts under openapi/ are the code's: regenerate with `lgsp openapi` when this fails."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from lgsp.catalog.examples import load_examples
from lgsp.cli._openapi import OPENAPI_DIR, documents, render
from lgsp.cli._openapi_examples import ERAS, example_requests, profiles

DOCUMENTS = documents()


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_checked_in_contract_matches_the_code(name: str) -> None:
    checked_in = (OPENAPI_DIR / name).read_text(encoding="utf-8")

    assert checked_in == render(DOCUMENTS[name]), f"openapi/{name} is stale: run `lgsp openapi`"


def test_no_stray_files_in_openapi() -> None:
    files = sorted(str(p.relative_to(OPENAPI_DIR)) for p in OPENAPI_DIR.rglob("*.json"))

    assert files == sorted(DOCUMENTS)


def test_gateway_errors_are_documented_as_problem_json() -> None:
    invoke = DOCUMENTS["gateway.json"]["paths"]["/{service_id}/{version}/{path}"]["get"]

    for status in ("401", "403", "404", "502", "503", "504"):
        content = invoke["responses"][status]["content"]
        assert list(content) == ["application/problem+json"], status
        assert content["application/problem+json"]["schema"]["$ref"].endswith("/ProblemDetails")


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_every_published_document_is_valid_openapi(name: str) -> None:
    validate(DOCUMENTS[name])


def test_every_catalog_operation_has_a_contract() -> None:
    for name, document in DOCUMENTS.items():
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


def test_every_service_operation_documents_the_database_outage() -> None:
    """A service call reads the bus's database (the caller's client, revocations, rights, the
    audit) before the owner is asked: while it is away, 503 DATABASE_UNAVAILABLE
    (tests/e2e/test_database_outage.py)."""
    services = {n: d for n, d in DOCUMENTS.items() if n.startswith("services/")}

    assert services
    for name, document in services.items():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                described = operation["responses"]["503"]["description"].split(" or ")
                assert "DATABASE_UNAVAILABLE" in described, (name, method, path)
