"""What `POST {base}/admin/reset` answers: what it restored, what it kept, how long it took."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

KEPT = ("audit log", "clients", "signing keys", "token revocations")


class SystemReset(BaseModel):
    instance: str
    system: str
    outcome: Literal["reseeded", "unchanged", "stateless", "not ours"]
    """`unchanged`: a mock nothing has written to since the last reset, its rows left as
    seeded; `stateless`: a mock with nothing to reset; `not ours`: a system reached at a URL."""
    deleted: int = 0
    seeded: int = 0


class ResetReport(BaseModel):
    instances: list[str] = Field(
        description="The instances reset: every one this process serves, or the caller's own."
    )
    systems: list[SystemReset]
    outbox_deleted: int = Field(description="Outbox messages deleted, whatever their state.")
    kept: list[str] = Field(default=list(KEPT), description="What a reset never touches.")
    took_ms: float
