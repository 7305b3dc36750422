"""What a fault rule is, as the admin API, the CLI and the `X-LGSP-Fault` header give it.

A rule matches calls (every matcher left out matches anything) and does exactly one thing to
them, with a probability, a count limit and an expiry.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from lgsp.path_patterns import PathPattern, UpperCase

MAX_DELAY_MS = 300_000
"""Five minutes: longer than any client timeout worth testing, short enough to be a mistake."""
MAX_EXPIRES_IN = 30 * 86_400

When = Literal["before", "after"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


class FaultKind(StrEnum):
    LATENCY = "latency"
    STATUS = "status"
    TIMEOUT = "timeout"
    DROP = "drop"
    CUT = "cut"
    MALFORMED = "malformed"
    DUPLICATE = "duplicate"
    RATE_LIMIT = "rate_limit"
    CORRUPT_SIGNATURE = "corrupt_signature"
    EXPIRED_CERTIFICATE = "expired_certificate"


DOCUMENT_FAULTS = frozenset({FaultKind.CORRUPT_SIGNATURE, FaultKind.EXPIRED_CERTIFICATE})
"""Faults on the edXML document a call carries, made before the call (`lgsp.faults.documents`)."""


class LatencyRange(BaseModel):
    """A delay drawn uniformly from [min_ms, max_ms] for each call, from the seeded generator."""

    model_config = ConfigDict(extra="forbid")

    min_ms: int = Field(ge=0, le=MAX_DELAY_MS)
    max_ms: int = Field(ge=0, le=MAX_DELAY_MS)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_ms > self.max_ms:
            raise ValueError("min_ms must not be greater than max_ms")
        return self


class TimeoutAfter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after_ms: int = Field(ge=0, le=MAX_DELAY_MS)


class RetryAfter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    retry_after: int = Field(default=1, ge=1, le=86_400)
    """Seconds, as the `Retry-After` header says them (RFC 9110 §10.2.3)."""


class FaultRuleIn(BaseModel):
    """A rule: which calls (service, version, method, path, client) and what happens to them."""

    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    version: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,16}$")
    method: Annotated[Method | None, UpperCase] = None
    path: PathPattern | None = None
    """The path after `{service}/{version}`, with its leading slash (`/documents/inbox`): a glob
    (`/documents/*`; a missing leading slash is added), or a regular expression when it starts
    with `^` (`^/citizens/\\d{12}$`, searched with `re.search`)."""
    client_id: str | None = Field(default=None, min_length=1, max_length=64)
    when: When = "before"
    """Before the upstream call (it is not made), or after it (its effect has happened)."""

    latency_ms: int | None = Field(default=None, ge=0, le=MAX_DELAY_MS)
    latency: LatencyRange | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    """An error status, answered as problem+json with the code `INJECTED_FAULT`."""
    timeout: Literal[True] | TimeoutAfter | None = None
    """504 `UPSTREAM_TIMEOUT` after the instance's upstream timeout, or after `after_ms`."""
    drop: Literal[True] | None = None
    """The connection closes before any byte of the answer (after the call too: its answer is
    lost), as a network failure does; the client sees no status at all."""
    cut: Literal[True] | None = None
    """The answer's status line and headers (with the whole body's length), half its body, then
    the connection closes: a client that trusts the status takes a broken answer."""
    malformed: Literal[True] | None = None
    """The answer's status with a body that is not JSON (the real one cut in half after the
    call)."""
    duplicate: Literal[True] | None = None
    """The upstream call is made twice; the client gets the second answer (`when` is moot)."""
    rate_limit: Literal[True] | RetryAfter | None = None
    corrupt_signature: Literal[True] | None = None
    """An edXML document the call carries has its XML-DSig SignatureValue altered on its way:
    the receiving system finds the signature `tampered` (issue 17)."""
    expired_certificate: Literal[True] | None = None
    """An edXML document the call carries is signed again on its way, for the same signer,
    with a certificate of the bus's test CA that expired a year ago: the receiving system
    finds it `expired` (issue 17)."""

    probability: float = Field(default=1.0, ge=0, le=1)
    times: int | None = Field(default=None, ge=1, le=1_000_000)
    """Apply at most this many times, then never again; unset: no limit."""
    expires_in: float | None = Field(default=None, gt=0, le=MAX_EXPIRES_IN)
    """Seconds from creation after which the rule no longer applies (and is no longer listed)."""

    @model_validator(mode="after")
    def _exactly_one_action(self) -> Self:
        given = [name for name in _ACTION_FIELDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one action of {', '.join(_ACTION_FIELDS)}; got "
                f"{', '.join(given) or 'none'}"
            )
        return self

    @model_validator(mode="after")
    def _documents_before(self) -> Self:
        if self.kind in DOCUMENT_FAULTS and self.when == "after":
            raise ValueError(f"{self.kind} changes the document on its way: when must be before")
        return self

    @property
    def kind(self) -> FaultKind:
        if self.latency_ms is not None or self.latency is not None:
            return FaultKind.LATENCY
        return next(FaultKind(name) for name in _ACTION_FIELDS[2:] if getattr(self, name))


_ACTION_FIELDS = (
    "latency_ms",
    "latency",
    "status",
    "timeout",
    "drop",
    "cut",
    "malformed",
    "duplicate",
    "rate_limit",
    "corrupt_signature",
    "expired_certificate",
)
"""Every action a rule can take: the one list (the header's grammar and the CLI derive theirs)."""
FLAG_ACTIONS = tuple(
    name for name in _ACTION_FIELDS if name not in {"latency_ms", "latency", "status"}
)
"""Actions written as a bare name in `X-LGSP-Fault` (`drop`, `corrupt_signature`, …)."""


class FaultRuleOut(FaultRuleIn):
    id: int
    instance: str
    remaining: int | None = None
    """Applications left of `times`; absent when the rule has no count limit."""
    expires_at: datetime | None = None
    """Absent when the rule does not expire (answers leave out null fields)."""
    created_at: datetime


class FaultRuleList(BaseModel):
    rules: list[FaultRuleOut]
    """This instance's rules that have not expired, oldest first (the order they are tried)."""


class FaultsRemoved(BaseModel):
    removed: int
