"""What the audit endpoints and `lgsp audit export` give: records as stored, with their hashes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


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
