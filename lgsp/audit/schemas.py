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
    request_id: str | None
    """The request id asked for; null for a page of the log."""
    records: list[AuditRecordOut]
    """With `request_id`: every hop of that request in the order they happened. Without: one
    page of the instance's log in chain order."""
    next: str | None = None
    """The next page's path and query (the same filters, `after` this page's last `seq`), or
    null at the end."""
