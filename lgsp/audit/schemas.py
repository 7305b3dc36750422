"""What the audit endpoints and `lgsp audit export` give: records as stored, with their hashes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


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
    notes: dict[str, Any] | None = None
    """What the call's message was found to be: `warnings`, the rule codes of an edXML
    message's departures from QCVN 102 (`Prefer: handling=strict` refuses them)."""
    prev_hash: str
    hash: str

    @field_validator("notes", mode="before")
    @classmethod
    def _parsed(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class AuditTrail(BaseModel):
    request_id: str | None
    """The request id asked for; null for a page of the log."""
    records: list[AuditRecordOut]
    """With `request_id`: every hop of that request in the order they happened. Without: one
    page of the instance's log in chain order."""
    next: str | None = None
    """The next page's path and query (the same filters, `after` this page's last `seq`), or
    null at the end."""
