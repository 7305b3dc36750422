"""What a call's handlers tell the audit recorder about it, kept apart from the recorder.

A value type in the request's scope: the recorder (`lgsp.audit.recorder`) puts a fresh one
there, the dependencies (`lgsp.deps`) and the handlers fill it in. Neither side needs the
other's module for it, so neither imports the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from lgsp.audit.chain import AuditEntry

AUDIT_SCOPE_KEY = "lgsp.audit"


@dataclass
class AuditContext:
    """What handlers learn about a call while serving it."""

    caller: str | None = None
    service: str | None = None
    upstream: list[AuditEntry] = field(default_factory=list)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
