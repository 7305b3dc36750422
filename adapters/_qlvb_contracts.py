"""The canonical shapes and refusals of the `qlvb` operations, for the published contract.

The adapter builds plain JSON (`qlvb.py`); these models describe it, with extra fields
forbidden, and the tests validate real answers against them so the document cannot drift. The
document a client sends is `_qlvb_document.CanonicalDocument`.
Each refusal is a `TranslationError` with its own stable code (RFC 9457 problem `code`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from adapters._qlvb_document import CanonicalDocument as CanonicalDocument
from adapters.base import AnswerInvalid, TranslationError
from formats.codes import ORGAN_ID


class StaffInfo(BaseModel):
    """StaffInfo of a status message (DOMAIN.md §3.3, §3.4)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    department: str | None = Field(default=None, max_length=200)
    staff: str | None = Field(default=None, max_length=200)
    mobile: str | None = Field(default=None, max_length=20)
    email: str | None = Field(default=None, max_length=254)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Organisation(_Shape):
    """An edXML organisation (From, To; DOMAIN.md §3.2, §8.3)."""

    organ_id: str = Field(pattern=ORGAN_ID)
    organization_in_charge: str | None
    organ_name: str | None
    organ_add: str | None
    email: str | None
    telephone: str | None
    fax: str | None
    website: str | None


class EdxmlMessage(RootModel[str]):
    """An edXML message (QCVN 102:2016), UTF-8, exactly as the other province sent it."""


class RecipientStatus(_Shape):
    organ_id: str = Field(pattern=ORGAN_ID)
    status: str | None = Field(description="edXML StatusCode (§3.6); null before 01 arrives.")


class EdxmlWarning(_Shape):
    """A departure from QCVN 102 the system took anyway, as the national axis does.

    `rule` is the code a strict reader refuses it with (`Prefer: handling=strict`): for example
    `bad_organ_id` (an organisation id not of the shape `NNN.NN.NN.XNN`),
    `document_id_mismatch` (a DocumentId that does not name the header's sender, date and
    number), `missing_field` (a field the standard requires).
    """

    rule: str = Field(pattern=r"^[a-z_]{1,40}$")
    detail: str = Field(description="Names the element, never its value.")


_WARNINGS: Any = Field(
    default_factory=list,
    description="What in the message departs from QCVN 102 (empty when nothing does).",
)


class SignatureView(_Shape):
    """The receiving system's check of the message's XML-DSig signature (formats/xmldsig.py).

    `reason` says why it is not valid: missing, malformed (not XML-DSig, as in the SDK's own
    samples), unsupported (an algorithm outside the bus's list), tampered, untrusted, expired,
    revoked, revocation_undetermined (the issuer's CRLs are none current, RFC 5280 §6.3.3),
    signer_not_sender (the certificate's UID is not the message's From/OrganId, its
    sender or reporter) or signer_unidentified (the certificate has no UID: it names no agency).
    Checked now, by the system holding the document, against the roots it trusts.
    `weak`: rsa-sha1, sha1 or inclusive C14N, the SDK's choices, verified but flagged.
    """

    present: bool
    valid: bool
    algorithm: str | None
    weak: bool
    subject: str | None
    issuer: str | None
    serial: str | None = Field(description="The signer's certificate serial, hex.")
    not_after: str | None
    reason: str | None


_ID: Any = Field(
    description="The message's id in this API: a document's is its DocumentId, encoded; a "
    "revocation, update or replacement, which shares its document's DocumentId, has its own, "
    "the DocId the document system gave it (a UUID). Read either with get_document."
)
_BUSINESS_TYPE: Any = Field(
    default=None,
    ge=0,
    le=3,
    description="Bussiness/BussinessDocType (DOMAIN.md §3.3): 0 a document, 1 a revocation, 2 "
    "an update, 3 a replacement of the document `refers_to` names; null when the system does "
    "not say.",
)
_REFERS_TO: Any = Field(
    default=None,
    description="For a revocation, update or replacement: the id of the document it is about "
    "(which keeps its own id and entry); null for a document.",
)


class SentDocument(_Shape):
    id: str = _ID
    document_id: str = Field(description="edXML DocumentId: {organId},{yyyy/MM/dd},{n}/{code}")
    recipients: list[RecipientStatus]
    duplicate: bool = Field(description="True when the same message had been sent before.")
    warnings: list[EdxmlWarning] = _WARNINGS
    signature: SignatureView | None = None
    business_type: int | None = _BUSINESS_TYPE
    refers_to: str | None = _REFERS_TO


class InboxItem(_Shape):
    """A document or business message delivered to the agency (`kind=edoc`)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = _ID
    document_id: str
    organ_id: str = Field(
        pattern=ORGAN_ID,
        description="The recipient it was addressed to (To/OrganId), whose delivery it is: the "
        "agency's own, or a closed body's the agency succeeds (its inbox lists what was sent to "
        "its predecessors too).",
    )
    from_: Organisation = Field(alias="from")
    subject: str
    received_at: datetime
    status: str | None
    business_type: int | None = _BUSINESS_TYPE
    refers_to: str | None = _REFERS_TO
    signature: SignatureView | None = Field(
        default=None,
        description="The check of the message's signature made when the system took it (as "
        "get_document shows it); null when it kept none (seeded, or taken before it did).",
    )


class StatusInboxItem(_Shape):
    """A status message the agency received (`kind=status`): a recipient's report on what it
    sent, or a recall of what it received; read it with get_status at `organ_id`, `position`."""

    id: str = Field(description="The document's id in this API.")
    document_id: str
    organ_id: str = Field(pattern=ORGAN_ID, description="The recipient whose delivery it is.")
    position: int = Field(description="Its place in that delivery's history, from 1.")
    status_code: str
    status_name: str
    reported_by: str = Field(description="From/OrganId of the message.")
    addressee: str = Field(
        pattern=ORGAN_ID,
        description="The party the message is for: the sender when the recipient reports, the "
        "recipient when the sender recalls; the agency reading, or a closed body it succeeds.",
    )
    received_at: datetime


class Inbox(_Shape):
    items: list[InboxItem | StatusInboxItem] = Field(
        description="Documents, or with `kind=status` the status messages received."
    )
    page: int
    size: int
    total: int


class DirectoryEntry(_Shape):
    """An agency documents can be addressed to, as the VDXP SDK's `getAgenciesList` lists the
    axis's connected agencies (`{id, code, name, mail, pid}`)."""

    organ_id: str = Field(pattern=ORGAN_ID, description="Its organ id (QCVN 102 OrganId).")
    organ_name: str
    parent_id: str | None = Field(description="The body it answers to (pid), if any.")
    email: str | None
    province_code: str | None = Field(
        description="The legacy code of the seeded province it is of (the mock's addition: null "
        "from a document system that does not say)."
    )
    in_province: bool | None = Field(
        description="Of this province: reached directly; else over NDXP's document axis (the "
        "mock's addition: null from a document system that does not say)."
    )


class AgencyDirectory(_Shape):
    items: list[DirectoryEntry] = Field(
        description="This province's agencies, then the topology's other provinces'."
    )


class HistoryEntry(_Shape):
    status_code: str
    status_name: str = Field(description="ARRIVED, REJECTED, … (DOMAIN.md §8.3).")
    description: str | None
    timestamp: str = Field(description="The reporter's local time, yyyy-mm-ddTHH:MM:SS.")
    staff_info: StaffInfo | None


class DeliveryState(_Shape):
    """Whether the document reached the recipient's system (issue 17): `delivered`,
    `in_transit` (to another province, no status yet) or `undeliverable`, when the bus gave up
    on it (a dead letter an admin can re-drive); `reason` says why."""

    state: Literal["delivered", "in_transit", "undeliverable"]
    reason: str | None


class RecipientTrace(_Shape):
    organ_id: str = Field(pattern=ORGAN_ID)
    status: str | None
    delivery: DeliveryState | None = None
    history: list[HistoryEntry]


class DocumentView(_Shape):
    id: str = _ID
    document: dict[str, Any] = Field(
        description="The canonical document (DOMAIN.md §8.3), every member present: the "
        "members of CanonicalDocument as the system read it (leniently, so a document it took "
        "with `warnings` may break that schema's rules)."
    )
    recipients: list[RecipientTrace] = Field(
        description="Each recipient's trace; empty for a revocation, update or replacement, "
        "whose statuses are reported on the document it refers to."
    )
    signature: SignatureView | None = None
    business_type: int | None = _BUSINESS_TYPE
    refers_to: str | None = _REFERS_TO


class StatusMessageView(_Shape):
    """One status message of a recipient's delivery, as the document system received it.

    Asked for with `Accept: application/xml`, the answer is the message itself: its reporter's
    bytes, Signature included, the same in every province it passed (`content_sha256`).
    """

    id: str = Field(description="The document's id in this API.")
    organ_id: str = Field(pattern=ORGAN_ID, description="The recipient whose delivery it is.")
    position: int = Field(description="Its place in that delivery's history, from 1.")
    status_code: str
    status_name: str
    description: str | None
    timestamp: str
    reported_by: str = Field(description="From/OrganId of the message.")
    content_sha256: str
    content_length: int
    signature: SignatureView | None = None


class StatusRecorded(_Shape):
    id: str
    document_id: str
    recipients: list[RecipientStatus]
    warnings: list[EdxmlWarning] = _WARNINGS
    signature: SignatureView | None = None


class InboundStatusRecorded(_Shape):
    id: str
    document_id: str
    recipients: list[RecipientStatus]
    duplicate: bool = Field(description="True when this status had been received before.")
    warnings: list[EdxmlWarning] = _WARNINGS
    signature: SignatureView | None = None


class DocumentNotFound(TranslationError):
    code = "DOCUMENT_NOT_FOUND"
    status = 404
    title = "Document not found"


class DocumentConflict(TranslationError):
    """Another document under the number and notation (or DocumentId) of one already sent: a
    resend is taken as one (`duplicate`), a revocation, update or replacement (BussinessDocType
    1/2/3) is delivered as a message of its own; anything else would lose its content."""

    code = "DOCUMENT_CONFLICT"
    status = 409
    title = "Another document was sent under this number and notation"


class StatusNotFound(TranslationError):
    code = "STATUS_NOT_FOUND"
    status = 404
    title = "Status message not found"


class UnknownRecipient(TranslationError):
    code = "UNKNOWN_RECIPIENT"
    status = 422
    title = "No agency has this organ id"


class UnknownSender(TranslationError):
    code = "UNKNOWN_SENDER"
    status = 422
    title = "The sender is not an agency of the province"


class RecipientInOtherProvince(TranslationError):
    code = "RECIPIENT_IN_OTHER_PROVINCE"
    status = 422
    title = "The agency belongs to another province"


class SenderInThisProvince(TranslationError):
    code = "SENDER_IN_THIS_PROVINCE"
    status = 422
    title = "The sender is an agency of this province: it sends with send_document"


class NoRecipientInProvince(TranslationError):
    code = "NO_RECIPIENT_IN_PROVINCE"
    status = 422
    title = "No recipient of the document is an agency of this province"


class NotARecipientOfDocument(TranslationError):
    """A revocation or update (BussinessDocType 1, 2) is for the recipients of the document it
    is about (or the bodies of today succeeding them); `organ_ids` names the others."""

    code = "NOT_A_RECIPIENT_OF_DOCUMENT"
    status = 422
    title = "A revocation or update names an organisation that did not receive its document"


class UnknownReporter(TranslationError):
    code = "UNKNOWN_REPORTER"
    status = 422
    title = "No agency has the reporting organ id"


class ReporterInThisProvince(TranslationError):
    code = "REPORTER_IN_THIS_PROVINCE"
    status = 422
    title = "The reporting agency is of this province: it reports with post_status"


class SignatureInvalid(TranslationError):
    """The receiving system refuses documents and status messages not validly signed (its
    instance's policy);
    `reason`: missing, malformed, unsupported, tampered, untrusted, expired, revoked,
    revocation_undetermined, signer_not_sender or signer_unidentified."""

    code = "SIGNATURE_INVALID"
    status = 422
    title = "The message's signature is not valid"


class AxisNotConnected(TranslationError):
    code = "DOCUMENT_AXIS_NOT_CONNECTED"
    status = 503
    title = "The document system has no access to NDXP's national document axis"


class IllegalStatusTransition(TranslationError):
    code = "ILLEGAL_STATUS_TRANSITION"
    status = 409
    title = "This status cannot follow the delivery's current status"


class NotAParty(TranslationError):
    code = "NOT_A_PARTY"
    status = 403
    title = "The organisation neither sent nor received the document"


class InvalidStatusRequest(TranslationError):
    """The status report is not valid; `errors` lists why as `{loc, msg, type}`."""

    code = "INVALID_STATUS_REQUEST"
    status = 422
    title = "The status report is not valid"


class InvalidInboxQuery(TranslationError):
    code = "INVALID_INBOX_QUERY"
    status = 422
    title = "The inbox query is not valid"


class InvalidDocumentQuery(TranslationError):
    code = "INVALID_DOCUMENT_QUERY"
    status = 422
    title = "The document query is not valid"


class QlvbAnswerInvalid(AnswerInvalid):
    code = "QLVB_INVALID_RESPONSE"
    title = "The document system gave an answer that could not be read"
