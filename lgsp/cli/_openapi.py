"""`lgsp openapi`: the published contracts under `openapi/`, generated from the code.

`gateway.json` is the contract every instance serves; `services/<id>.<version>.json` the
canonical contract of each catalog service (as `lgsp.catalog.contract` serves it at run time);
`systems/<name>.json` are the mock systems' own contracts, in their native formats, which the
adapters translate from. A test regenerates them and fails when the checked-in files drift from
the code, so integrators can rely on `openapi/` (issue: published contracts).

A build-time tool, outside the runtime import graph: it builds gateway apps and mocks, and
captures the examples' answers on a running bus (`lgsp.cli._openapi_examples`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapters import ADAPTERS
from lgsp.app import create_gateway_app
from lgsp.catalog.contract import DATABASE_ERRORS, GUARD_ERRORS, schema_ref, service_document
from lgsp.catalog.loader import load_catalog
from lgsp.cli._openapi_examples import published_examples, refresh_examples
from lgsp.composition import MOCK_SYSTEMS
from lgsp.errors import PROBLEM_MEDIA_TYPE, InvalidPath, InvalidRequest, LgspError, ProblemDetails
from lgsp.routing.systems import SystemContext
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec

OPENAPI_DIR = Path(__file__).resolve().parent.parent.parent / "openapi"
CATALOG_DIR = Settings.model_fields["catalog_dir"].default
SERVED_WITHOUT_DATABASE = frozenset(
    {
        "/.well-known/jwks.json",  # the instance's keys, in memory
        "/ca/root.pem",  # the test CA's files
        "/ca/crl.der",
        "/ca/crl.pem",
        "/ca/trust.pem",
        "/services/{service_id}/{version}/openapi.json",  # built from the catalog's files
    }
)
"""The gateway's operations that answer without the database, public and unauthenticated: every
other one reads it (the caller's client and revocations, the admin tables, the outbox)."""


def gateway_document() -> dict[str, Any]:
    """The contract every instance serves at `{base}` (an LGSP and the NDXP alike)."""
    spec = InstanceSpec(name="province", kind="province", title="LGSP gateway", province_code="91")
    document = create_gateway_app(spec).openapi()
    document["info"]["description"] = (
        "Served by every instance of the bus under its base path: `/ndxp` and "
        "`/lgsp/{province}`. Errors are RFC 9457 `application/problem+json` with a stable "
        "`code`; the token endpoint answers in RFC 6749 form."
    )
    _problems_as_problem_json(document)
    _validation_errors_as_problems(document)
    _undecodable_bodies_as_problems(document)
    _guard_errors_as_problems(document)
    _database_errors_as_problems(document)
    document["servers"] = [
        {"url": "http://127.0.0.1:8000/lgsp/angiang", "description": "LGSP An Giang"},
        {"url": "http://127.0.0.1:8000/ndxp", "description": "NDXP"},
    ]
    return document


def _problems_as_problem_json(document: dict[str, Any]) -> None:
    """FastAPI files a response model under the route's own media type (application/json);
    our errors are application/problem+json only, so their schema moves there."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and PROBLEM_MEDIA_TYPE in content:
                    json_schema = content.pop("application/json", {}).get("schema")
                    if json_schema is not None:
                        content[PROBLEM_MEDIA_TYPE]["schema"] = json_schema


def _validation_errors_as_problems(document: dict[str, Any]) -> None:
    """FastAPI documents its own 422 as JSON `HTTPValidationError`; `install_error_handlers`
    answers every request validation error as an INVALID_REQUEST problem instead."""
    problem = {PROBLEM_MEDIA_TYPE: {"schema": schema_ref(ProblemDetails)}}
    for operations in document["paths"].values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422")
            if response is not None and PROBLEM_MEDIA_TYPE not in response.get("content", {}):
                response.update(description=InvalidRequest.code, content=problem)
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


def _undecodable_bodies_as_problems(document: dict[str, Any]) -> None:
    """A JSON body FastAPI cannot decode (not UTF-8, say) is its HTTPException 400, which
    `install_error_handlers` answers as an HTTP_400 problem: documented wherever a body is read."""
    for operations in document["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                operation["responses"].setdefault(
                    "400",
                    {
                        "description": "HTTP_400: the body could not be decoded",
                        "content": {PROBLEM_MEDIA_TYPE: {"schema": schema_ref(ProblemDetails)}},
                    },
                )


def _guard_errors_as_problems(document: dict[str, Any]) -> None:
    """The request guard answers before routing, so on every operation: 413 and 431 always,
    400 INVALID_PATH where a path parameter can carry what it refuses."""
    for path, operations in document["paths"].items():
        errors = tuple(e for e in GUARD_ERRORS if e is not InvalidPath or "{" in path)
        for operation in operations.values():
            _document_errors(operation["responses"], errors)


def _database_errors_as_problems(document: dict[str, Any]) -> None:
    """While the database is away, every operation that reads it answers 503
    DATABASE_UNAVAILABLE (`lgsp.errors`, for `DATABASE_FAILURES`), whatever its route says."""
    for path, operations in document["paths"].items():
        if path in SERVED_WITHOUT_DATABASE:
            continue
        for operation in operations.values():
            _document_errors(operation["responses"], DATABASE_ERRORS)


def _document_errors(responses: dict[str, Any], errors: tuple[type[LgspError], ...]) -> None:
    """Each of `errors` under its status, as a problem, beside what the status already names."""
    for error in errors:
        response = responses.setdefault(
            str(error.status),
            {
                "description": error.code,
                "content": {PROBLEM_MEDIA_TYPE: {"schema": schema_ref(ProblemDetails)}},
            },
        )
        if error.code not in response["description"]:
            response["description"] = f"{error.code} or {response['description']}"


def system_document(system: str) -> dict[str, Any]:
    """A mock system's own contract: its native format, as the gateway's adapter meets it."""
    # Built as Kiên Giang's; the document does not depend on the instance or the seed.
    context = SystemContext(
        InstanceSpec(
            name="kiengiang", kind="province", title="LGSP Kiên Giang", province_code="91"
        ),
        Settings(_env_file=None, seed=0, mocks_sign=False),  # no CA files for a document
    )
    document: dict[str, Any] = MOCK_SYSTEMS[system].factory(context).openapi()
    document["info"]["title"] = f"Mock system {system} (its own format)"
    return document


def documents() -> dict[str, dict[str, Any]]:
    """File name → document, for every published contract.

    Service contracts carry the examples built from the seed now, with the stored answers: a
    test compares them with the checked-in files, and another the stored requests with these.
    """
    examples = published_examples()
    published = {"gateway.json": gateway_document()}
    for service in load_catalog(CATALOG_DIR, known_adapters=set(ADAPTERS)):
        published[f"services/{service.id}.{service.version}.json"] = service_document(
            service, examples
        )
    for system in sorted(MOCK_SYSTEMS):
        published[f"systems/{system}.json"] = system_document(system)
    return published


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_documents(directory: Path = OPENAPI_DIR) -> list[Path]:
    """Write every contract; for the checked-in ones, capture the example answers first."""
    if directory.resolve() == OPENAPI_DIR:
        refresh_examples()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
