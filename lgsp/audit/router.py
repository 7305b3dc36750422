"""`GET {base}/admin/audit`: an instance's audit records, for admin clients only."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from lgsp.audit.repository import AuditRepository
from lgsp.deps import AdminDep, InstanceDep, SessionDep
from lgsp.errors import AccessDenied, InvalidRequest, InvalidToken, problem_responses

router = APIRouter(prefix="/admin", tags=["admin"])


class AuditRecordOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    request_id: str
    instance: str
    hop: str
    caller: str | None
    target: str
    service: str | None
    method: str
    path: str
    status: int
    latency_us: int
    request_sha256: str
    response_sha256: str
    occurred_at: datetime
    prev_hash: str
    hash: str


class AuditTrail(BaseModel):
    request_id: str
    records: list[AuditRecordOut]


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
