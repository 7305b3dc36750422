"""The canonical shapes and refusals of the `vdxp` operations, for the published contract.

The adapter builds plain JSON (`vdxp.py`); these models describe it, with extra fields
forbidden, and the tests validate real answers against them so the document cannot drift.
Refusals the provinces' document exchange shares (no such document, not a party, a reused
`Idempotency-Key`, invalid edXML) are `qlvb`'s own classes: one meaning, one code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters._qlvb_contracts import EdxmlWarning
from adapters.base import AnswerInvalid, TranslationError
from formats.codes import CENTRAL_ORGAN_ID, ORGAN_ID

PROVINCE_CODE = r"^[0-9]{2}$"  # legacy 2-digit province code (DOMAIN.md §6.1)


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Destination(_Shape):
    """A province the axis forwarded the document to, and its agencies among the recipients."""

    instance: str = Field(description="The bus instance (LGSP) of the province.")
    province_code: str = Field(pattern=PROVINCE_CODE)
    organ_ids: list[str]


class Forwarding(_Shape):
    """The axis's forwarding of the document to one province (issue 17): `pending`,
    `delivering`, `delivered`, `dead` (the bus gave up: an admin of NDXP may re-drive it) or
    `unknown`; `reason` gives the last answer of a dead one."""

    state: Literal["pending", "delivering", "delivered", "dead", "unknown"]
    reason: str | None


class TrailDestination(Destination):
    delivery: Forwarding


CENTRAL_RECIPIENTS: Any = Field(
    default_factory=list,
    description="The central bodies (VPCP 000.00.00.G22, …) among its recipients: of no "
    "province, so in no destination; the axis put it in their national inbox itself.",
)


class SubmittedDocument(_Shape):
    id: str = Field(description="The document's id, as in the qlvb service (DocumentId, encoded).")
    document_id: str = Field(description="edXML DocumentId: {organId},{yyyy/MM/dd},{n}/{code}")
    sender: str = Field(pattern=ORGAN_ID, description="From/OrganId.")
    content_sha256: str
    content_length: int
    destinations: list[Destination]
    central_recipients: list[str] = CENTRAL_RECIPIENTS
    duplicate: bool = Field(description="True when this document had crossed the axis before.")
    warnings: list[EdxmlWarning] = Field(
        default_factory=list,
        description='What in the message departs from QCVN 102, taken (README "Warnings, not '
        'refusals"); `Prefer: handling=strict` refuses it instead, 422 INVALID_EDXML.',
    )


class SubmittedStatus(_Shape):
    id: str = Field(description="The id of the document the status is about.")
    document_id: str
    reporter: str = Field(pattern=ORGAN_ID, description="From/OrganId of the status message.")
    status_code: str
    status_name: str = Field(description="ARRIVED, REJECTED, … (DOMAIN.md §8.3).")
    timestamp: str = Field(description="The reporter's local time, yyyy-mm-ddTHH:MM:SS.")
    received_at: datetime
    destinations: list[str] = Field(description="The instances the status was forwarded to.")
    duplicate: bool = Field(description="True when this status had crossed the axis before.")
    warnings: list[EdxmlWarning] = Field(
        default_factory=list, description="As a submitted document's."
    )


class TrailStatus(_Shape):
    reporter: str = Field(pattern=ORGAN_ID)
    status_code: str
    status_name: str
    timestamp: str
    received_at: datetime
    destinations: list[str]


class TrailBusiness(_Shape):
    """A revocation, update or replacement of the document (DOMAIN.md §3.3): a message of its
    own, forwarded to its provinces after the document, each forwarding's state as a
    document's (a dead one an admin of NDXP may re-drive)."""

    id: str | None = Field(
        description="Its id in the qlvb service: the DocId the provinces give it (a UUID); null "
        "for one the ledger kept from before it had one."
    )
    business_type: int = Field(ge=1, le=3, description="1 revocation, 2 update, 3 replacement.")
    content_sha256: str = Field(description="Of its bytes as the axis first took them.")
    content_length: int
    recipients: list[str] = Field(description="Every To/OrganId, in the message's order.")
    received_at: datetime
    destinations: list[TrailDestination]


class Trail(_Shape):
    """A document's national trail: the message, where it went, and its statuses in order."""

    id: str
    document_id: str
    sender: str = Field(pattern=ORGAN_ID)
    recipients: list[str] = Field(description="Every To/OrganId, in the message's order.")
    content_sha256: str
    content_length: int
    received_at: datetime
    destinations: list[TrailDestination]
    central_recipients: list[str] = CENTRAL_RECIPIENTS
    statuses: list[TrailStatus]
    business: list[TrailBusiness] = Field(
        description="Its revocations, updates and replacements, in the order they came."
    )


class CentralInboxItem(_Shape):
    """A message in a central body's national inbox (DOMAIN.md §2.4's knobstick fields)."""

    id: int = Field(description="Its id in the inbox (the SDK's docId).")
    document_id: str = Field(
        description="Its DocumentId: a document's own, a business message's own (a replacement "
        "under a number of its own has its own), a status's the document's it is about."
    )
    sender: str = Field(pattern=ORGAN_ID, description="From/OrganId.")
    recipient: str = Field(pattern=ORGAN_ID)
    kind: Literal["edoc", "status"]
    business_type: int = Field(ge=0, le=3, description="A document's BussinessDocType.")
    refers_to: str | None = Field(
        description="Of a revocation, update or replacement (business_type 1, 2, 3): the id "
        "of the document it is about (its DocumentId, as in the qlvb service), as a province's "
        "inbox gives it; its own DocumentId is `document_id`. Null for a document, a status.",
    )
    status_code: str | None = Field(description="A status message's StatusCode.")
    content_sha256: str
    content_length: int
    received_at: datetime


class CentralInbox(_Shape):
    items: list[CentralInboxItem]
    page: int
    size: int
    total: int


class CentralMessage(CentralInboxItem):
    edxml: str = Field(description="The message's bytes, base64, as its sender sent them.")


class CentralMessageQuery(BaseModel):
    """Whose inbox holds the message: the central body's (a bound client's own, which the bus
    adds when it is missing)."""

    organ_id: str = Field(pattern=CENTRAL_ORGAN_ID)


class CentralAgencyUnknown(TranslationError):
    code = "CENTRAL_AGENCY_UNKNOWN"
    status = 422
    title = "A central code (G) that names no body the national axis serves"


class NotACentralAgency(TranslationError):
    code = "NOT_A_CENTRAL_AGENCY"
    status = 422
    title = "The sender or reporter is not a central body: a province's goes through its QLVB"


class NotOfCallingProvince(TranslationError):
    code = "NOT_OF_CALLING_PROVINCE"
    status = 403
    title = "The sender or reporter is not an agency of the province the message came from"


class DocumentIdOfAnotherAgency(TranslationError):
    """A DocumentId names an agency the axis serves other than the message's sender: taken, it
    would block that agency's own document (`organ_ids` names it)."""

    code = "DOCUMENT_ID_OF_ANOTHER_AGENCY"
    status = 403
    title = "The DocumentId names another agency than the sender"


class SenderNotServed(TranslationError):
    code = "SENDER_NOT_SERVED"
    status = 422
    title = "The sender is not an agency of a province the axis serves"


class RecipientNotServed(TranslationError):
    code = "RECIPIENT_NOT_SERVED"
    status = 422
    title = "A recipient is not an agency of a province the axis serves"


class NoRemoteRecipient(TranslationError):
    code = "NO_REMOTE_RECIPIENT"
    status = 422
    title = "Every recipient is in the sender's own province"


class DocumentIdConflict(TranslationError):
    code = "DOCUMENT_ID_CONFLICT"
    status = 409
    title = "This DocumentId crossed the axis before with other content"


class AxisCannotForward(TranslationError):
    code = "AXIS_CANNOT_FORWARD"
    status = 503
    title = "The national axis has no access to the bus to forward with"


class VdxpAnswerInvalid(AnswerInvalid):
    code = "VDXP_INVALID_RESPONSE"
    title = "The national document axis gave an answer that could not be read"
