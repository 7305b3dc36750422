"""The contract between the gateway and an adapter: pure translation, no I/O.

The gateway resolves a catalog operation, asks the adapter for the system's own request,
performs the call itself, and hands the system's raw answer back to the adapter. Keeping the
call outside the adapter is what lets adapters be tested with plain values (and hypothesis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

# Re-exported: an adapter's errors and the codecs' share one base, rendered alike by the gateway.
from formats.errors import TranslationError as TranslationError
from kit.values import value_object


@value_object
class CanonicalRequest:
    """A call as the bus's clients make it, after the catalog matched an operation."""

    operation: str
    path_params: Mapping[str, str]
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    content_type: str | None = None
    accept: str | None = None
    """The client's `Accept` header: an operation may answer in the system's own format."""
    prefer: str | None = None
    """The client's `Prefer` header (RFC 7240), such as `handling=strict`."""


@value_object
class SystemRequest:
    """The same call in the owning system's own terms; `path` is relative to the system root."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    """How long the caller waits for the answer, in seconds; None: the transport's own (the
    instance's upstream timeout). The bus's own calls set it, never an adapter's."""


@value_object
class SystemResponse:
    status: int
    body: bytes
    content_type: str | None = None
    document: Any = None
    """The JSON value `body` renders, when the system handed it over already built (an
    embedded system in the gateway's process): an adapter reads it rather than parsing `body`
    again, a third of the in-process hop's translation (issue 21). None: parse `body`."""


@value_object
class CanonicalResponse:
    """What the gateway returns to its client: a status and a JSON-serialisable value, or
    (`media_type` other than JSON) the system's own bytes, passed on untouched."""

    status: int
    content: Any
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class AnswerInvalid(TranslationError):
    """The owning system answered what its adapter cannot read: the system's fault, never the
    caller's, so the bus answers 502. Each adapter's subclass names the system in its code and
    title; this one's are only the family's."""

    code = "SYSTEM_ANSWER_INVALID"
    status = 502
    title = "The owning system gave an answer that could not be read"


class IdempotencyKeyReused(TranslationError):
    """The key came before with another request (draft-ietf-httpapi-idempotency-key §2.7)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    title = "The Idempotency-Key was already used for another request"


class InvalidIdempotencyKey(TranslationError):
    code = "INVALID_IDEMPOTENCY_KEY"
    status = 400
    title = "The Idempotency-Key header is not valid"


@dataclass(frozen=True)
class OperationContract:
    """What one operation takes and answers, for its published OpenAPI document.

    Adapters build plain JSON values; these models describe them, and tests validate real
    answers against them so that the document cannot drift from the behaviour.
    """

    response: type[BaseModel]
    status: int = 200
    request: type[BaseModel] | None = None
    request_media_types: tuple[str, ...] = ("application/json",)
    query: type[BaseModel] | None = None
    response_media_types: tuple[str, ...] = ("application/json",)
    """Beside JSON, a system's own format the client may ask for with `Accept` (edXML)."""
    errors: tuple[type[TranslationError], ...] = ()


class Adapter(Protocol):
    """Translates one service's operations between canonical JSON and a system's own format."""

    def to_system(self, request: CanonicalRequest) -> SystemRequest: ...

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse: ...
