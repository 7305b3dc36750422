"""`GET /services`: the catalog as the calling client sees it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from lgsp.catalog.contract import service_document
from lgsp.catalog.examples import examples_for
from lgsp.catalog.schemas import OperationOut, ServiceList, ServiceOut
from lgsp.deps import BusDep, CallerDep, InstanceDep
from lgsp.errors import AuditUnavailable, InvalidToken, ServiceNotFound, problem_responses
from lgsp.routing.resolver import is_served

router = APIRouter(tags=["catalog"])


@router.get(
    "/services/{service_id}/{version}/openapi.json",
    responses=problem_responses(ServiceNotFound),
)
async def service_contract(
    service_id: str, version: str, request: Request, bus: BusDep, instance: InstanceDep
) -> JSONResponse:
    """A service's canonical OpenAPI document (public, like the catalog's published contracts),
    its server this instance as the request reached it, its examples this instance's."""
    service = bus.catalog.get(service_id, version)
    if service is None:
        raise ServiceNotFound(f"There is no service {service_id} {version}.")
    spec = instance.spec
    examples = examples_for(bus.settings.era, spec.name, spec.seed_code)
    server = instance_url(request)
    return JSONResponse(service_document(service, examples, server=server))


def instance_url(request: Request) -> str:
    """The instance's base URL as the client reached it: scheme and host of the request (what
    the proxy headers say, when uvicorn trusts them), then the mount path (`root_path`)."""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return origin + str(request.scope.get("root_path", ""))


@router.get(
    "/services",
    responses=problem_responses(InvalidToken, AuditUnavailable),
)
async def list_services(caller: CallerDep, bus: BusDep, instance: InstanceDep) -> ServiceList:
    """The services this client may call on this instance, with their operations."""
    services = [
        ServiceOut(
            id=service.id,
            version=service.version,
            title=service.title,
            description=service.description,
            owner=service.owner,
            methods=caller.grant.rights[service.id],
            base_path=f"{instance.spec.mount_path}/{service.id}/{service.version}",
            operations=[
                OperationOut(id=o.id, method=o.method, path=o.path, summary=o.summary)
                for o in service.operations
            ],
        )
        for service in bus.catalog
        if service.id in caller.grant.rights
        and service.id in caller.scopes
        and is_served(service, instance)
    ]
    return ServiceList(services=services)
