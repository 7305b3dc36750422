"""The published contracts under `openapi/`, generated from the code.

`gateway.json` is the contract every instance serves; `systems/<name>.json` are the mock
systems' own contracts, in their native formats, which the adapters translate from.
`lgsp openapi` writes them; a test regenerates them and fails when the checked-in files drift
from the code, so integrators can rely on `openapi/` (issue: published contracts).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from adapters import ADAPTERS, CONTRACTS
from lgsp.catalog.loader import load_catalog
from lgsp.catalog.schemas import ServiceSpec
from lgsp.errors import (
    PROBLEM_MEDIA_TYPE,
    AccessDenied,
    AuditUnavailable,
    InjectedFault,
    InvalidPath,
    InvalidRequest,
    InvalidToken,
    LgspError,
    MethodNotAllowed,
    OperationNotFound,
    ProblemDetails,
    RateLimited,
    RequestHeadersTooLarge,
    RequestTooLarge,
    ServiceNotFound,
    TargetNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from lgsp.openapi_examples import (
    ExampleAnswer,
    ExampleRequest,
    example_requests,
    load_answers,
    refresh_answers,
)
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec

OPENAPI_DIR = Path(__file__).resolve().parent.parent / "openapi"
CATALOG_DIR = Settings.model_fields["catalog_dir"].default

# What the request guard (lgsp/middleware.py) answers before any route sees the request.
_GUARD_ERRORS: tuple[type[LgspError], ...] = (InvalidPath, RequestTooLarge, RequestHeadersTooLarge)

# What the gateway itself may answer on any operation, before or after the owner's answer.
_GATEWAY_ERRORS: tuple[type[LgspError], ...] = (
    *_GUARD_ERRORS,
    InvalidToken,
    AccessDenied,
    ServiceNotFound,
    TargetNotFound,
    OperationNotFound,
    MethodNotAllowed,
    InvalidRequest,
    RateLimited,
    InjectedFault,
    UpstreamUnavailable,
    UpstreamTimeout,
    AuditUnavailable,
)


def gateway_document() -> dict[str, Any]:
    """The contract every instance serves at `{base}` (an LGSP and the NDXP alike)."""
    from lgsp.app import create_gateway_app

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
    document["servers"] = [
        {"url": "http://127.0.0.1:8000/lgsp/kiengiang", "description": "LGSP Kiên Giang"},
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
    problem = {PROBLEM_MEDIA_TYPE: {"schema": _ref(ProblemDetails)}}
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
                        "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(ProblemDetails)}},
                    },
                )


def _guard_errors_as_problems(document: dict[str, Any]) -> None:
    """The request guard answers before routing, so on every operation: 413 and 431 always,
    400 INVALID_PATH where a path parameter can carry what it refuses."""
    for path, operations in document["paths"].items():
        for operation in operations.values():
            responses = operation["responses"]
            for error in _GUARD_ERRORS:
                if error is InvalidPath and "{" not in path:
                    continue
                response = responses.setdefault(
                    str(error.status),
                    {
                        "description": error.code,
                        "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(ProblemDetails)}},
                    },
                )
                if error.code not in response["description"]:
                    response["description"] = f"{error.code} or {response['description']}"


_PATH_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def service_document(service: ServiceSpec) -> dict[str, Any]:
    """A catalog service's canonical contract, as clients call it through any instance.

    Paths come from the catalog file, shapes from the adapter's `CONTRACTS`; every operation
    also documents the gateway's own answers (token, rights, owner, transport, audit).
    """
    contracts = CONTRACTS.get(service.adapter, {})
    models: list[type[BaseModel]] = [ProblemDetails]
    paths: dict[str, dict[str, Any]] = {}
    requests = {r.key: r for r in example_requests() if r.service == service.id}
    answers = load_answers()
    for operation in service.operations:
        contract = contracts.get(operation.id)
        path = f"/{service.id}/{service.version}{operation.path}"
        entry: dict[str, Any] = {
            "operationId": operation.id,
            "summary": operation.summary,
            "security": [{"oauth2": [service.id]}],
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in _PATH_PARAM.findall(operation.path)
            ],
            "responses": {},
        }
        errors: list[tuple[int, str]] = [(error.status, error.code) for error in _GATEWAY_ERRORS]
        if contract is not None:
            models.append(contract.response)
            entry["responses"][str(contract.status)] = {
                "description": "Success",
                "content": {"application/json": {"schema": _ref(contract.response)}},
            }
            if contract.request is not None:
                models.append(contract.request)
                entry["requestBody"] = {
                    "required": True,
                    "content": {
                        media_type: {"schema": _ref(contract.request)}
                        for media_type in contract.request_media_types
                    },
                }
            if contract.query is not None:
                query_schema = contract.query.model_json_schema()
                entry["parameters"] += [
                    {"name": name, "in": "query", "required": False, "schema": schema}
                    for name, schema in query_schema.get("properties", {}).items()
                ]
            errors += [(error.status, error.code) for error in contract.errors]
        for status in sorted({status for status, _ in errors}):
            codes = sorted({code for s, code in errors if s == status})
            entry["responses"][str(status)] = {
                "description": " or ".join(codes),
                "content": {PROBLEM_MEDIA_TYPE: {"schema": _ref(ProblemDetails)}},
            }
        key = f"{service.id}.{service.version}:{operation.id}"
        if key in requests:
            _add_examples(entry, requests[key], answers.get(key))
        paths.setdefault(path, {})[operation.method.lower()] = entry
    _, definitions = models_json_schema(
        [(model, "validation") for model in dict.fromkeys(models)],
        ref_template="#/components/schemas/{model}",
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{service.title} ({service.id} {service.version})",
            "version": service.version,
            "description": service.description,
        },
        "servers": [{"url": "http://127.0.0.1:8000/lgsp/kiengiang", "description": "LGSP"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": "token",
                            "scopes": {service.id: service.title},
                        }
                    },
                }
            },
        },
    }


def _add_examples(
    entry: dict[str, Any], request: ExampleRequest, answer: ExampleAnswer | None
) -> None:
    """The seeded example (lgsp/openapi_examples.py) on the operation's parameters, body and
    success answer."""
    values = {**request.path_params, **request.query}
    for parameter in entry["parameters"]:
        if parameter["name"] in values:
            parameter["example"] = values[parameter["name"]]
    body = entry.get("requestBody", {}).get("content", {})
    if request.media_type in body:
        body[request.media_type]["example"] = request.body
    success = entry["responses"].get(str(answer.status) if answer else "")
    if answer is not None and success is not None:
        success["content"]["application/json"]["example"] = answer.body


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def system_document(system: str) -> dict[str, Any]:
    """A mock system's own contract: its native format, as the gateway's adapter meets it."""
    from lgsp.composition import MOCK_SYSTEMS
    from lgsp.routing.systems import SystemContext

    instance = InstanceSpec(
        name="kiengiang", kind="province", title="LGSP Kiên Giang", province_code="91"
    )
    context = SystemContext(instance, Settings(_env_file=None, seed=0))
    document: dict[str, Any] = MOCK_SYSTEMS[system].factory(context).openapi()
    document["info"]["title"] = f"Mock system {system} (its own format)"
    return document


def documents() -> dict[str, dict[str, Any]]:
    """File name → document, for every published contract."""
    from lgsp.composition import MOCK_SYSTEMS

    published = {"gateway.json": gateway_document()}
    for service in load_catalog(CATALOG_DIR, known_adapters=set(ADAPTERS)):
        published[f"services/{service.id}.{service.version}.json"] = service_document(service)
    for system in sorted(MOCK_SYSTEMS):
        published[f"systems/{system}.json"] = system_document(system)
    return published


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_documents(directory: Path = OPENAPI_DIR) -> list[Path]:
    """Write every contract; for the checked-in ones, capture the example answers first."""
    if directory.resolve() == OPENAPI_DIR:
        refresh_answers()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, document in documents().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(document), encoding="utf-8")
        written.append(path)
    return written
