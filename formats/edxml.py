"""edXML (QCVN 102:2016/BTTTT) documents and status messages to and from canonical JSON.

Agencies exchange official documents as edXML under Thông tư 10/2016/TT-BTTTT; the bus's
clients see the plain JSON of DOMAIN.md §8.3 instead. Both directions are pure and lossless:
`parse_edxml(render_edxml(d)) == validate_document(d)` for every valid canonical document.

Followed (DOMAIN.md §3): the envelope and element names, `Bussiness` spelling included;
MessageHeader's From, To, DocumentId, Code, PromulgationInfo, DocumentType, Subject, Content,
SignerInfo, DueDate, OtherInfo, SteeringType and ToPlaces; TraceHeaderList with TraceHeader and
Bussiness (BussinessDocType, BussinessDocReason, DocumentId, Paper, StaffInfo,
ReplacementInfoList); the manifest and AttachmentEncoded with base64 content; the status message
(§3.4) and its codes (§3.6); `yyyy/MM/dd` dates and `yyyy/MM/dd HH:mm:ss` timestamps (§3.5).

Simplified: the XML-DSig `Signature` is neither checked nor written. ResponseFor (in
documents), ResponseForTask, ApplicationType, ReplyFors, ReferenceCodes, BussinessDocumentInfo,
StaffInfo's DepartmentId/StaffId, attachment `Format` and all attributes are read past and
dropped, and element order is not enforced on input, so `render_edxml(parse_edxml(x))` is a
normalisation of `x`, stable from then on. Text is kept exactly, leading and trailing
whitespace included (a carriage return is written as `&#13;` so that XML's line-end handling
cannot eat it); numbers, dates, ids and codes may be padded with whitespace on input and are
written bare. Organisation ids must have the strict form of DOMAIN.md §8.2.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from formats._edxml_fields import (
    NAMESPACE,
    PREFIX,
    STATUS_CODES,
    Field,
    Nonconformity,
    Writer,
    check_code,
    children,
    decode_base64,
    field_from_json,
    field_from_xml,
    json_list,
    json_object,
    json_required,
    leaf_text,
    missing_required,
    need,
    nonconforming,
    noting,
    one,
    record_from_json,
    record_from_xml,
    refuse_missing,
    text_list_from_json,
    text_list_from_xml,
    xml_text,
)
from formats._xml_guard import DEFAULT_LIMITS, EdxmlLimits, InvalidEdxml, Node, parse_xml

__all__ = [
    "DEFAULT_LIMITS",
    "NAMESPACE",
    "STATUS_CODES",
    "Claims",
    "EdxmlLimits",
    "InvalidEdxml",
    "Nonconformity",
    "Reading",
    "document_id_organ",
    "parse_edxml",
    "parse_status",
    "read_claims",
    "read_edxml",
    "read_status",
    "render_edxml",
    "render_status",
    "response_for",
    "validate_document",
    "validate_status",
]

_ORGANISATION = (
    Field("organ_id", "OrganId", "organ_id", True, essential=True),
    Field("organization_in_charge", "OrganizationInCharge"),
    Field("organ_name", "OrganName", "name", True),
    Field("organ_add", "OrganAdd"),
    Field("email", "Email"),
    Field("telephone", "Telephone"),
    Field("fax", "Fax"),
    Field("website", "Website"),
)

_CODE = (
    Field("code_number", "CodeNumber", "name", True, essential=True),
    Field("code_notation", "CodeNotation", required=True, essential=True),
)

_PROMULGATION = (
    Field("place", "Place", required=True),
    Field("date", "PromulgationDate", "date", True, essential=True),
)

_DOCUMENT_TYPE = (
    Field("type", "Type", "int", True),
    Field("type_detail", "TypeDetail", "int"),
    Field("type_name", "TypeName", "name", True),
)

_SIGNER = (
    Field("competence", "Competence"),
    Field("position", "Position", required=True),
    Field("full_name", "FullName", "name", True),
)

_OTHER_INFO = (
    Field("priority", "Priority", "int", True),
    Field("sphere_of_promulgation", "SphereOfPromulgation"),
    Field("typer_notation", "TyperNotation"),
    Field("promulgation_amount", "PromulgationAmount", "int"),
    Field("page_amount", "PageAmount", "int"),
    Field("direction", "Direction", "bool"),
)

# MessageHeader's records in their edXML order, each under its own element.
_HEADER_RECORDS = (
    ("code", "Code", _CODE),
    ("promulgation", "PromulgationInfo", _PROMULGATION),
    ("document_type", "DocumentType", _DOCUMENT_TYPE),
)

_SUBJECT = Field("subject", "Subject", "name", True)

_CONTENT = Field("content", "Content")

_DUE_DATE = Field("due_date", "DueDate", "date")

_STEERING_TYPE = Field("steering_type", "SteeringType", "flag")

_DOCUMENT_ID_FIELD = Field("document_id", "DocumentId", "document_id")

_TRACE_HEADER = (
    Field("organ_id", "OrganId", "organ_id", True),
    Field("timestamp", "Timestamp", "datetime", True),
)

_BUSINESS = (
    Field("business_doc_type", "BussinessDocType", "business_type", True),
    Field("business_doc_reason", "BussinessDocReason"),
    Field("document_id", "DocumentId", "document_id"),
    Field("paper", "Paper", "flag"),
)

# Bussiness/ReplacementInfoList/ReplacementInfo: the replaced document and who received it.
_REPLACED = Field("document_id", "DocumentId", "document_id", True)
_ORGAN_ID = Field("organ_id", "OrganId", "organ_id", True)
_STAFF_INFO = (
    Field("department", "Department"),
    Field("staff", "Staff"),
    Field("mobile", "Mobile"),
    Field("email", "Email"),
)

_ATTACHMENT = (
    Field("content_id", "ContentId", "content_id", True, essential=True),
    Field("attachment_name", "AttachmentName", "name", True),
    Field("description", "Description"),
    Field("content_type", "ContentType", "name", True),
)

# The manifest repeats the metadata; only its ContentId must be there (DOMAIN.md §3.1).
_REFERENCE = tuple(replace(f, required=f.key == "content_id") for f in _ATTACHMENT)

_RESPONSE_FOR = (
    Field("organ_id", "OrganId", "organ_id", True, essential=True),
    Field("code", "Code", "name", True),
    Field("promulgation_date", "PromulgationDate", "date", True),
    Field("document_id", "DocumentId", "document_id", True, essential=True),
)

_STATUS_FIELDS = (
    Field("status_code", "StatusCode", "status_code", True, essential=True),
    Field("description", "Description"),
    Field("timestamp", "Timestamp", "datetime", True, essential=True),
)

_DOCUMENT_KEYS = (
    "from", "to", "document_id", "code", "promulgation", "document_type", "subject", "content",
    "signer", "due_date", "to_places", "other_info", "steering_type", "trace_headers",
    "business", "attachments",
)  # fmt: skip

# Required keys of a canonical document and of a status message, with their records' fields.
_REQUIRED_IN_DOCUMENT: tuple[tuple[str, tuple[Field, ...] | None], ...] = (
    ("from", _ORGANISATION),
    ("to", None),
    *((key, spec) for key, _tag, spec in _HEADER_RECORDS),
    ("subject", None),
    ("signer", _SIGNER),
    ("other_info", _OTHER_INFO),
)
_REQUIRED_IN_STATUS: tuple[tuple[str, tuple[Field, ...] | None], ...] = (
    ("response_for", _RESPONSE_FOR),
    ("from", _ORGANISATION),
    *((f.key, None) for f in _STATUS_FIELDS if f.required),
)

_STATUS_KEYS = (
    "response_for", "from", "status_code", "description", "timestamp", "staff_info",
    "trace_headers",
)  # fmt: skip


def validate_document(
    document: Mapping[str, Any], *, limits: EdxmlLimits = DEFAULT_LIMITS
) -> dict[str, Any]:
    """A normalised copy of a canonical document, or InvalidEdxml naming the first bad field.

    Normalising fills absent optional keys with None (lists with []), derives `document_id`
    when it is absent, re-encodes attachments as canonical base64 and sets their `size_bytes`.
    """
    doc = json_object(document, "document", _DOCUMENT_KEYS)
    refuse_missing("document", missing_required(doc, _REQUIRED_IN_DOCUMENT))
    out: dict[str, Any] = {
        "from": record_from_json(json_required(doc, "from", "document"), _ORGANISATION, "from"),
        "to": [
            record_from_json(item, _ORGANISATION, f"to[{i}]")
            for i, item in enumerate(json_list(doc.get("to"), "to", required=True))
        ],
    }
    for key, _tag, spec in (*_HEADER_RECORDS, ("signer", "SignerInfo", _SIGNER)):
        out[key] = record_from_json(json_required(doc, key, "document"), spec, key)
    for f in (_SUBJECT, _CONTENT, _DUE_DATE, _STEERING_TYPE, _DOCUMENT_ID_FIELD):
        out[f.key] = field_from_json(f, doc.get(f.key), f.key)
    _check_lengths(out, limits, "")
    out["to_places"] = text_list_from_json(doc.get("to_places"), "to_places")
    other = json_object(
        json_required(doc, "other_info", "document"), "other_info", ("appendixes",), _OTHER_INFO
    )
    out["other_info"] = record_from_json(other, _OTHER_INFO, "other_info", ("appendixes",))
    out["other_info"]["appendixes"] = text_list_from_json(
        other.get("appendixes"), "other_info.appendixes"
    )
    out["trace_headers"] = [
        record_from_json(item, _TRACE_HEADER, f"trace_headers[{i}]")
        for i, item in enumerate(json_list(doc.get("trace_headers"), "trace_headers"))
    ]
    business = doc.get("business")
    out["business"] = None if business is None else _business_from_json(business)
    items = json_list(doc.get("attachments"), "attachments")
    _check_attachment_count(len(items), limits)
    out["attachments"] = [
        _attachment_from_json(item, f"attachments[{i}]", limits) for i, item in enumerate(items)
    ]
    _check_unique_content_ids(out["attachments"], "attachments")
    if out["document_id"] is None:
        out["document_id"] = _derive_document_id(out)
    return out


def parse_edxml(data: bytes, *, limits: EdxmlLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The canonical form of an edXML document, or InvalidEdxml with a stable `rule`."""
    root, header, body = _envelope(data, limits)
    message = need(header, "MessageHeader", "edXMLHeader")
    where = "MessageHeader"
    out: dict[str, Any] = {
        "from": record_from_xml(need(message, "From", where), _ORGANISATION, f"{where}/From"),
        "to": [
            record_from_xml(node, _ORGANISATION, f"{where}/To[{i}]")
            for i, node in enumerate(children(message, "To"))
        ],
    }
    if not out["to"]:
        raise InvalidEdxml(f"{where} has no To element.", rule="missing_field")
    for key, tag, spec in (*_HEADER_RECORDS, ("signer", "SignerInfo", _SIGNER)):
        out[key] = record_from_xml(need(message, tag, where), spec, f"{where}/{tag}")
    for f in (_SUBJECT, _CONTENT, _DUE_DATE, _STEERING_TYPE, _DOCUMENT_ID_FIELD):
        out[f.key] = field_from_xml(message, f, where)
    _check_lengths(out, limits, f"{where}/")
    out["to_places"] = text_list_from_xml(message, "ToPlaces", "Place", where)
    other = need(message, "OtherInfo", where)
    out["other_info"] = record_from_xml(other, _OTHER_INFO, f"{where}/OtherInfo")
    out["other_info"]["appendixes"] = text_list_from_xml(
        other, "Appendixes", "Appendix", f"{where}/OtherInfo"
    )
    out["trace_headers"], business = _trace_from_xml(header)
    out["business"] = None if business is None else _business_from_xml(business)
    out["attachments"] = _attachments_from_xml(root, body, limits)
    if out["document_id"] is None:
        out["document_id"] = _derive_document_id(out)
    elif out["document_id"] != _expected_document_id(out):
        # Status messages find their document by this id (ResponseFor/DocumentId, §3.4); the
        # SDK's own edoc_new names another sender, date and number in it than in its header.
        nonconforming(
            "MessageHeader/DocumentId must be {From/OrganId},{PromulgationDate},"
            "{CodeNumber}/{CodeNotation} (QCVN 102:2016).",
            rule="document_id_mismatch",
        )
    return out


@dataclass(frozen=True)
class Reading:
    """A message read as the national axis reads it: its canonical form, and each departure
    from QCVN 102 in it that a strict reader (`parse_edxml`, `parse_status`) would refuse."""

    message: dict[str, Any]
    nonconformities: tuple[Nonconformity, ...] = ()


def read_edxml(
    data: bytes, *, limits: EdxmlLimits = DEFAULT_LIMITS, strict: bool = False
) -> Reading:
    """An edXML document, its nonconformities noted; `strict`: refused at the first, as
    `parse_edxml` does. What is not XML, hostile or unroutable is refused either way."""
    if strict:
        return Reading(parse_edxml(data, limits=limits))
    with noting() as found:
        document = parse_edxml(data, limits=limits)
    return Reading(document, tuple(found))


def read_status(
    data: bytes, *, limits: EdxmlLimits = DEFAULT_LIMITS, strict: bool = False
) -> Reading:
    """An edXML status message, read as `read_edxml` reads a document."""
    if strict:
        return Reading(parse_status(data, limits=limits))
    with noting() as found:
        status = parse_status(data, limits=limits)
    return Reading(status, tuple(found))


class Claims(NamedTuple):
    """Whom an edXML message says it is from (From/OrganId), and the DocumentId it declares
    (None when it has none: a status message names its document in ResponseFor only)."""

    sender: str
    document_id: str | None


def read_claims(data: bytes, *, limits: EdxmlLimits = DEFAULT_LIMITS) -> Claims:
    """What an edXML document or status message claims, read as `read_edxml` and
    `read_status` read it, and nothing else: for the bus to bind it to its caller's
    organisation. InvalidEdxml when it names no sender."""
    _root, header, _body = _envelope(data, limits)
    message = need(header, "MessageHeader", "edXMLHeader")
    sender = need(message, "From", "MessageHeader")
    with noting():  # leniently, as the readers the message goes on to
        organ_id: str = field_from_xml(sender, _ORGANISATION[0], "MessageHeader/From")
        try:
            document_id: str | None = field_from_xml(message, _DOCUMENT_ID_FIELD, "MessageHeader")
        except InvalidEdxml:  # the reader it goes on to refuses it, with its own rule
            document_id = None
    return Claims(organ_id, document_id)


def document_id_organ(document_id: str) -> str:
    """The organisation a DocumentId names (`{organId},{date},{number}/{notation}`, §3.2)."""
    return document_id.partition(",")[0]


def render_edxml(document: Mapping[str, Any], *, limits: EdxmlLimits = DEFAULT_LIMITS) -> bytes:
    """The edXML (UTF-8) of a canonical document; validates it first (see validate_document)."""
    doc = validate_document(document, limits=limits)
    w = _message_header(doc["from"])
    for organisation in doc["to"]:
        w.record("To", _ORGANISATION, organisation)
    w.fields((_DOCUMENT_ID_FIELD,), doc)
    for key, tag, spec in _HEADER_RECORDS:
        w.record(tag, spec, doc[key])
    w.fields((_SUBJECT, _CONTENT), doc)
    w.record("SignerInfo", _SIGNER, doc["signer"])
    w.fields((_DUE_DATE,), doc)
    w.open(f"{PREFIX}OtherInfo")
    w.fields(_OTHER_INFO, doc["other_info"])
    w.text_list("Appendixes", "Appendix", doc["other_info"]["appendixes"])
    w.close(f"{PREFIX}OtherInfo")
    w.fields((_STEERING_TYPE,), doc)
    w.text_list("ToPlaces", "Place", doc["to_places"])
    w.close(f"{PREFIX}MessageHeader")
    _write_trace(w, doc["trace_headers"], doc["business"])
    w.close(f"{PREFIX}edXMLHeader")
    w.open(f"{PREFIX}edXMLBody")
    w.open(f"{PREFIX}edXMLManifest", ' version="1.0"')
    for attachment in doc["attachments"]:
        w.open(f"{PREFIX}Reference")
        w.fields(_REFERENCE, attachment)
        w.close(f"{PREFIX}Reference")
    w.close(f"{PREFIX}edXMLManifest")
    w.close(f"{PREFIX}edXMLBody")
    w.close(f"{PREFIX}edXMLEnvelope")
    if doc["attachments"]:
        # Outside the envelope, children unprefixed (default namespace) but for the content,
        # as in the VPCP sample (DOMAIN.md §3.1).
        w.open("AttachmentEncoded")
        for attachment in doc["attachments"]:
            w.open("Attachment")
            w.fields(_ATTACHMENT, attachment, prefix="")
            w.leaf(f"{PREFIX}ContentTransferEncoded", attachment["content_base64"])
            w.close("Attachment")
        w.close("AttachmentEncoded")
    w.close("edXML")
    return w.to_bytes()


def _message_header(sender: Mapping[str, Any]) -> Writer:
    """A writer inside MessageHeader with the sender's From written: a document and a status
    message begin alike (DOMAIN.md §3.1, §3.4)."""
    w = Writer()
    w.open("edXML", f' xmlns="{NAMESPACE}" xmlns:edXML="{NAMESPACE}"')
    w.open(f"{PREFIX}edXMLEnvelope")
    w.open(f"{PREFIX}edXMLHeader")
    w.open(f"{PREFIX}MessageHeader")
    w.record("From", _ORGANISATION, sender)
    return w


def validate_status(status: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised copy of a canonical status message, or InvalidEdxml."""
    doc = json_object(status, "status", _STATUS_KEYS)
    refuse_missing("status", missing_required(doc, _REQUIRED_IN_STATUS))
    response_for = json_required(doc, "response_for", "status")
    out: dict[str, Any] = {
        "response_for": record_from_json(response_for, _RESPONSE_FOR, "response_for"),
        "from": record_from_json(json_required(doc, "from", "status"), _ORGANISATION, "from"),
    }
    for f in _STATUS_FIELDS:
        out[f.key] = field_from_json(f, doc.get(f.key), f.key)
    staff = doc.get("staff_info")
    out["staff_info"] = (
        None if staff is None else record_from_json(staff, _STAFF_INFO, "staff_info")
    )
    out["trace_headers"] = [
        record_from_json(item, _TRACE_HEADER, f"trace_headers[{i}]")
        for i, item in enumerate(json_list(doc.get("trace_headers"), "trace_headers"))
    ]
    return out


def parse_status(data: bytes, *, limits: EdxmlLimits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The canonical form of an edXML status message, or InvalidEdxml."""
    _root, header, _body = _envelope(data, limits)
    message = need(header, "MessageHeader", "edXMLHeader")
    where = "MessageHeader"
    response_for = need(message, "ResponseFor", where)
    out: dict[str, Any] = {
        "response_for": record_from_xml(response_for, _RESPONSE_FOR, f"{where}/ResponseFor"),
        "from": record_from_xml(need(message, "From", where), _ORGANISATION, f"{where}/From"),
    }
    for f in _STATUS_FIELDS:
        out[f.key] = field_from_xml(message, f, where)
    staff = one(message, "StaffInfo", where, required=False)
    out["staff_info"] = (
        None if staff is None else record_from_xml(staff, _STAFF_INFO, f"{where}/StaffInfo")
    )
    out["trace_headers"], _business = _trace_from_xml(header)
    return out


def render_status(status: Mapping[str, Any]) -> bytes:
    """The edXML (UTF-8) of a canonical status message; validates it first.

    The fields sit in MessageHeader in the order of the VDXP SDK's samples (From, ResponseFor,
    StaffInfo, StatusCode, Description, Timestamp: order-sensitive JAXB readers expect it), with
    a TraceHeaderList only when there are trace headers, and no body (DOMAIN.md §3.4; one C#
    client instead wraps them in `edXML:Status` inside a SOAP header, which we do not).
    """
    doc = validate_status(status)
    w = _message_header(doc["from"])
    w.record("ResponseFor", _RESPONSE_FOR, doc["response_for"])
    if doc["staff_info"] is not None:
        w.record("StaffInfo", _STAFF_INFO, doc["staff_info"])
    w.fields(_STATUS_FIELDS, doc)
    w.close(f"{PREFIX}MessageHeader")
    if doc["trace_headers"]:
        _write_trace(w, doc["trace_headers"], None)
    w.close(f"{PREFIX}edXMLHeader")
    w.close(f"{PREFIX}edXMLEnvelope")
    w.close("edXML")
    return w.to_bytes()


def response_for(document: Mapping[str, Any], document_id: str) -> dict[str, Any]:
    """The ResponseFor of a status message about a canonical `document`: its sender, code and
    promulgation date, and the DocumentId it travels under."""
    code = document["code"]
    return {
        "organ_id": document["from"]["organ_id"],
        "code": f"{code['code_number']}/{code['code_notation']}",
        "promulgation_date": document["promulgation"]["date"],
        "document_id": document_id,
    }


def _business_from_json(value: Any) -> dict[str, Any]:
    extra = ("staff_info", "replacement_info")
    business = json_object(value, "business", extra, _BUSINESS)
    out = record_from_json(business, _BUSINESS, "business", extra)
    staff = business.get("staff_info")
    out["staff_info"] = (
        None if staff is None else record_from_json(staff, _STAFF_INFO, "business.staff_info")
    )
    replacements = []
    for i, item in enumerate(
        json_list(business.get("replacement_info"), "business.replacement_info")
    ):
        where = f"business.replacement_info[{i}]"
        record = json_object(item, where, ("organ_ids",), (_REPLACED,))
        organ_ids = [
            field_from_json(_ORGAN_ID, organ_id, f"{where}.organ_ids[{j}]")
            for j, organ_id in enumerate(json_list(record.get("organ_ids"), f"{where}.organ_ids"))
        ]
        replacements.append(
            {
                **record_from_json(record, (_REPLACED,), where, ("organ_ids",)),
                "organ_ids": organ_ids,
            }
        )
    out["replacement_info"] = replacements
    return out


def _attachment_from_json(value: Any, where: str, limits: EdxmlLimits) -> dict[str, Any]:
    record = json_object(value, where, ("content_base64", "size_bytes"), _ATTACHMENT)
    out = record_from_json(record, _ATTACHMENT, where, ("content_base64", "size_bytes"))
    encoded = json_required(record, "content_base64", where)
    if not isinstance(encoded, str):
        raise InvalidEdxml(f"{where}.content_base64 must be a string.", rule="bad_base64")
    content = decode_base64(encoded, f"{where}.content_base64", limits)
    declared = record.get("size_bytes")
    if declared is not None:
        if isinstance(declared, bool) or not isinstance(declared, int):
            raise InvalidEdxml(f"{where}.size_bytes must be an integer.", rule="bad_number")
        if declared != len(content):
            raise InvalidEdxml(
                f"{where}.size_bytes does not match the decoded content's size.",
                rule="attachment_size_mismatch",
            )
    out["content_base64"] = base64.b64encode(content).decode("ascii")
    out["size_bytes"] = len(content)
    return out


def _envelope(data: bytes, limits: EdxmlLimits) -> tuple[Node, Node, Node | None]:
    root = parse_xml(data, limits)
    if root.tag != f"{{{NAMESPACE}}}edXML":
        raise InvalidEdxml(
            f"The root element must be edXML in the namespace {NAMESPACE} (QCVN 102:2016).",
            rule="not_edxml",
        )
    envelope = need(root, "edXMLEnvelope", "edXML")
    header = need(envelope, "edXMLHeader", "edXMLEnvelope")
    body = one(envelope, "edXMLBody", "edXMLEnvelope", required=False)
    return root, header, body


def _trace_from_xml(header: Node) -> tuple[list[dict[str, Any]], Node | None]:
    trace = one(header, "TraceHeaderList", "edXMLHeader", required=False)
    if trace is None:
        return [], None
    headers = [
        record_from_xml(node, _TRACE_HEADER, f"TraceHeaderList/TraceHeader[{i}]")
        for i, node in enumerate(children(trace, "TraceHeader"))
    ]
    return headers, one(trace, "Bussiness", "TraceHeaderList", required=False)


def _business_from_xml(node: Node) -> dict[str, Any]:
    where = "TraceHeaderList/Bussiness"
    out = record_from_xml(node, _BUSINESS, where)
    staff = one(node, "StaffInfo", where, required=False)
    out["staff_info"] = (
        None if staff is None else record_from_xml(staff, _STAFF_INFO, f"{where}/StaffInfo")
    )
    replacements = []
    container = one(node, "ReplacementInfoList", where, required=False)
    for i, item in enumerate([] if container is None else children(container, "ReplacementInfo")):
        path = f"{where}/ReplacementInfoList/ReplacementInfo[{i}]"
        organ_ids = [
            check_code("organ_id", text.strip(" \t\r\n"), f"{path}/OrganIdList/OrganId")
            for text in text_list_from_xml(item, "OrganIdList", "OrganId", path)
        ]
        replacements.append({**record_from_xml(item, (_REPLACED,), path), "organ_ids": organ_ids})
    out["replacement_info"] = replacements
    return out


def _attachments_from_xml(
    root: Node, body: Node | None, limits: EdxmlLimits
) -> list[dict[str, Any]]:
    encoded = one(root, "AttachmentEncoded", "edXML", required=False)
    items = [] if encoded is None else children(encoded, "Attachment")
    manifest = None if body is None else one(body, "edXMLManifest", "edXMLBody", required=False)
    references = [] if manifest is None else children(manifest, "Reference")
    _check_attachment_count(max(len(items), len(references)), limits)
    by_id: dict[str, dict[str, Any]] = {}
    for i, node in enumerate(references):
        record = record_from_xml(node, _REFERENCE, f"edXMLManifest/Reference[{i}]")
        if record["content_id"] in by_id:
            raise InvalidEdxml(
                "Two manifest References share a content id.", rule="duplicate_field"
            )
        by_id[record["content_id"]] = record
    out: list[dict[str, Any]] = []
    for i, node in enumerate(items):
        where = f"AttachmentEncoded/Attachment[{i}]"
        record = record_from_xml(node, _ATTACHMENT, where)
        _check_unique_content_ids([*out, record], "attachments in AttachmentEncoded")
        reference = by_id.pop(record["content_id"], None)
        if reference is None:
            raise InvalidEdxml(
                f"{where} has no Reference in the manifest.", rule="attachment_mismatch"
            )
        for f in _REFERENCE:
            if reference[f.key] is not None and reference[f.key] != record[f.key]:
                raise InvalidEdxml(
                    f"{where}/{f.tag} differs from its manifest Reference.",
                    rule="attachment_mismatch",
                )
        text = leaf_text(need(node, "ContentTransferEncoded", where), where)
        content = decode_base64(text, f"{where}/ContentTransferEncoded", limits)
        record["content_base64"] = base64.b64encode(content).decode("ascii")
        record["size_bytes"] = len(content)
        out.append(record)
    if by_id:
        raise InvalidEdxml(
            "A manifest Reference has no attachment in AttachmentEncoded.",
            rule="attachment_mismatch",
        )
    return out


def _check_lengths(document: Mapping[str, Any], limits: EdxmlLimits, prefix: str) -> None:
    """Subject and content within their limits, named as the side that sent them names them."""
    for f, limit in ((_SUBJECT, limits.max_subject_chars), (_CONTENT, limits.max_content_chars)):
        value = document.get(f.key)
        if value is not None and len(value) > limit:
            name = f"{prefix}{f.tag}" if prefix else f.key
            raise InvalidEdxml(f"{name} is longer than {limit} characters.", rule="too_long")


def _check_attachment_count(count: int, limits: EdxmlLimits) -> None:
    if count > limits.max_attachments:
        raise InvalidEdxml(
            f"The message has more than {limits.max_attachments} attachments.",
            rule="too_many_attachments",
        )


def _check_unique_content_ids(attachments: Sequence[Mapping[str, Any]], where: str) -> None:
    ids = [attachment["content_id"] for attachment in attachments]
    if len(set(ids)) != len(ids):
        raise InvalidEdxml(f"Two {where} share a content id.", rule="duplicate_field")


def _expected_document_id(document: Mapping[str, Any]) -> str:
    code = document["code"]
    return (
        f"{document['from']['organ_id']},{xml_text('date', document['promulgation']['date'])},"
        f"{code['code_number']}/{code['code_notation']}"
    )


def _derive_document_id(document: Mapping[str, Any]) -> str:
    """`{organId},{yyyy/MM/dd},{number}/{notation}` from From, PromulgationInfo and Code (§3.2)."""
    code = document["code"]
    derived = (
        f"{document['from']['organ_id']},{xml_text('date', document['promulgation']['date'])},"
        f"{code['code_number']}/{code['code_notation']}"
    )
    return check_code(
        "document_id", derived, "document_id (derived from from, promulgation and code)"
    )


def _write_trace(
    w: Writer, headers: Sequence[Mapping[str, Any]], business: Mapping[str, Any] | None
) -> None:
    w.open(f"{PREFIX}TraceHeaderList")
    for trace_header in headers:
        w.record("TraceHeader", _TRACE_HEADER, trace_header)
    if business is not None:
        w.open(f"{PREFIX}Bussiness")
        w.fields(_BUSINESS, business)
        if business["staff_info"] is not None:
            w.record("StaffInfo", _STAFF_INFO, business["staff_info"])
        if business["replacement_info"]:
            w.open(f"{PREFIX}ReplacementInfoList")
            for replacement in business["replacement_info"]:
                w.open(f"{PREFIX}ReplacementInfo")
                w.fields((_REPLACED,), replacement)
                w.text_list("OrganIdList", "OrganId", replacement["organ_ids"])
                w.close(f"{PREFIX}ReplacementInfo")
            w.close(f"{PREFIX}ReplacementInfoList")
        w.close(f"{PREFIX}Bussiness")
    w.close(f"{PREFIX}TraceHeaderList")
