"""What a call's handlers tell the audit recorder about it, kept apart from the recorder.

A value type in the request's scope: the recorder (`lgsp.audit.recorder`) puts a fresh one
there, the dependencies (`lgsp.deps`) and the handlers fill it in. Neither side needs the
other's module for it, so neither imports the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lgsp.audit.chain import AuditEntry

AUDIT_SCOPE_KEY = "lgsp.audit"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""RFC 9110 §9.2.1: calls that change nothing, so need no record before they are made."""
PENDING_HOP = "pending"


@dataclass
class AuditContext:
    """What handlers learn about a call while serving it."""

    caller: str | None = None
    service: str | None = None
    upstream: list[AuditEntry] = field(default_factory=list)
    answer: tuple[Any, bytes] | None = None
    """The JSON value a handler answered and the body it rendered it to: the journal masks
    the value instead of parsing the body again, if that body is what was sent."""
    notes: dict[str, object] = field(default_factory=dict)
    """What the call's message was found to be (edXML `warnings`: rule codes), for the record."""


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
"""The hash of no body (a GET's request): a constant, where hashing nothing still costs some 7k
instructions (a padding block compressed, an object made and freed). Not the digest's look-up:
Python 3.11 caches OpenSSL's fetched SHA-256, and a copy of a prototype object counts the same
as `hashlib.sha256()` (issue 21: a hash's cost is its bytes, ~28 instructions each counted)."""


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256


def pending_entry(
    *,
    request_id: str,
    instance: str,
    caller: str,
    service: str | None,
    method: str,
    path: str,
    body: bytes,
) -> AuditEntry:
    """The caller's record of a call about to change state, committed before the change.

    The call's `inbound` record is written only after the change has committed (in another
    process, or in the bus's own database): a process that dies in between would leave a
    change no record names the caller of (security probe F16). Status 0: no answer yet.
    """
    return AuditEntry(
        request_id=request_id,
        instance=instance,
        hop=PENDING_HOP,
        caller=caller,
        target=instance,
        service=service,
        method=method,
        path=path,
        status=0,
        latency_us=0,
        request_sha256=body_hash(body),
        response_sha256=body_hash(b""),
        occurred_at=datetime.now(UTC),
    )
