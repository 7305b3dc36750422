"""The VDXP SDK's answer conventions, shared by every mock that speaks them.

Both the national axis (`mocks/vdxp`) and each province's document endpoint (`mocks/qlvb`)
answer `{status: OK|FAIL, ErrorCode, ErrorDesc, …}` (VPCP's `SDKVXP` response fields, DOMAIN.md
§2.4), read bodies bounded, and, when they take a message another system stored and forwards,
read its `Idempotency-Key` and `X-Request-ID`. Error codes are the mocks' own mnemonics (VPCP's
numeric codes are not public).
"""

from __future__ import annotations

import copy
import hashlib
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache, partial
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Request
from pydantic import BaseModel, StringConstraints, ValidationError

from formats.dates import VIETNAM_TIME, latest_allowed
from formats.edxml import DEFAULT_LIMITS, InvalidEdxml, Reading, read_edxml, read_status
from kit.offload import off_loop_if_large
from mocks.bus import Handover
from mocks.envelope import (
    EnvelopeError,
    SdkEnvelope,
    Translation,
    install_envelope_handlers,
    router_errors,
)
from mocks.qlvb.lifecycle import IllegalStatusTransition

XML = ("application/xml", "text/xml")
MAX_JSON_BODY = 4 * 1024
MAX_STATUS_BODY = 256 * 1024  # a status message has no attachments (DOMAIN.md §3.4)
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200  # lgsp.outbox's bound on idempotency and ordering keys
MAX_DOCUMENT_ID = 160  # organ id, date, number and notation with their separators
"""The longest DocumentId an endpoint keeps: a province's and the axis's columns alike."""
DocumentIdText = Annotated[str, StringConstraints(max_length=MAX_DOCUMENT_ID)]
"""A `documentId` as the SDK's JSON calls name a document, bounded as the endpoints keep it."""
# The gateway's own rules for the two headers (lgsp/routing/router.py, lgsp/middleware.py).
_IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,200}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:*-]{1,128}")  # `*`: a bus hop masked a number in it
_Model = TypeVar("_Model", bound=BaseModel)


SDK = SdkEnvelope()
ok = SDK.ok


class MockError(EnvelopeError):
    """An answer with `status: FAIL`: HTTP status, the mock's `ErrorCode`, and extra fields."""

    def __init__(self, status: int, error_code: str, desc: str, **extra: Any) -> None:
        super().__init__(status, error_code, desc, extra)


def illegal_status(error: IllegalStatusTransition) -> MockError:
    """409 ILLEGAL_STATUS: a status code that may not follow its delivery's, with that
    delivery's code and the codes that may follow it (a province's document system and the
    national axis, for a central body, refuse so alike)."""
    return MockError(
        409,
        "ILLEGAL_STATUS",
        str(error),
        CurrentStatus=error.current,
        AllowedStatusCodes=list(error.allowed),
    )


async def read_body(
    request: Request, media_types: tuple[str, ...], limit: int = MAX_JSON_BODY
) -> bytes:
    """The body, refused unless of `media_types`, and never read past `limit` bytes."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in media_types:
        raise MockError(415, "UNSUPPORTED_MEDIA_TYPE", f"Send {' or '.join(media_types)}.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MockError(413, "TOO_LARGE", f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_document(request: Request) -> tuple[bytes, Reading]:
    """An edXML document's body as sent (`read_body`, to the codec's size limit) and its
    reading, off the event loop when large: what `/sendEdoc`, the axis and an inbound delivery
    take alike."""
    body = await read_body(request, XML, DEFAULT_LIMITS.max_bytes)
    return body, await off_loop_if_large(len(body), partial(read_edxml, body))


async def read_status_message(request: Request) -> tuple[bytes, Reading]:
    """A status message's body as sent (`read_body`, to MAX_STATUS_BODY) and its reading."""
    body = await read_body(request, XML, MAX_STATUS_BODY)
    return body, read_status(body)


async def read_json(request: Request, model: type[_Model]) -> _Model:
    """The JSON body as `model`, bounded like every body; 422 `INVALID_REQUEST` listing the
    errors' places and messages, never the values sent."""
    body = await read_body(request, ("application/json",))
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        errors = [
            {"loc": list(detail["loc"]), "msg": detail["msg"], "type": detail["type"]}
            for detail in error.errors(include_url=False, include_input=False)
        ]
        raise MockError(
            422, "INVALID_REQUEST", "The request body is not valid.", Errors=errors
        ) from None


def idempotency_key(request: Request) -> str | None:
    """The message's `Idempotency-Key` (the sender's outbox key), or None when it has none."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise MockError(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
        )
    return key


def request_id(request: Request) -> str:
    """The caller's `X-Request-ID`, carried on to the calls this one causes; else a fresh one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


_VISIBLE_ASCII = re.compile(r"[!-~]+")


def outbox_key(*parts: str) -> str:
    """`a:b:c`, or, past the outbox's 200 characters or outside visible ASCII (a notation such
    as `VPCP-TTĐT`, the SDK's own), `a:sha256:<hex of the whole>`.

    Either way the key is a function of its parts, so enqueueing the same thing twice (a retry
    of the request that caused it) gives the same key and the outbox keeps one message.
    """
    key = ":".join(parts)
    if len(key) <= MAX_KEY_LENGTH and _VISIBLE_ASCII.fullmatch(key):
        return key
    return f"{parts[0]}:sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def edxml_call(
    service: tuple[str, str],
    path: str,
    body: bytes,
    *,
    key: str,
    ordering: str,
    target: str | None = None,
) -> Handover:
    """An edXML message for the bus to carry to `service` (id, version) at `path`, byte for byte
    as its sender sent it (XML-DSig covers the bytes, DOMAIN.md §3.1), keyed by `key`, delivered
    in order with the others of its `ordering` line."""
    return Handover(
        service=service[0],
        version=service[1],
        path=path,
        body=body,
        content_type="application/xml",
        idempotency_key=key,
        ordering_key=ordering,
        target=target,
    )


def document_id_of(document: Mapping[str, Any]) -> str:
    """The DocumentId a read document declares, or InvalidEdxml `too_long` past what the
    endpoints keep. Every endpoint finds a document by it, as the SDK's status messages name
    it (ResponseFor/DocumentId, DOMAIN.md §3.4), even one that does not match the header (the
    codec notes `document_id_mismatch`)."""
    document_id: str = document["document_id"]
    if len(document_id) > MAX_DOCUMENT_ID:
        raise InvalidEdxml(
            f"MessageHeader/DocumentId is limited to {MAX_DOCUMENT_ID} characters.",
            rule="too_long",
        )
    return document_id


def business_type_of(document: Mapping[str, Any]) -> int:
    """Bussiness/BussinessDocType (DOMAIN.md §3.3: 1 revocation, 2 update, 3 replacement), 0
    (new) when the message has no Bussiness."""
    business = document.get("business") or {}
    value = business.get("business_doc_type")
    return value if isinstance(value, int) else 0


def refuse_future_dated(message: Mapping[str, Any], *, now: datetime, skew_seconds: float) -> None:
    """InvalidEdxml `future_dated` when a document's PromulgationDate, a status message's
    Timestamp (when its reporter says it reported), or a TraceHeader's Timestamp (a hop it says
    it already made) is later than `now` plus `skew_seconds` (the clocks of two systems differ a
    little), all read as Vietnam time (QCVN 102 dates carry no zone). The sources are silent on
    what the real axis does; a document dated tomorrow is not one yet, nor is a status reported
    tomorrow (`SystemConfig.clock_skew_seconds`, assigned)."""
    latest = latest_allowed(now, skew_seconds)
    stamps = [t.get("timestamp") for t in message.get("trace_headers") or ()]
    promulgation = message.get("promulgation")  # a document's; a status message has none
    if promulgation is not None and date.fromisoformat(promulgation["date"]) > latest.date():
        found = "MessageHeader/PromulgationInfo/PromulgationDate"
    elif _later(message.get("timestamp"), latest):  # a status message's (§3.4)
        found = "MessageHeader/Timestamp"
    elif any(_later(s, latest) for s in stamps):  # a lenient read may leave one unread: None
        found = "TraceHeaderList/TraceHeader/Timestamp"
    else:
        return
    raise InvalidEdxml(
        f"{found} is later than now in Vietnam, past the {skew_seconds:g} s the clocks "
        "may differ by: a message is dated when it is issued, not ahead.",
        rule="future_dated",
    )


def _later(stamp: object, latest: datetime) -> bool:
    if not isinstance(stamp, str):
        return False
    try:
        return datetime.fromisoformat(stamp).replace(tzinfo=VIETNAM_TIME) > latest
    except ValueError:
        return False


def warnings(reading: Reading) -> list[dict[str, str]]:
    """Mock addition `Warnings`: what in a message departs from QCVN 102 yet was taken, each
    as `{Rule, Detail}` with the codec's rule (the code a strict reader refuses it with)."""
    return [{"Rule": n.rule, "Detail": n.detail} for n in reading.nonconformities]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def body_doc(media_type: str, schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """The request body for OpenAPI: handlers read bodies themselves, bounded."""
    if not isinstance(schema, dict):
        schema = copy.deepcopy(_json_schema(schema))
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


@cache
def _json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """Made once per model, not once per app: pydantic builds it anew at every call, and each
    province's document endpoint asked for the same three (a fifth of a restart's CPU)."""
    return model.model_json_schema(by_alias=True)


XML_BODY = body_doc("application/xml", {"type": "string", "description": "edXML"})


def install_error_handlers(app: FastAPI) -> None:
    """Every error as `{status: FAIL, ErrorCode, ErrorDesc}`, router 404/405 included."""
    install_envelope_handlers(
        app, SDK, [Translation(InvalidEdxml, _invalid_edxml), router_errors(shout=False)]
    )


def _invalid_edxml(exc: InvalidEdxml) -> EnvelopeError:
    """The codec's rule and detail, which name elements, never their values."""
    return MockError(422, "INVALID_EDXML", exc.detail, Rule=exc.rule)
