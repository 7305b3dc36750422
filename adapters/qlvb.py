"""Canonical document exchange to and from a province's VDXP endpoint (the `qlvb` system).

Clients send official documents as the canonical JSON of DOMAIN.md §8.3 (or as edXML itself),
read their inbox and a document with its per-recipient status trace, and report edXML status
codes (§3.6) as JSON; the system speaks the VDXP SDK's calls (§2.4) with edXML bodies
(formats/edxml.py does the XML). Each operation is one row of `_OPERATIONS`.

Two operations take what other provinces send over the national document axis (`vdxp`): an
edXML document for this province's agencies (`receive_document`) and an edXML status message
about a document sent from here, or a recall of one received here (`receive_status`). The
axis's outbox worker delivers each at least once, through NDXP and this province's LGSP; the
gateway passes the message's `Idempotency-Key` on to the system, which deduplicates
(`duplicate: true`).

A document's canonical `id` is its edXML DocumentId (`{organId},{yyyy/MM/dd},{number}/
{notation}`, §3.2) in URL-safe base64 without padding. It fits in one path segment and names
the document in QCVN 102's own terms, so a status report fills the status message's ResponseFor
(§3.4) from the id alone, in the one call an operation may make, with any endpoint that finds
documents by DocumentId rather than only by this mock's DocIds.

A little past STYLE.md's ~600 lines: the shapes and refusals already live in
`_qlvb_contracts.py`; what stays is one writer and one reader per operation, the table of the
system's refusals and `CONTRACTS`, which are read together when an operation changes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adapters._common import (
    XML_MEDIA_TYPES,
    Refusal,
    SdkAdapter,
    UnsupportedMediaType,
    accepts_xml,
    answer_warnings,
    media_type,
    read_as_preferred,
    require_xml,
    sdk_call,
    validation_errors,
)
from adapters._qlvb_contracts import (
    AgencyDirectory,
    AxisNotConnected,
    CanonicalDocument,
    DocumentConflict,
    DocumentNotFound,
    DocumentView,
    EdxmlMessage,
    IllegalStatusTransition,
    InboundStatusRecorded,
    Inbox,
    InvalidDocumentQuery,
    InvalidInboxQuery,
    InvalidStatusRequest,
    NoRecipientInProvince,
    NotAParty,
    NotARecipientOfDocument,
    QlvbAnswerInvalid,
    RecipientInOtherProvince,
    ReporterInThisProvince,
    SenderInThisProvince,
    SentDocument,
    SignatureInvalid,
    StaffInfo,
    StatusMessageView,
    StatusNotFound,
    StatusRecorded,
    UnknownRecipient,
    UnknownReporter,
    UnknownSender,
)
from adapters.base import (
    CanonicalRequest,
    CanonicalResponse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    OperationContract,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from formats.agency_codes import CLOSED_FROM, AgencyCodeClosed, refuse_closed
from formats.codes import ORGAN_ID
from formats.dates import VIETNAM_TIME, now_in_vietnam
from formats.edxml import (
    STATUS_CODES,
    InvalidEdxml,
    read_edxml,
    read_status,
    render_edxml,
    render_status,
)
from formats.signature_reasons import SIGNATURE_REASONS

SEND_DOCUMENT = "send_document"
GET_INBOX = "get_inbox"
GET_DOCUMENT = "get_document"
GET_STATUS = "get_status"
POST_STATUS = "post_status"
RECEIVE_DOCUMENT = "receive_document"
RECEIVE_STATUS = "receive_status"
LIST_ORGANISATIONS = "list_organisations"

MAX_PAGE_SIZE = 100
_JSON = "application/json"
_XML = XML_MEDIA_TYPES
_KEY = re.compile(r"[A-Za-z0-9_-]{1,400}")
_BUSINESS_KEY = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_DOCUMENT_ID = re.compile(r"[^,]+,[0-9]{4}/[0-9]{2}/[0-9]{2},[^,]+")  # shape only (§3.2)
# A status message's Timestamp is local time with no offset (§3.5); Vietnam is UTC+7 all year.
# edXML element names (§3.2, §3.3), as the system writes records; canonical keys are their
# snake_case (OrganizationInCharge → organization_in_charge).
_ORGANISATION = ("OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email",
                 "Telephone", "Fax", "Website")  # fmt: skip
_STAFF = ("Department", "Staff", "Mobile", "Email")


class StatusReport(BaseModel):
    """The canonical status report: who reports which edXML code (§3.6) on the document."""

    model_config = ConfigDict(extra="forbid", strict=True)

    organ_id: str = Field(pattern=ORGAN_ID, description="The reporting organisation.")
    status_code: str = Field(description="01-06 by a recipient, 13 (recall) by the sender, …")
    description: str | None = Field(default=None, max_length=2000)
    staff_info: StaffInfo | None = None
    organ_name: str | None = Field(
        default=None, max_length=200, description="Defaults to the organ id (From/OrganName)."
    )
    timestamp: str | None = Field(
        default=None,
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$",
        description="Local (Vietnam) time of the status; defaults to now.",
    )

    @field_validator("status_code")
    @classmethod
    def _known_code(cls, value: str) -> str:
        if value not in STATUS_CODES:
            raise ValueError(f"must be one of {', '.join(STATUS_CODES)}")
        return value


class InboxQuery(BaseModel):
    """Any other parameter is ignored, as in every REST service (`_dvc_requests.query_params`)."""

    organ_id: str = Field(pattern=ORGAN_ID)
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)
    kind: Literal["edoc", "status"] = "edoc"
    """`status`: the status messages the agency received (on what it sent, or recalls of what
    it received), as the SDK's `getReceivedEdocList` lists them with `messagetype: status`."""


class DocumentQuery(BaseModel):
    organ_id: str | None = Field(default=None, pattern=ORGAN_ID)
    """The agency reading (a bound client's own, which the bus adds): only the document's
    sender or a recipient reads it, only a status message's reporter or addressee that
    message, else 403 NOT_A_PARTY. A recipient's document shows its own delivery only in
    `recipients`, the system's answer for that reader."""


def document_key(document_id: str) -> str:
    """The canonical `id` of the document whose edXML DocumentId is `document_id`."""
    return base64.urlsafe_b64encode(document_id.encode("utf-8")).rstrip(b"=").decode("ascii")


def is_business_key(key: str) -> bool:
    """Whether a canonical `id` names a revocation, update or replacement: its DocId, a UUID
    (a document's id is its DocumentId in base64url, which starts with an upper-case letter
    for every DocumentId that starts with an organ id's digits, §3.2)."""
    return _BUSINESS_KEY.fullmatch(key) is not None


def document_id_from_key(key: str) -> str:
    """The DocumentId a canonical `id` stands for, or DocumentNotFound: no such id exists."""
    try:
        if not _KEY.fullmatch(key):
            raise ValueError(key)
        document_id = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)).decode("utf-8")
        if document_key(document_id) != key or not _DOCUMENT_ID.fullmatch(document_id):
            raise ValueError(key)  # one id per document: no alternative spellings
    except (ValueError, binascii.Error):
        raise DocumentNotFound("No document has this id.") from None
    return document_id


@dataclass(frozen=True)
class _Operation:
    to_system: Callable[[CanonicalRequest, Callable[[], datetime]], SystemRequest]
    read: Callable[[Mapping[str, Any]], CanonicalResponse]


# --- requests -------------------------------------------------------------------------------


def _send_request(request: CanonicalRequest, _now: Callable[[], datetime]) -> SystemRequest:
    """edXML for `/sendEdoc`: rendered from canonical JSON, or the client's own bytes."""
    sent = media_type(request)
    if sent == _JSON:
        document = _json_document(request.body)
        body = render_edxml(document)
    elif sent in _XML:
        # Refused here, with the codec's rule, before any call.
        document = read_as_preferred(read_edxml, request).message
        body = request.body  # passed on as sent: the recipients get the sender's bytes
    else:
        raise _unsupported("the document as canonical JSON")
    _refuse_closed_codes(document)
    call = sdk_call("/sendEdoc", body, "application/xml")
    # Composed from JSON: the document system signs it as the sender (mock addition).
    return replace(call, query=(("sign", "sender"),)) if sent == _JSON else call


def _refuse_closed_codes(document: Mapping[str, Any]) -> None:
    """A document dated after the 2025 merger may not name an organ under a closed code. One
    read leniently may lack its date (a `missing_field` warning): nothing to check it against."""
    try:
        on = date.fromisoformat(str(document["promulgation"]["date"]))
    except (KeyError, TypeError, ValueError):
        return
    organs = [document["from"]["organ_id"], *(to["organ_id"] for to in document["to"])]
    refuse_closed(organs, on)


def _inbox_request(request: CanonicalRequest, _now: Callable[[], datetime]) -> SystemRequest:
    try:
        query = InboxQuery.model_validate(dict(request.query))  # a repeated name: the last
    except ValidationError as error:
        raise InvalidInboxQuery(
            "Give organ_id (like 000.00.01.H33) and optionally page (from 1) and size "
            f"(1-{MAX_PAGE_SIZE}); see `errors`.",
            errors=validation_errors(error, "query"),
        ) from None
    body = {"organId": query.organ_id, "messagetype": query.kind, "page": query.page}
    return sdk_call("/getReceivedEdocList", _dumps({**body, "size": query.size}), _JSON)


def _document_request(request: CanonicalRequest, _now: Callable[[], datetime]) -> SystemRequest:
    """`/getEdoc` in its JSON form (mock addition): the edXML and the trace in one answer; a
    revocation, update or replacement by its DocId."""
    key = request.path_params.get("id", "")
    named = {"docId": key} if is_business_key(key) else {"documentId": document_id_from_key(key)}
    reader = _reader(request, "organId")
    shown = "xml" if accepts_xml(request) else "json"  # xml: the sender's bytes, untouched
    body = _dumps({**named, "format": shown, **reader})
    return sdk_call("/getEdoc", body, _JSON)


def _status_message_request(
    request: CanonicalRequest, _now: Callable[[], datetime]
) -> SystemRequest:
    """`/getStatus` (mock addition): one status message of one recipient's delivery."""
    document_id = document_id_from_key(request.path_params.get("id", ""))
    organ_id, number = request.path_params.get("organ_id", ""), request.path_params.get("n", "")
    if not re.fullmatch(ORGAN_ID, organ_id) or not re.fullmatch(r"[1-9][0-9]{0,5}", number):
        raise StatusNotFound("No status message has this place.")
    reader = _reader(request, "readerOrganId")  # `organId` is the delivery's recipient
    shown = "xml" if accepts_xml(request) else "json"  # xml: the reporter's bytes, untouched
    body = {"documentId": document_id, "organId": organ_id, "position": int(number)}
    return sdk_call("/getStatus", _dumps({**body, "format": shown, **reader}), _JSON)


def _reader(request: CanonicalRequest, name: str) -> dict[str, str]:
    """The agency reading (`?organ_id=`) as the system's member `name`, for it to answer only
    a party (none: an admin reading for its whole instance)."""
    try:  # other names are ignored, as before a reader was asked for
        query = DocumentQuery.model_validate(dict(request.query))
    except ValidationError as error:
        raise InvalidDocumentQuery(
            "organ_id names the agency reading, like 000.00.01.H33; see `errors`.",
            errors=validation_errors(error, "query"),
        ) from None
    return {} if query.organ_id is None else {name: query.organ_id}


def _status_request(request: CanonicalRequest, now: Callable[[], datetime]) -> SystemRequest:
    """An edXML status message whose ResponseFor is the document the path names."""
    document_id = document_id_from_key(request.path_params.get("id", ""))
    sent = media_type(request)
    if sent in _XML:
        status = read_as_preferred(read_status, request).message
        if status["response_for"]["document_id"] != document_id:
            raise InvalidStatusRequest(
                "The status message's ResponseFor/DocumentId is not the document in the path.",
                errors=[{"loc": ["body", "ResponseFor", "DocumentId"], "msg": "Differs from "
                         "the path", "type": "mismatch"}],
            )  # fmt: skip
        return sdk_call("/updateStatus", request.body, "application/xml")
    if sent != _JSON:
        raise _unsupported("the status as JSON")
    try:
        report = StatusReport.model_validate_json(request.body)
    except ValidationError as error:
        raise InvalidStatusRequest(
            "The body must be {organ_id, status_code, description?, staff_info?}; see `errors`.",
            errors=validation_errors(error),
        ) from None
    sender, promulgated, code = document_id.split(",")  # three parts: see _DOCUMENT_ID
    stamp = report.timestamp or now().astimezone(VIETNAM_TIME).strftime("%Y-%m-%dT%H:%M:%S")
    body = render_status(
        {
            "response_for": {
                "organ_id": sender,
                "code": code,
                "promulgation_date": promulgated.replace("/", "-"),
                "document_id": document_id,
            },
            "from": {
                "organ_id": report.organ_id,
                "organ_name": report.organ_name or report.organ_id,
            },
            "status_code": report.status_code,
            "description": report.description,
            "timestamp": stamp,
            "staff_info": None if report.staff_info is None else report.staff_info.model_dump(),
        }
    )
    # Composed from JSON: the document system signs it as the reporter (mock addition).
    return replace(sdk_call("/updateStatus", body, "application/xml"), query=(("sign", "sender"),))


def _inbound_document_request(
    request: CanonicalRequest, _now: Callable[[], datetime]
) -> SystemRequest:
    """`/receiveEdoc`: the document exactly as the sender's province sent it."""
    require_xml(request)
    read_edxml(request.body)  # refused here if not edXML; taken, as the axis took it, if not QCVN
    return sdk_call("/receiveEdoc", request.body, "application/xml")


def _inbound_status_request(
    request: CanonicalRequest, _now: Callable[[], datetime]
) -> SystemRequest:
    """`/receiveStatus`: the status message exactly as the other province sent it."""
    require_xml(request)
    read_status(request.body)
    return sdk_call("/receiveStatus", request.body, "application/xml")


def _organisations_request(
    _request: CanonicalRequest, _now: Callable[[], datetime]
) -> SystemRequest:
    """`/getAgenciesList`, the SDK's own call, without filters (the jar sends none)."""
    return sdk_call("/getAgenciesList", b"{}", _JSON)


def _unsupported(what: str) -> TranslationError:
    return UnsupportedMediaType(
        f"Send {what} (application/json) or as edXML (application/xml).",
        supported=[_JSON, *_XML],
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


# --- answers --------------------------------------------------------------------------------


_BUSINESS_NAMES = ("BusinessType", "DocId", "RefersToDocumentId")


def _read_sent(answer: Mapping[str, Any]) -> CanonicalResponse:
    sent = {**_deliveries(answer), "duplicate": _duplicate(answer), **_signature(answer)}
    return CanonicalResponse(202, {**sent, **_business(answer)})


def _business(
    answer: Mapping[str, Any], names: tuple[str, str, str] = _BUSINESS_NAMES
) -> dict[str, Any]:
    """`{business_type, refers_to}` from the system's business type (mock addition; absent:
    nothing), and for a revocation, update or replacement of a document (1/2/3, linked to it)
    its own `id`, its DocId, and the id of that document, from its DocumentId. (A 1/2/3 that
    named no document is a document of its own.) `names`: the system's names of the type, the
    DocId and that DocumentId."""
    type_name, doc_id_name, refers_name = names
    kind = answer.get(type_name)
    if kind is None:
        return {}
    if not isinstance(kind, int) or isinstance(kind, bool) or not 0 <= kind <= 3:
        raise QlvbAnswerInvalid("The document system's business type is not 0, 1, 2 or 3.")
    if kind == 0 or answer.get(refers_name) is None:
        return {"business_type": kind, "refers_to": None}
    doc_id = _text(answer, doc_id_name)
    if not is_business_key(doc_id):
        raise QlvbAnswerInvalid("The document system's business message has no UUID DocId.")
    refers_to = document_key(_text(answer, refers_name))
    return {"id": doc_id, "business_type": kind, "refers_to": refers_to}


_SIGNATURE_KEYS = ("present", "valid", "algorithm", "weak", "subject", "issuer", "serial",
                   "not_after", "reason")  # fmt: skip


def _signature(answer: Mapping[str, Any]) -> dict[str, Any]:
    """`{signature: …}` from the system's `Signature` (mock addition), if it checked one."""
    checked = answer.get("Signature")
    if checked is None:
        return {}
    if not isinstance(checked, Mapping):
        raise QlvbAnswerInvalid("The document system's Signature is not an object.")
    names = {key: "".join(part.title() for part in key.split("_")) for key in _SIGNATURE_KEYS}
    return {"signature": {key: checked.get(name) for key, name in names.items()}}


def _duplicate(answer: Mapping[str, Any]) -> bool:
    duplicate = answer.get("Duplicate")
    if not isinstance(duplicate, bool):
        raise QlvbAnswerInvalid("The document system's answer has no boolean Duplicate.")
    return duplicate


def _read_status(answer: Mapping[str, Any]) -> CanonicalResponse:
    return CanonicalResponse(200, {**_deliveries(answer), **_signature(answer)})


def _read_inbound_status(answer: Mapping[str, Any]) -> CanonicalResponse:
    return CanonicalResponse(
        200, {**_deliveries(answer), "duplicate": _duplicate(answer), **_signature(answer)}
    )


def _deliveries(answer: Mapping[str, Any]) -> dict[str, Any]:
    """`{id, document_id, recipients}` from the system's DocumentId and Recipients."""
    document_id = _text(answer, "DocumentId")
    recipients = [
        {"organ_id": _text(item, "OrganId"), "status": _status_code(item.get("StatusCode"))}
        for item in _list(answer, "Recipients")
    ]
    return {
        "id": document_key(document_id),
        "document_id": document_id,
        "recipients": recipients,
        "warnings": answer_warnings(answer, QlvbAnswerInvalid, "The document system"),
    }


def _read_inbox(answer: Mapping[str, Any]) -> CanonicalResponse:
    items = []
    for item in _list(answer, "data"):
        if item.get("messageType") == "status":
            items.append(_status_item(item))
            continue
        document_id = _text(item, "documentId")
        items.append(
            {
                "id": document_key(document_id),
                "document_id": document_id,
                "organ_id": _text(item, "to"),
                "from": _renamed(item.get("fromOrganization"), _ORGANISATION),
                "subject": _text(item, "subject"),
                "received_at": _text(item, "createdTime"),
                "status": _status_code(item.get("statusCode")),
                **_business(item, ("businessType", "id", "refersToDocumentId")),
                "signature": _signature({"Signature": item.get("signature")}).get("signature"),
            }
        )
    page = {key: answer.get(key) for key in ("page", "size", "total")}
    if not all(isinstance(value, int) for value in page.values()):
        raise QlvbAnswerInvalid("The document system's inbox has no page, size and total.")
    return CanonicalResponse(200, {"items": items, **page})


def _status_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A status message an agency received, from the system's status knobstick."""
    code, position = _status_code(item.get("statusCode")), item.get("position")
    if code is None or not isinstance(position, int):
        raise QlvbAnswerInvalid("The document system's status item lacks its place or code.")
    document_id = _text(item, "documentId")
    return {
        "id": document_key(document_id),
        "document_id": document_id,
        "organ_id": _text(item, "recipient"),
        "position": position,
        "status_code": code,
        "status_name": STATUS_CODES[code],
        "reported_by": _text(item, "from"),
        "addressee": _text(item, "to"),
        "received_at": _text(item, "createdTime"),
    }


def _read_organisations(answer: Mapping[str, Any]) -> CanonicalResponse:
    """The SDK's agency list `{id, code, name, mail, pid}` as directory entries, with the mock's
    additions `province` and `inProvince` where the system gives them (a real one does not: they
    are null then); an entry without its code or name is the system's fault."""
    items = []
    for agency in _list(answer, "data"):
        code, name, province = agency.get("code"), agency.get("name"), agency.get("province")
        if not all(isinstance(v, str) and v for v in (code, name)):
            raise QlvbAnswerInvalid(
                "The document system's agency list has an entry without its code or name."
            )
        inside = agency.get("inProvince")
        items.append(
            {
                "organ_id": code,
                "organ_name": name,
                "parent_id": agency.get("pid") or None,
                "email": agency.get("mail") or None,
                "province_code": province if isinstance(province, str) and province else None,
                "in_province": inside if isinstance(inside, bool) else None,
            }
        )
    return CanonicalResponse(200, {"items": items})


def _read_document(answer: Mapping[str, Any]) -> CanonicalResponse:
    try:
        document = read_edxml(_text(answer, "edxml").encode("utf-8")).message
    except InvalidEdxml as error:  # the system's fault, not the client's: not a 422
        raise QlvbAnswerInvalid(
            f"The document system served a document that is not valid edXML ({error.rule})."
        ) from None
    recipients = [
        {
            "organ_id": _text(delivery, "OrganId"),
            "status": _status_code(delivery.get("StatusCode")),
            **_transport(delivery.get("Transport")),
            "history": [_history_entry(entry) for entry in _list(delivery, "History")],
        }
        for delivery in _list(answer, "trace")
    ]
    key = document_key(_text(answer, "DocumentId"))
    view = {"id": key, "document": document, "recipients": recipients, **_signature(answer)}
    return CanonicalResponse(200, {**view, **_business(answer)})


def _read_status_message(answer: Mapping[str, Any]) -> CanonicalResponse:
    code = _status_code(answer.get("StatusCode"))
    position, length = answer.get("Position"), answer.get("ContentLength")
    if code is None or not isinstance(position, int) or not isinstance(length, int):
        raise QlvbAnswerInvalid("The document system's status message lacks its place or code.")
    description = answer.get("Description")
    return CanonicalResponse(
        200,
        {
            "id": document_key(_text(answer, "DocumentId")),
            "organ_id": _text(answer, "OrganId"),
            "position": position,
            "status_code": code,
            "status_name": STATUS_CODES[code],
            "description": description if isinstance(description, str) else None,
            "timestamp": _text(answer, "Timestamp"),
            "reported_by": _text(answer, "ReportedBy"),
            "content_sha256": _text(answer, "ContentSha256"),
            "content_length": length,
            **_signature(answer),
        },
    )


_FINAL = "may report nothing more: the status is final"
_WHY_NOTHING: Mapping[str | None, str] = {
    "02": "may report nothing more: the recipient refused the document, nothing is left to "
    "recall; send a corrected document as a new one",
    "06": "may report nothing more: the recipient has finished the document, too late to "
    "recall it; send a document that replaces it (edXML ReplacementInfoList)",
    "13": "may report nothing until the recipient answers the recall with 15 or 16",
}
"""What the caller can do when nothing may follow: the edXML statuses say what each state means
(DOMAIN.md §3.6); the way out of each is the axis's (a replacement, a new document, waiting)."""


def illegal_transition(_operation: str, answer: Mapping[str, Any]) -> TranslationError:
    """The system's ILLEGAL_STATUS: what the delivery is in and what may follow (the national
    axis refuses a central body's status so too)."""
    current = _status_code(answer.get("CurrentStatus"))
    allowed = _list(answer, "AllowedStatusCodes", items=str)
    for code in allowed:
        _status_code(code)
    shown = "no status yet" if current is None else f"status {current} ({STATUS_CODES[current]})"
    may = f"may report {', '.join(allowed)}" if allowed else _WHY_NOTHING.get(current, _FINAL)
    return IllegalStatusTransition(
        f"The delivery is in {shown}; this organisation {may}.",
        current_status=current,
        allowed_status_codes=allowed,
    )


def _organ_ids(answer: Mapping[str, Any]) -> list[str]:
    return [o for o in _list(answer, "OrganIds", items=str) if re.fullmatch(ORGAN_ID, o)]


def _unknown_organ(operation: str, answer: Mapping[str, Any]) -> TranslationError:
    if operation == RECEIVE_STATUS:
        return UnknownReporter(
            "No agency has the reporting organ id.", organ_ids=_organ_ids(answer)
        )
    return UnknownRecipient(
        "No agency has the organ id: none of this province, nor of another province the bus "
        "serves, nor a central body the national axis serves.",
        organ_ids=_organ_ids(answer),
    )


def _unknown_sender(operation: str, answer: Mapping[str, Any]) -> TranslationError:
    detail = (
        "No agency of a province has the sender's organ id."
        if operation == RECEIVE_DOCUMENT
        else "The sender must be an agency of this province."
    )
    return UnknownSender(detail, organ_ids=_organ_ids(answer))


def _closed(_operation: str, answer: Mapping[str, Any]) -> TranslationError:
    """The system's AGENCY_CODE_CLOSED (a status reported in era 2026 by a body the 2025
    merger closed) as the bus refuses such an organ id, naming the successor where it did."""
    named = answer.get("SuccessorOrganId")
    for organ_id in _organ_ids(answer):
        try:
            refuse_closed([organ_id], CLOSED_FROM, known={named} if isinstance(named, str) else ())
        except AgencyCodeClosed as closed:
            return closed
    return AgencyCodeClosed("The reporting organ id's level-1 code was closed by the 2025 merger.")


# Why an agency of another province was refused, per operation (see the mock's OTHER_PROVINCE).
_ELSEWHERE = {
    SEND_DOCUMENT: "This province's document system cannot reach it over NDXP's document axis: "
    "it has no access to the bus, or that province is not in the bus's topology.",
    GET_INBOX: "Its inbox is its own province's.",
    POST_STATUS: "Its statuses arrive over NDXP's document axis, not through this operation.",
}


def _other_province(operation: str, answer: Mapping[str, Any]) -> TranslationError:
    return RecipientInOtherProvince(
        f"The agency belongs to another province. {_ELSEWHERE.get(operation, '')}".strip(),
        organ_ids=_organ_ids(answer),
    )


_SIGNED_MESSAGE = {POST_STATUS: "status message", RECEIVE_STATUS: "status message"}
"""What a SIGNATURE_INVALID refused, per operation: a document, else a status message."""

_NOT_A_PARTY = {
    GET_DOCUMENT: "Only the document's sender and recipients may read it.",
    GET_STATUS: "Only the status message's reporter and the agency it is addressed to (the "
    "document's sender, or for a recall its recipient) may read it.",
    POST_STATUS: "Only the document's sender and recipients may report its status.",
}
"""Who may do what a NOT_A_PARTY refused, per operation (else as post_status)."""


_REFUSALS: Mapping[tuple[int, str], Refusal] = {
    (409, "DOCUMENT_CONFLICT"): lambda _o, _a: DocumentConflict(
        "A different document was sent before under this number and notation (or DocumentId); "
        "nothing was delivered. A new document takes a number of its own; a change to one sent "
        "is a message with Bussiness/BussinessDocType 1 (revocation), 2 (update) or 3 "
        "(replacement)."
    ),
    (404, "DOCUMENT_NOT_FOUND"): lambda _o, _a: DocumentNotFound(
        "The province's document system holds no document with this id."
    ),
    (404, "STATUS_NOT_FOUND"): lambda _o, _a: StatusNotFound(
        "The province's document system holds no status message at this place."
    ),
    (422, "UNKNOWN_ORGAN"): _unknown_organ,
    (422, "UNKNOWN_SENDER"): _unknown_sender,
    (422, "OTHER_PROVINCE"): _other_province,
    (422, "AGENCY_CODE_CLOSED"): _closed,
    (422, "LOCAL_SENDER"): lambda _o, a: SenderInThisProvince(
        "The sender is an agency of this province; other provinces' documents only arrive here.",
        organ_ids=_organ_ids(a),
    ),
    (422, "NO_RECIPIENT_HERE"): lambda _o, a: NoRecipientInProvince(
        "No To agency of the document belongs to this province.", organ_ids=_organ_ids(a)
    ),
    (422, "NOT_A_RECIPIENT_OF_DOCUMENT"): lambda _o, a: NotARecipientOfDocument(
        "A revocation or update goes to the recipients of its document only (or the bodies of "
        "today that succeed them); these received none.",
        organ_ids=_organ_ids(a),
    ),
    (422, "LOCAL_REPORTER"): lambda _o, a: ReporterInThisProvince(
        "The reporting agency is of this province; other provinces' statuses only arrive here.",
        organ_ids=_organ_ids(a),
    ),
    (422, "SIGNATURE_INVALID"): lambda o, a: SignatureInvalid(
        f"The {_SIGNED_MESSAGE.get(o, 'document')}'s signature is not valid, and the document "
        "system takes only validly signed documents and status messages.",
        reason=a.get("Reason") if a.get("Reason") in SIGNATURE_REASONS else None,
    ),
    (503, "NOT_CONNECTED"): lambda _o, _a: AxisNotConnected(
        "The province's document system has no access to the bus, so nothing can travel to or "
        "from another province."
    ),
    (409, "ILLEGAL_STATUS"): illegal_transition,
    (403, "NOT_A_PARTY"): lambda operation, _a: NotAParty(
        _NOT_A_PARTY.get(operation, _NOT_A_PARTY[POST_STATUS])
    ),
}

_OPERATIONS: Mapping[str, _Operation] = {
    SEND_DOCUMENT: _Operation(_send_request, _read_sent),
    GET_INBOX: _Operation(_inbox_request, _read_inbox),
    GET_DOCUMENT: _Operation(_document_request, _read_document),
    GET_STATUS: _Operation(_status_message_request, _read_status_message),
    POST_STATUS: _Operation(_status_request, _read_status),
    RECEIVE_DOCUMENT: _Operation(_inbound_document_request, _read_sent),
    RECEIVE_STATUS: _Operation(_inbound_status_request, _read_inbound_status),
    LIST_ORGANISATIONS: _Operation(_organisations_request, _read_organisations),
}


class QlvbAdapter(SdkAdapter[_Operation]):
    """The `qlvb` adapter. `now` stamps status reports that carry no timestamp of their own."""

    adapter = "qlvb"
    system = "The document system"
    invalid = QlvbAnswerInvalid
    operations = _OPERATIONS
    refusals = _REFUSALS
    strict_operations = frozenset({SEND_DOCUMENT, POST_STATUS})

    def __init__(
        self, *, today: Callable[[], date], now: Callable[[], datetime] | None = None
    ) -> None:
        # `today` only keeps the gateway's one constructor call for every adapter.
        self._now = now or now_in_vietnam

    def to_system(self, request: CanonicalRequest) -> SystemRequest:
        return self._operation(request).to_system(request, self._now)

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse:
        """As every SDK endpoint's, but a document asked for as XML is the sender's bytes."""
        served = (response.content_type or "").partition(";")[0].strip().lower()
        if request.operation in _BYTES_OPERATIONS and response.status == 200 and served in _XML:
            return CanonicalResponse(200, response.body, media_type="application/xml")
        return super().to_canonical(request, response)


_BYTES_OPERATIONS = frozenset({GET_DOCUMENT, GET_STATUS})
"""The operations that answer a message asked for as XML with its sender's own bytes."""


def _json_document(body: bytes) -> Any:
    """The body labelled JSON, decoded; else refused as every JSON body is (422, `errors` with
    `json_invalid`, the gateway's and the portal's word), under the operation's own code."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
        raise InvalidEdxml(
            "The body is labelled application/json but is not JSON; send edXML as application/xml.",
            rule="not_json",
            errors=[{"loc": ["body"], "msg": "Not valid JSON", "type": "json_invalid"}],
        ) from None


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise QlvbAnswerInvalid(f"The document system's answer has no text {key}.")
    return value


def _list(record: Mapping[str, Any], key: str, *, items: type = dict) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list) or not all(isinstance(item, items) for item in value):
        raise QlvbAnswerInvalid(f"The document system's answer has no list {key}.")
    return value


def _status_code(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in STATUS_CODES:
        raise QlvbAnswerInvalid("The document system answered a status code outside edXML's.")
    return value


_TRANSPORT_STATES = ("delivered", "in_transit", "undeliverable")


def _transport(transport: Any) -> dict[str, Any]:
    """`{delivery: {state, reason}}` from the system's `Transport` (mock addition), if given."""
    if transport is None:
        return {}
    state = transport.get("State") if isinstance(transport, Mapping) else None
    reason = transport.get("Reason") if isinstance(transport, Mapping) else None
    if state not in _TRANSPORT_STATES or not (reason is None or isinstance(reason, str)):
        raise QlvbAnswerInvalid("The document system's Transport is not a delivery state.")
    return {"delivery": {"state": state, "reason": None if reason is None else reason[:500]}}


def _history_entry(entry: Mapping[str, Any]) -> dict[str, Any]:
    code = _text(entry, "StatusCode")
    _status_code(code)
    return {
        "status_code": code,
        "status_name": STATUS_CODES[code],
        "description": entry.get("Description"),
        "timestamp": _text(entry, "Timestamp"),
        "staff_info": _renamed(entry.get("StaffInfo"), _STAFF, optional=True),
    }


def _renamed(record: Any, names: tuple[str, ...], *, optional: bool = False) -> Any:
    """A record of the system's (edXML element names) under canonical keys."""
    if record is None and optional:
        return None
    if not isinstance(record, Mapping):
        raise QlvbAnswerInvalid("The document system's answer lacks an organisation or staff.")
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower(): record.get(name) for name in names}


CONTRACTS: Mapping[str, OperationContract] = {
    SEND_DOCUMENT: OperationContract(
        SentDocument,
        status=202,
        request=CanonicalDocument,
        request_media_types=(_JSON, *_XML),
        errors=(
            InvalidEdxml,
            UnknownRecipient,
            UnknownSender,
            AgencyCodeClosed,
            RecipientInOtherProvince,
            UnsupportedMediaType,
            SignatureInvalid,
            DocumentConflict,
            NotARecipientOfDocument,
        ),
    ),
    GET_INBOX: OperationContract(
        Inbox,
        query=InboxQuery,
        errors=(InvalidInboxQuery, UnknownRecipient, RecipientInOtherProvince),
    ),
    GET_DOCUMENT: OperationContract(
        DocumentView,
        query=DocumentQuery,
        errors=(DocumentNotFound, NotAParty, InvalidDocumentQuery),
        response_media_types=(_JSON, "application/xml"),
    ),
    GET_STATUS: OperationContract(
        StatusMessageView,
        query=DocumentQuery,
        errors=(DocumentNotFound, StatusNotFound, NotAParty, InvalidDocumentQuery),
        response_media_types=(_JSON, "application/xml"),
    ),
    POST_STATUS: OperationContract(
        StatusRecorded,
        request=StatusReport,
        request_media_types=(_JSON, *_XML),
        errors=(
            DocumentNotFound,
            IllegalStatusTransition,
            NotAParty,
            AgencyCodeClosed,
            RecipientInOtherProvince,
            InvalidStatusRequest,
            InvalidEdxml,
            UnsupportedMediaType,
            AxisNotConnected,
        ),
    ),
    RECEIVE_DOCUMENT: OperationContract(
        SentDocument,
        status=202,
        request=EdxmlMessage,
        request_media_types=_XML,
        errors=(
            InvalidEdxml,
            UnknownSender,
            SenderInThisProvince,
            NoRecipientInProvince,
            UnsupportedMediaType,
            AxisNotConnected,
            SignatureInvalid,
            DocumentConflict,
            NotARecipientOfDocument,
        ),
    ),
    LIST_ORGANISATIONS: OperationContract(AgencyDirectory),
    RECEIVE_STATUS: OperationContract(
        InboundStatusRecorded,
        request=EdxmlMessage,
        request_media_types=_XML,
        errors=(
            DocumentNotFound,
            IllegalStatusTransition,
            NotAParty,
            UnknownReporter,
            ReporterInThisProvince,
            IdempotencyKeyReused,
            InvalidIdempotencyKey,
            InvalidEdxml,
            UnsupportedMediaType,
        ),
    ),
}
