"""The document exchange mock's own tables: documents, their deliveries, and status messages.

They live on the mock's own `MetaData` (`kit.db.named_metadata`), prefixed `qlvb_`, in the
database the bus hands the mock; every row carries the bus instance that owns it, because all
provinces share that database.

A document keeps the edXML **exactly as received** (plus its SHA-256), not a parsed form:
the exchange is store-and-forward (DOMAIN.md §2.4, knobstick `contentSha256`), so every
recipient must get the sender's bytes, XML-DSig `Signature` included, which the codec would
drop (formats/edxml.py). The few fields listings need (sender, number, subject, …) are copied
into columns when the message is validated.

A delivery to an agency of another province is kept at the sender too (`remote_instance`):
the document left through the national axis, and that recipient's statuses come back to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UTCDateTime, named_metadata
from mocks.vdxp.sdk import MAX_DOCUMENT_ID

ORGAN_ID_LENGTH = 16  # 000.00.00.H33 (DOMAIN.md §8.2) is 13
MAX_CODE_NUMBER = 20
MAX_CODE_NOTATION = 100
INSTANCE_LENGTH = 64


class QlvbBase(DeclarativeBase):
    metadata = named_metadata()


class Document(QlvbBase):
    """One edXML document as the sender sent it; (sender, number, notation) makes it unique.

    That key is the document's identity under QCVN 102's DocumentId (`{organId},{date},
    {number}/{notation}`, DOMAIN.md §3.2) less the date, so a resend is recognised even when
    its promulgation date was retyped. Simplified: a real register restarts numbers each year.
    """

    __tablename__ = "qlvb_document"
    __table_args__ = (
        UniqueConstraint("instance", "sender", "number", "notation"),
        UniqueConstraint("instance", "doc_id"),
        UniqueConstraint("instance", "document_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    doc_id: Mapped[str] = mapped_column(String(36))  # the VDXP DocId this mock assigns
    document_id: Mapped[str] = mapped_column(String(MAX_DOCUMENT_ID))  # edXML DocumentId
    sender: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # From/OrganId
    number: Mapped[str] = mapped_column(String(MAX_CODE_NUMBER))  # Code/CodeNumber
    notation: Mapped[str] = mapped_column(String(MAX_CODE_NOTATION))  # Code/CodeNotation
    sender_record: Mapped[dict[str, Any]] = mapped_column(JSON)  # From, canonical keys
    subject: Mapped[str] = mapped_column(Text)
    edxml: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content_length: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    business_type: Mapped[int | None] = mapped_column(Integer, default=None)
    """Bussiness/BussinessDocType (DOMAIN.md §3.3): 0 new, or a 1/2/3 that named no document
    sent before (a replacement under a number of its own). None on rows kept before it was
    (a nullable column, added in place to an existing data directory): read as 0."""
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The signature's check when the document was taken (`Signature` of the send's answer),
    shown in the recipient's inbox; None on rows kept before it was, and on seeded ones."""


class BusinessMessage(QlvbBase):
    """A revocation (1), update (2) or replacement (3) of a document sent before: a message
    with BussinessDocType 1/2/3 (DOMAIN.md §3.3) naming a document this instance holds (its
    DocumentId, or its sender, number and notation), delivered as a message of its own and
    linked to it (`document_pk`). The VDXP SDK's samples send them under the earlier document's
    DocumentId, which the document's unique keys would take for a resend.

    A replacement under a number of its own is one too, about the document its ReplacementInfo
    names (`document_id` is then its own). `doc_id` is uuid5 of what identifies it
    (`mocks/vdxp/identity.py`: the document, what its recipients read, its reason): sent again,
    retyped or re-signed, it is the same message, and the same in every province it reaches.
    Its own table, so that a data directory kept from before keeps working: `create_all` adds
    a table, but cannot change a table's unique keys in place.
    """

    __tablename__ = "qlvb_business_message"
    __table_args__ = (UniqueConstraint("instance", "doc_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    doc_id: Mapped[str] = mapped_column(String(36))
    document_pk: Mapped[int] = mapped_column(ForeignKey("qlvb_document.id", ondelete="CASCADE"))
    business_type: Mapped[int] = mapped_column(Integer)  # 1 revocation, 2 update, 3 replacement
    reason: Mapped[str | None] = mapped_column(Text)  # Bussiness/BussinessDocReason
    document_id: Mapped[str] = mapped_column(String(MAX_DOCUMENT_ID))  # its own DocumentId
    sender: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))
    sender_record: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    edxml: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content_length: Mapped[int] = mapped_column(Integer)
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BusinessDelivery(QlvbBase):
    """A business message at one recipient: an entry of its inbox beside the documents."""

    __tablename__ = "qlvb_business_delivery"
    __table_args__ = (
        UniqueConstraint("message_pk", "recipient"),
        Index("ix_qlvb_business_delivery_inbox", "instance", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_pk: Mapped[int] = mapped_column(
        ForeignKey("qlvb_business_message.id", ondelete="CASCADE")
    )
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    recipient: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))
    remote_instance: Mapped[str | None] = mapped_column(String(INSTANCE_LENGTH))
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(QlvbBase):
    """The document at one recipient, with that recipient's current edXML status.

    `remote_instance` names the province (bus instance) of a recipient of another province: the
    document went there over the national axis, and its status (None while in transit) is what
    that province reported back. Such a delivery is in no inbox here.

    `version` makes the ORM refuse an update that raced another (`version_id_col`); the store
    also locks the row, so the guard is a second line, not the mechanism.
    """

    __tablename__ = "qlvb_delivery"
    __table_args__ = (
        UniqueConstraint("document_pk", "recipient"),
        Index("ix_qlvb_delivery_inbox", "instance", "recipient", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_pk: Mapped[int] = mapped_column(ForeignKey("qlvb_document.id", ondelete="CASCADE"))
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    recipient: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # To/OrganId
    remote_instance: Mapped[str | None] = mapped_column(String(INSTANCE_LENGTH))
    status: Mapped[str | None] = mapped_column(String(2))  # StatusCode; None before 01
    before_recall: Mapped[str | None] = mapped_column(String(2))  # resumed on 16
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class StatusEntry(QlvbBase):
    """One status message (DOMAIN.md §3.4) as applied to one delivery, in order.

    `addressee` is the party the message is for: the sender when the recipient reports, the
    recipient when the sender asks for a recall. It is what `getReceivedEdocList` lists for
    `messagetype: status`.
    """

    __tablename__ = "qlvb_status_entry"
    __table_args__ = (
        UniqueConstraint("delivery_id", "position"),
        Index("ix_qlvb_status_entry_inbox", "instance", "addressee", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("qlvb_delivery.id", ondelete="CASCADE"))
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(2))  # StatusCode
    description: Mapped[str | None] = mapped_column(Text)  # Description
    timestamp: Mapped[str] = mapped_column(String(19))  # Timestamp, ISO, the reporter's clock
    staff_info: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # StaffInfo
    reported_by: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # From/OrganId
    addressee: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    edxml: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The status message exactly as this system received it (issue 17), Signature included:
    what travels on to the other province and what `/getStatus` gives back. None on entries
    kept before it was (a nullable column, added in place to an existing data directory)."""


class InboundKey(QlvbBase):
    """An `Idempotency-Key` of a message from another province, kept once it was applied.

    Written in the transaction that applies the message, so a key is here exactly when its
    message took effect; `content_sha256` tells a redelivery from a key reused for another body.
    """

    __tablename__ = "qlvb_inbound_key"
    __table_args__ = (UniqueConstraint("instance", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    key: Mapped[str] = mapped_column(String(200))
    content_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
