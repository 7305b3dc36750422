"""`{METHOD} {base}/{service}/{version}/{path}`: the gateway hop itself.

Order of checks: token (401), service in the catalog (404), operation (404/405), the client's
access right (403), the owner (404); then translate, call, translate back. An unknown service is
reported as such to any authenticated client, as API managers do, so that a typo is not mistaken
for a missing right.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from adapters.base import CanonicalRequest
from lgsp.audit.chain import AuditEntry
from lgsp.audit.recorder import body_hash
from lgsp.catalog.loader import match_operation
from lgsp.deps import AuditContextDep, BusDep, CallerDep, InstanceDep
from lgsp.errors import (
    AccessDenied,
    AuditUnavailable,
    InvalidRequest,
    InvalidToken,
    LgspError,
    MethodNotAllowed,
    OperationNotFound,
    ServiceNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
    problem_responses,
)
from lgsp.logging import request_id_var
from lgsp.masking import audit_text
from lgsp.routing.resolver import resolve_owner

router = APIRouter(tags=["invocation"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_QUERY_PARAMS = 50


async def invoke_service(
    service_id: str,
    version: str,
    path: str,
    request: Request,
    caller: CallerDep,
    bus: BusDep,
    instance: InstanceDep,
    audit: AuditContextDep,
) -> JSONResponse:
    """Call an operation of a service in the catalog, through the adapter of its owner."""
    service = bus.catalog.get(service_id, version)
    if service is None:
        known = bus.catalog.versions(service_id)
        hint = f" Known versions: {', '.join(known)}." if known else ""
        raise ServiceNotFound(f"There is no service {service_id} {version}.{hint}")
    audit.service = service.id

    matched, allowed = match_operation(service, request.method, "/" + path)
    if matched is None and allowed:
        error = MethodNotAllowed(f"{request.method} is not an operation of this path.")
        error.extensions["allowed"] = allowed
        raise error
    if matched is None:
        raise OperationNotFound(f"Service {service.id} {service.version} has no operation here.")
    if not caller.may_call(service.id, request.method):
        raise AccessDenied(
            f"Client {caller.client_id} may not call {request.method} on {service.id}."
        )
    system = resolve_owner(service, instance)

    if len(request.query_params) > MAX_QUERY_PARAMS:
        raise InvalidRequest(f"At most {MAX_QUERY_PARAMS} query parameters are accepted.")
    adapter = bus.adapters[service.adapter]
    canonical = CanonicalRequest(
        operation=matched.operation.id,
        path_params=matched.path_params,
        query=tuple(request.query_params.multi_items()),
        body=await request.body(),
        content_type=request.headers.get("content-type"),
    )
    # The owning system sees the caller's request id, so that calls it makes in turn (a portal
    # checking a citizen) join the same trail in the audit log.
    translated = adapter.to_system(canonical)
    system_request = replace(
        translated, headers={**translated.headers, "X-Request-ID": request_id_var.get() or ""}
    )
    occurred_at = datetime.now(UTC)
    started = time.perf_counter_ns()
    status, response_body = 0, b""
    try:
        response = await system.send(system_request)
        status, response_body = response.status, response.body
    except LgspError as error:  # a failed hop is audited too, with the status we answer
        status = error.status
        raise
    finally:
        audit.upstream.append(
            AuditEntry(
                request_id=request_id_var.get() or "",
                instance=instance.spec.name,
                hop="upstream",
                caller=instance.spec.name,
                target=service.system,
                service=service.id,
                method=system_request.method,
                path=audit_text(system_request.path),
                status=status,
                latency_us=(time.perf_counter_ns() - started) // 1000,
                request_sha256=body_hash(system_request.body),
                response_sha256=body_hash(response_body),
                occurred_at=occurred_at,
            )
        )
    answer = adapter.to_canonical(canonical, response)
    return JSONResponse(answer.content, status_code=answer.status)


for _method in METHODS:  # one route per method, so each has its own operation id
    router.add_api_route(
        "/{service_id}/{version}/{path:path}",
        invoke_service,
        methods=[_method],
        operation_id=f"invoke_service_{_method.lower()}",
        summary=f"{_method} an operation of a service",
        responses=problem_responses(
            InvalidToken,
            AccessDenied,
            ServiceNotFound,
            MethodNotAllowed,
            InvalidRequest,
            UpstreamUnavailable,
            UpstreamTimeout,
            AuditUnavailable,
        ),
    )
