"""Canonical access to the national document axis (the `vdxp` system, owned by NDXP).

A province's document endpoint submits the edXML documents (QCVN 102:2016) its agencies send
to other provinces, and the status messages (DOMAIN.md §3.4) its agencies report on documents
from other provinces; each leaves its outbox and reaches the axis through its LGSP and NDXP,
at least once (the gateway passes the `Idempotency-Key` on; the axis deduplicates). The axis
forwards each to the provinces concerned and keeps a national ledger, whose trail of one
document anyone with the right may read. Bodies are edXML both ways in and JSON out; the
system speaks VDXP SDK-style calls (`mocks/vdxp/app.py`). Each operation is one row of
`_OPERATIONS`.

A trail's `{id}` is the document's id in the `qlvb` service (its DocumentId in URL-safe base64,
`adapters.qlvb.document_key`), so a sender follows the id it was given from province to nation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters._common import (
    XML_MEDIA_TYPES,
    Refusal,
    SdkAdapter,
    UnsupportedMediaType,
    answer_warnings,
    read_as_preferred,
    require_xml,
    sdk_call,
    validation_errors,
)
from adapters._qlvb_contracts import (
    DocumentNotFound,
    EdxmlMessage,
    IllegalStatusTransition,
    InvalidInboxQuery,
    NotAParty,
    NotARecipientOfDocument,
)
from adapters._vdxp_contracts import (
    AxisCannotForward,
    CentralAgencyUnknown,
    CentralInbox,
    CentralMessage,
    CentralMessageQuery,
    DocumentIdConflict,
    DocumentIdOfAnotherAgency,
    NoRemoteRecipient,
    NotACentralAgency,
    NotOfCallingProvince,
    RecipientNotServed,
    SenderNotServed,
    SubmittedDocument,
    SubmittedStatus,
    Trail,
    VdxpAnswerInvalid,
)
from adapters.base import (
    CanonicalRequest,
    CanonicalResponse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    OperationContract,
    SystemRequest,
    TranslationError,
)
from adapters.qlvb import InboxQuery, document_id_from_key, document_key, illegal_transition
from formats.codes import CENTRAL_ORGAN_ID, ORGAN_ID
from formats.edxml import STATUS_CODES, InvalidEdxml, read_claims, read_edxml, read_status

SUBMIT_DOCUMENT = "submit_document"
SUBMIT_STATUS = "submit_status"
GET_TRAIL = "get_trail"
SEND_CENTRAL_DOCUMENT = "send_central_document"
SEND_CENTRAL_STATUS = "send_central_status"
GET_CENTRAL_INBOX = "get_central_inbox"
GET_CENTRAL_MESSAGE = "get_central_message"
CENTRAL_ORGAN = re.compile(CENTRAL_ORGAN_ID)
"""A central body's organ id (DOMAIN.md §6.2: G only on VPCP and other central codes)."""

_XML = XML_MEDIA_TYPES


@dataclass(frozen=True)
class _Operation:
    to_system: Callable[[CanonicalRequest], SystemRequest]
    read: Callable[[Mapping[str, Any]], CanonicalResponse]


# --- requests -------------------------------------------------------------------------------


def _document_request(request: CanonicalRequest) -> SystemRequest:
    """`/sendEdoc`: the document as the sender sent it (its XML-DSig covers the bytes)."""
    require_xml(request)
    # Refused here if not edXML; a nonconformity travels, as on the axis, unless the client
    # prefers `handling=strict`.
    read_as_preferred(read_edxml, request)
    return sdk_call("/sendEdoc", request.body, "application/xml")


def _status_request(request: CanonicalRequest) -> SystemRequest:
    require_xml(request)
    read_as_preferred(read_status, request)
    return sdk_call("/sendStatus", request.body, "application/xml")


def _central(request: CanonicalRequest) -> CanonicalRequest:
    """The request, once its sender (or reporter) is a central body: a province's agency
    sends through its province's QLVB, which the axis's record of its province relies on."""
    require_xml(request)
    sender = read_claims(request.body).sender  # InvalidEdxml: it names no sender
    if not CENTRAL_ORGAN.match(sender):
        raise NotACentralAgency(
            "From/OrganId must be a central body's (…G and two digits); an agency of a "
            "province sends through its province's document exchange (qlvb)."
        )
    return request


def _central_inbox_request(request: CanonicalRequest) -> SystemRequest:
    try:
        query = InboxQuery.model_validate(dict(request.query))  # a repeated name: the last
    except ValidationError as error:
        raise InvalidInboxQuery(
            "Give organ_id (like 000.00.00.G22), optionally kind (edoc, status), page (from "
            "1) and size; see `errors`.",
            errors=validation_errors(error, "query"),
        ) from None
    if not CENTRAL_ORGAN.match(query.organ_id):
        raise NotACentralAgency("Only a central body (…G and two digits) has a national inbox.")
    body = {"organId": query.organ_id, "messagetype": query.kind, "page": query.page}
    return sdk_call("/getReceivedEdocList", json.dumps({**body, "size": query.size}).encode(),
                    "application/json")  # fmt: skip


def _central_message_request(request: CanonicalRequest) -> SystemRequest:
    organ_id = dict(request.query).get("organ_id", "")
    key = request.path_params.get("id", "")
    if not CENTRAL_ORGAN.match(organ_id) or not key.isdigit() or len(key) > 18:
        raise DocumentNotFound("No such message in a central body's inbox.")
    body = json.dumps({"organId": organ_id, "docId": int(key)}).encode()
    return sdk_call("/getEdoc", body, "application/json")


def _trail_request(request: CanonicalRequest) -> SystemRequest:
    document_id = document_id_from_key(request.path_params.get("id", ""))
    body = json.dumps({"documentId": document_id}, ensure_ascii=False).encode()
    return sdk_call("/getEdocTrail", body, "application/json")


# --- answers --------------------------------------------------------------------------------


def _read_central_inbox(answer: Mapping[str, Any]) -> CanonicalResponse:
    """A page of a central body's inbox: its items, the page and size asked, the total."""
    items = [_inbox_item(entry) for entry in _records(answer.get("Items"))]
    inbox = {"items": items, "page": answer.get("Page"), "size": answer.get("Size"),
             "total": answer.get("Total")}  # fmt: skip
    return CanonicalResponse(200, _conforming(CentralInbox, inbox))


def _read_central_message(answer: Mapping[str, Any]) -> CanonicalResponse:
    message = {**_inbox_item(answer), "edxml": answer.get("Content")}
    return CanonicalResponse(200, _conforming(CentralMessage, message))


def _inbox_item(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": entry.get("DocId"),
        "document_id": entry.get("DocumentId"),
        "sender": entry.get("From"),
        "recipient": entry.get("To"),
        "kind": entry.get("MessageType"),
        "business_type": entry.get("BusinessType"),
        "refers_to": _refers_to(entry.get("RefersToDocumentId")),
        "status_code": entry.get("StatusCode"),
        "content_sha256": entry.get("ContentSha256"),
        "content_length": entry.get("ContentLength"),
        "received_at": entry.get("ReceivedTime"),
    }


def _refers_to(document_id: Any) -> str | None:
    """The id (as in the qlvb service) of the document a business message is about."""
    return None if document_id is None else _key(document_id)


def _read_document(answer: Mapping[str, Any]) -> CanonicalResponse:
    return CanonicalResponse(
        202, _conforming(SubmittedDocument, _document(answer, with_duplicate=True))
    )


def _read_status(answer: Mapping[str, Any]) -> CanonicalResponse:
    document_id = answer.get("DocumentId")
    status = {
        "id": _key(document_id),
        "document_id": document_id,
        **_status(answer),
        "duplicate": answer.get("Duplicate"),
        "warnings": _warnings(answer),
    }
    return CanonicalResponse(202, _conforming(SubmittedStatus, status))


def _read_trail(answer: Mapping[str, Any]) -> CanonicalResponse:
    trail = {
        **_document(answer, with_duplicate=False),
        "destinations": _forwarded(answer),
        "recipients": answer.get("To"),
        "received_at": answer.get("ReceivedTime"),
        "statuses": [_status(entry) for entry in _records(answer.get("Statuses"))],
        "business": [
            {
                "id": entry.get("DocId"),
                "business_type": entry.get("BusinessType"),
                "content_sha256": entry.get("ContentSha256"),
                "content_length": entry.get("ContentLength"),
                "recipients": entry.get("To"),
                "received_at": entry.get("ReceivedTime"),
                "destinations": _forwarded(entry),
            }
            for entry in _records(answer.get("Business", []))  # absent: an axis from before
        ],
    }
    return CanonicalResponse(200, _conforming(Trail, trail))


def _forwarded(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record's destinations, each with the state of its forwarding (`Delivery`)."""
    return [
        {**_destination(item), "delivery": _forwarding(item.get("Delivery"))}
        for item in _records(record.get("Destinations"))
    ]


def _forwarding(delivery: Any) -> dict[str, Any]:
    """`{state, reason}` of the system's `Delivery` (mock addition) of one destination."""
    if not isinstance(delivery, Mapping):
        return {"state": delivery, "reason": None}  # refused by the Trail model
    status, error = delivery.get("LastStatus"), delivery.get("LastError")
    reason = None
    if delivery.get("State") == "dead":
        said = f"HTTP {status}" if isinstance(status, int) else "no answer"
        reason = f"{said}: {error}" if isinstance(error, str) else said
    return {"state": delivery.get("State"), "reason": reason}


def _document(answer: Mapping[str, Any], *, with_duplicate: bool) -> dict[str, Any]:
    """The document's own fields, as the system's `/sendEdoc` and `/getEdocTrail` give them."""
    document_id = answer.get("DocumentId")
    found = {
        "id": _key(document_id),
        "document_id": document_id,
        "sender": answer.get("From"),
        "content_sha256": answer.get("ContentSha256"),
        "content_length": answer.get("ContentLength"),
        "destinations": [_destination(item) for item in _records(answer.get("Destinations"))],
        "central_recipients": _organ_ids({"OrganIds": answer.get("Central", [])}),
    }
    if with_duplicate:
        found["duplicate"] = answer.get("Duplicate")
        found["warnings"] = _warnings(answer)
    return found


def _warnings(answer: Mapping[str, Any]) -> list[dict[str, str]]:
    return answer_warnings(answer, VdxpAnswerInvalid, "The national axis")


def _destination(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "instance": item.get("Instance"),
        "province_code": item.get("ProvinceCode"),
        "organ_ids": item.get("OrganIds"),
    }


def _status(record: Mapping[str, Any]) -> dict[str, Any]:
    code = record.get("StatusCode")
    if not isinstance(code, str) or code not in STATUS_CODES:
        raise VdxpAnswerInvalid("The national axis answered a status code outside edXML's.")
    return {
        "reporter": record.get("From"),
        "status_code": code,
        "status_name": STATUS_CODES[code],
        "timestamp": record.get("Timestamp"),
        "received_at": record.get("ReceivedTime"),
        "destinations": record.get("Destinations"),
    }


def _key(document_id: Any) -> str:
    if not isinstance(document_id, str):
        raise VdxpAnswerInvalid("The national axis's answer has no text DocumentId.")
    return document_key(document_id)


def _records(value: Any) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise VdxpAnswerInvalid("The national axis's answer lacks a list it must have.")
    return value


def _conforming(model: type[BaseModel], value: dict[str, Any]) -> dict[str, Any]:
    """`value`, once it is known to have the published shape; else the system's fault (502)."""
    try:
        model.model_validate(value)
    except ValidationError:
        raise VdxpAnswerInvalid(
            f"The national axis's answer does not make a {model.__name__}."
        ) from None
    return value


def _organ_ids(answer: Mapping[str, Any]) -> list[str]:
    value = answer.get("OrganIds")
    items = value if isinstance(value, list) else []
    return [o for o in items if isinstance(o, str) and re.fullmatch(ORGAN_ID, o)]


_REFUSALS: Mapping[tuple[int, str], Refusal] = {
    (404, "DOCUMENT_NOT_FOUND"): lambda _o, _a: DocumentNotFound(
        "No document with this id crossed the national axis."
    ),
    (422, "INVALID_REQUEST"): lambda _o, _a: InvalidInboxQuery(
        "The national axis refused the inbox query.", errors=[]
    ),
    (422, "UNKNOWN_SENDER"): lambda _o, a: SenderNotServed(
        "The sender is not an agency of a province the axis serves.", organ_ids=_organ_ids(a)
    ),
    (422, "UNKNOWN_RECIPIENT"): lambda _o, a: RecipientNotServed(
        "These recipients are not agencies of a province the axis serves.",
        organ_ids=_organ_ids(a),
    ),
    (422, "NO_REMOTE_RECIPIENT"): lambda _o, _a: NoRemoteRecipient(
        "Every recipient is in the sender's own province, whose endpoint delivers to them."
    ),
    (409, "DOCUMENT_CONFLICT"): lambda _o, _a: DocumentIdConflict(
        "A document with this DocumentId and other content crossed the axis before."
    ),
    (422, "UNKNOWN_CENTRAL_AGENCY"): lambda _o, a: CentralAgencyUnknown(
        "The national axis serves no central body under this code (VPCP is 000.00.00.G22; "
        "others are configured with LGSP_CENTRAL_AGENCIES).",
        organ_ids=_organ_ids(a),
    ),
    (409, "ILLEGAL_STATUS"): illegal_transition,  # a central body's, checked as a province's
    (422, "NOT_A_RECIPIENT_OF_DOCUMENT"): lambda _o, a: NotARecipientOfDocument(
        "A revocation or update goes to the recipients of its document only (or the bodies of "
        "today that succeed them); these received none.",
        organ_ids=_organ_ids(a),
    ),
    (403, "NOT_A_PARTY"): lambda _o, _a: NotAParty(
        "Only the document's sender and the recipients it was forwarded to report its status."
    ),
    (403, "DOCUMENT_ID_OF_ANOTHER_AGENCY"): lambda _o, a: DocumentIdOfAnotherAgency(
        "A document's DocumentId names its sender: one naming another agency the axis serves "
        "would take the place of that agency's own document.",
        organ_ids=_organ_ids(a),
    ),
    (403, "NOT_OF_CALLING_PROVINCE"): lambda _o, a: NotOfCallingProvince(
        "A province's LGSP submits only what its own agencies send or report.",
        organ_ids=_organ_ids(a),
    ),
    (503, "NOT_CONNECTED"): lambda _o, _a: AxisCannotForward(
        "The national axis has no access to the bus, so it cannot forward the message."
    ),
}

_OPERATIONS: Mapping[str, _Operation] = {
    SUBMIT_DOCUMENT: _Operation(_document_request, _read_document),
    SUBMIT_STATUS: _Operation(_status_request, _read_status),
    GET_TRAIL: _Operation(_trail_request, _read_trail),
    SEND_CENTRAL_DOCUMENT: _Operation(lambda r: _document_request(_central(r)), _read_document),
    SEND_CENTRAL_STATUS: _Operation(lambda r: _status_request(_central(r)), _read_status),
    GET_CENTRAL_INBOX: _Operation(_central_inbox_request, _read_central_inbox),
    GET_CENTRAL_MESSAGE: _Operation(_central_message_request, _read_central_message),
}


class VdxpAdapter(SdkAdapter[_Operation]):
    """The `vdxp` adapter; it keeps no clock (`today` keeps the gateway's one constructor)."""

    adapter = "vdxp"
    system = "The national axis"
    invalid = VdxpAnswerInvalid
    operations = _OPERATIONS
    refusals = _REFUSALS
    strict_operations = frozenset(
        {SUBMIT_DOCUMENT, SUBMIT_STATUS, SEND_CENTRAL_DOCUMENT, SEND_CENTRAL_STATUS}
    )

    def __init__(self, *, today: Callable[[], date]) -> None:
        del today

    def to_system(self, request: CanonicalRequest) -> SystemRequest:
        return self._operation(request).to_system(request)


_SUBMIT_ERRORS: tuple[type[TranslationError], ...] = (
    InvalidEdxml,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    UnsupportedMediaType,
    AxisCannotForward,
    NotOfCallingProvince,
    DocumentIdOfAnotherAgency,
)


def _submission(model: type[BaseModel], *errors: type[TranslationError]) -> OperationContract:
    """An edXML message submitted (202 `model`), with its refusals and every submission's."""
    return OperationContract(
        model,
        status=202,
        request=EdxmlMessage,
        request_media_types=_XML,
        errors=(*errors, *_SUBMIT_ERRORS),
    )


_CENTRAL = (NotACentralAgency, CentralAgencyUnknown)

CONTRACTS: Mapping[str, OperationContract] = {
    SUBMIT_DOCUMENT: _submission(
        SubmittedDocument,
        SenderNotServed,
        RecipientNotServed,
        NoRemoteRecipient,
        DocumentIdConflict,
        NotARecipientOfDocument,
    ),
    SUBMIT_STATUS: _submission(SubmittedStatus, DocumentNotFound, NotAParty),
    GET_TRAIL: OperationContract(Trail, errors=(DocumentNotFound,)),
    SEND_CENTRAL_DOCUMENT: _submission(
        SubmittedDocument,
        *_CENTRAL,
        RecipientNotServed,
        DocumentIdConflict,
        NotARecipientOfDocument,
    ),
    SEND_CENTRAL_STATUS: _submission(
        SubmittedStatus, *_CENTRAL, DocumentNotFound, NotAParty, IllegalStatusTransition
    ),
    GET_CENTRAL_INBOX: OperationContract(
        CentralInbox, query=InboxQuery, errors=(InvalidInboxQuery, *_CENTRAL)
    ),
    GET_CENTRAL_MESSAGE: OperationContract(
        CentralMessage, query=CentralMessageQuery, errors=(DocumentNotFound,)
    ),
}
