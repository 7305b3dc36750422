"""`{base}/admin/audit`: an instance's audit records for one request id, for admin clients."""

from __future__ import annotations

from fastapi import Query

from lgsp.audit.repository import AuditRepository
from lgsp.audit.schemas import AuditRecordOut, AuditTrail
from lgsp.deps import InstanceDep, SessionDep, admin_router
from lgsp.errors import InvalidRequest, problem_responses

router = admin_router("/admin")


@router.get("/audit", response_model=AuditTrail, responses=problem_responses(InvalidRequest))
async def audit_trail(
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
