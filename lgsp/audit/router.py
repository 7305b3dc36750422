"""`{base}/admin/…`: an instance's audit records and sample identifiers, for admin clients."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel

from lgsp.audit.repository import AuditRepository
from lgsp.audit.schemas import AuditRecordOut, AuditTrail
from lgsp.deps import AdminDep, BusDep, InstanceDep, SessionDep
from lgsp.errors import AccessDenied, InvalidRequest, InvalidToken, problem_responses
from lgsp.routing.systems import samples

router = APIRouter(prefix="/admin", tags=["admin"])

SAMPLE_COUNT = 5


class Samples(BaseModel):
    instance: str
    samples: dict[str, list[str]]


@router.get(
    "/samples", response_model=Samples, responses=problem_responses(InvalidToken, AccessDenied)
)
async def sample_identifiers(_admin: AdminDep, instance: InstanceDep, bus: BusDep) -> Samples:
    """Valid identifiers from this instance's seeded data, to try the services with."""
    found = samples(
        instance.spec, bus.settings, count=SAMPLE_COUNT, provinces=bus.topology.provinces
    )
    return Samples(instance=instance.spec.name, samples=found)


@router.get(
    "/audit",
    response_model=AuditTrail,
    responses=problem_responses(InvalidToken, AccessDenied, InvalidRequest),
)
async def audit_trail(
    _admin: AdminDep,
    instance: InstanceDep,
    session: SessionDep,
    request_id: str = Query(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$"),
) -> AuditTrail:
    """Every hop this instance recorded for one request id, in order."""
    records = await AuditRepository(session).by_request_id(request_id, instance=instance.spec.name)
    return AuditTrail(
        request_id=request_id,
        records=[AuditRecordOut.model_validate(record) for record in records],
    )
