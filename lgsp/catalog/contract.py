"""A service's canonical contract, as `GET {base}/services/{id}/{version}/openapi.json` serves it.

Built from the catalog file, the adapter's `CONTRACTS` and the checked-in examples
(`lgsp.catalog.examples`), so that the runtime endpoint needs nothing that generating the
published files needs (a running bus, the mocks' seeds): `lgsp openapi`
(`lgsp.cli._openapi`) writes the same documents under `openapi/services/`, as the default bus's
An Giang serves them. Each instance serves them with its own server and its own examples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from adapters import CONTRACTS
from lgsp.catalog.examples import (
    PUBLISHED,
    Example,
    ExampleAnswer,
    ExampleRequest,
    checked_in_examples,
)
from lgsp.catalog.schemas import ServiceSpec
from lgsp.errors import (
    PROBLEM_MEDIA_TYPE,
    AccessDenied,
    AuditUnavailable,
    DatabaseUnavailable,
    InjectedFault,
    InvalidPath,
    InvalidRequest,
    InvalidToken,
    LgspError,
    MethodNotAllowed,
    OperationNotFound,
    OrganisationMismatch,
    OrganisationRequired,
    ProblemDetails,
    RateLimited,
    RequestHeadersTooLarge,
    RequestTooLarge,
    ServiceNotFound,
    SystemCallersOnly,
    TargetNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
)

# What the request guard (lgsp/middleware.py) answers before any route sees the request.
GUARD_ERRORS: tuple[type[LgspError], ...] = (InvalidPath, RequestTooLarge, RequestHeadersTooLarge)

# What a call answers while the bus's database is away (down, locked, out of connections) when
# its handling reads it: credentials, rights, revocations, outbox, audit (lgsp.errors).
DATABASE_ERRORS: tuple[type[LgspError], ...] = (DatabaseUnavailable,)

# What the gateway itself may answer on any operation, before or after the owner's answer.
GATEWAY_ERRORS: tuple[type[LgspError], ...] = (
    *GUARD_ERRORS,
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
    *DATABASE_ERRORS,
)

# What the operation's caller rule (`callers` in the catalog, lgsp/routing/callers.py) refuses.
CALLER_ERRORS: dict[str, tuple[type[LgspError], ...]] = {
    "any": (),
    "system": (SystemCallersOnly,),
    "organisation": (OrganisationRequired, OrganisationMismatch),
}


_PATH_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

PUBLISHED_SERVER = f"http://127.0.0.1:8000/lgsp/{PUBLISHED[1]}"
"""The published files' server: the instance whose examples they carry, on `lgsp serve`'s
default address."""


def service_document(
    service: ServiceSpec,
    examples: Mapping[str, Example] | None = None,
    *,
    server: str = PUBLISHED_SERVER,
) -> dict[str, Any]:
    """A catalog service's canonical contract, as clients call it through the instance at
    `server` (its base URL).

    Paths come from the catalog file, shapes from the adapter's `CONTRACTS`; every operation
    also documents the gateway's own answers (token, rights, owner, transport, audit), and its
    example where `examples` (by default the published ones) has one: those of the instance
    at `server`, so that each names the instance's own citizens, agencies and communes.
    """
    if examples is None:
        examples = checked_in_examples()
    contracts = CONTRACTS.get(service.adapter, {})
    models: list[type[BaseModel]] = [ProblemDetails]
    paths: dict[str, dict[str, Any]] = {}
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
        errors: list[tuple[int, str]] = [
            (error.status, error.code)
            for error in (*GATEWAY_ERRORS, *CALLER_ERRORS[operation.callers])
        ]
        if contract is not None:
            models.append(contract.response)
            entry["responses"][str(contract.status)] = {
                "description": "Success",
                "content": {
                    media_type: {"schema": _body_schema(media_type, contract.response)}
                    for media_type in contract.response_media_types
                },
            }
            if contract.request is not None:
                models.append(contract.request)
                entry["requestBody"] = {
                    "required": True,
                    "content": {
                        media_type: {"schema": _body_schema(media_type, contract.request)}
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
                "content": {PROBLEM_MEDIA_TYPE: {"schema": schema_ref(ProblemDetails)}},
            }
        example = examples.get(f"{service.id}.{service.version}:{operation.id}")
        if example is not None:
            _add_examples(entry, example.request, example.answer)
            national = national_server(server)
            if example.request.national and national != server:
                entry["servers"] = [{"url": national, "description": NATIONAL_SERVER}]
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
        "servers": [{"url": server, "description": "LGSP"}],
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": token_url(server),
                            "scopes": {service.id: service.title},
                        }
                    },
                }
            },
        },
    }


NATIONAL_SERVER = (
    "NDXP, the national instance: a central body's clients are its own (their token from its "
    "/token)"
)


def national_server(server: str) -> str:
    """The national instance's base beside the province instance at `server` (`…/lgsp/{name}`
    → `…/ndxp`, `lgsp.topology`'s mount paths): where a central body's operations are called."""
    root, found, _ = server.rpartition("/lgsp/")
    return f"{root}/ndxp" if found else server


def token_url(server: str) -> str:
    """The instance's token endpoint, written out in full: a relative `token` resolves against
    the server URL (OAS 3.1, RFC 3986 §5.2) to its parent's `…/lgsp/token`, which does not exist."""
    return f"{server}/token"


def _add_examples(
    entry: dict[str, Any], request: ExampleRequest, answer: ExampleAnswer | None
) -> None:
    """The seeded example (`lgsp.catalog.examples`) on the operation's parameters, body and
    success answer."""
    # By place: get_status has a path `organ_id` (the recipient) and a query one (the reader).
    values = {"path": request.path_params, "query": request.query}
    for parameter in entry["parameters"]:
        given = values.get(parameter["in"], {})
        if parameter["name"] in given:
            value: Any = given[parameter["name"]]  # text, as on the wire
            if parameter.get("schema", {}).get("type") == "integer" and value.isdigit():
                value = int(value)  # as its schema types it
            parameter["example"] = value
    body = entry.get("requestBody", {}).get("content", {})
    if request.media_type in body:
        body[request.media_type]["example"] = request.body
    success = entry["responses"].get(str(answer.status) if answer else "")
    if answer is not None and success is not None:
        success["content"]["application/json"]["example"] = answer.body


_XML_BODY = {
    "type": "string",
    "contentMediaType": "application/xml",
    "description": "An edXML message (QCVN 102:2016), UTF-8, as the sender wrote it: the "
    "XML-DSig Signature covers these bytes. Examples: examples/edxml/ in the repository.",
}


def _body_schema(media_type: str, model: type[BaseModel]) -> dict[str, str]:
    """An XML body is described as XML (the edXML itself), not as the JSON model beside it."""
    return dict(_XML_BODY) if media_type.endswith("xml") else schema_ref(model)


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """Where `model`'s schema is in a document's components."""
    return {"$ref": f"#/components/schemas/{model.__name__}"}
