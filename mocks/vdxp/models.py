"""The national axis's own tables: a ledger of what crossed provinces, and the keys it has seen.

Prefixed `vdxp_`, on the mock's own `MetaData`, in the database the bus hands it; every row
carries the bus instance that owns it. The ledger keeps what routing and a trail need (ids,
organs, provinces, SHA-256, size, times), not the messages: the edXML itself travels on in the
outbox rows and is kept by the provinces' endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UTCDateTime, named_metadata
from mocks.vdxp.sdk import MAX_DOCUMENT_ID

ORGAN_ID_LENGTH = 16  # 000.00.00.H33 (DOMAIN.md §8.2) is 13
INSTANCE_LENGTH = 64
MAX_KEY_LENGTH = 200  # lgsp.outbox's bound, which the Idempotency-Key comes from


class VdxpBase(DeclarativeBase):
    metadata = named_metadata()


class LedgerDocument(VdxpBase):
    """One document that crossed provinces, identified by its edXML DocumentId (§3.2).

    `destinations` is `[{instance, province_code, organ_ids}]`: the provinces it was forwarded
    to and their `To` agencies; `recipients` is every `To` organ id, in the message's order.
    """

    __tablename__ = "vdxp_document"
    __table_args__ = (UniqueConstraint("instance", "document_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    document_id: Mapped[str] = mapped_column(String(MAX_DOCUMENT_ID))
    sender: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # From/OrganId
    sender_instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    destinations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content_length: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    """What its recipients read of it (`mocks/vdxp/identity.py`): the same DocumentId with other
    bytes and this fingerprint is a resend, retyped or re-signed. None on rows kept before it
    was (a nullable column, added in place to an existing data directory)."""


class _AboutDocument:
    """The columns of a row about a ledger document: a business message's, a status's."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_pk: Mapped[int] = mapped_column(ForeignKey("vdxp_document.id", ondelete="CASCADE"))
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))


class LedgerBusiness(_AboutDocument, VdxpBase):
    """A revocation (1), update (2) or replacement (3) of a ledger document (Bussiness/
    BussinessDocType, DOMAIN.md §3.3): a message under the document's own DocumentId, as the
    VDXP SDK's samples send them, forwarded to its `To` provinces as a message of its own.

    A replacement under a DocumentId of its own is one too, about the ledger document its
    ReplacementInfo names. Its own table (not a second `vdxp_document` row): the document keeps
    its DocumentId unique. The message is known as a province's endpoint knows it (`doc_id`,
    `mocks/vdxp/identity.py`): sent again retyped or re-signed, it is a duplicate, and
    `content_sha256` stays the first bytes'. `destinations` is as a document's.
    """

    __tablename__ = "vdxp_business"
    __table_args__ = (UniqueConstraint("document_pk", "content_sha256"),)

    business_type: Mapped[int] = mapped_column(Integer)
    doc_id: Mapped[str | None] = mapped_column(String(36), default=None)
    """Its DocId, as the provinces' endpoints give it; None on rows kept before it was (a
    nullable column, added in place): such a row is known by its bytes alone."""
    recipients: Mapped[list[str]] = mapped_column(JSON)
    destinations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content_length: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerStatus(_AboutDocument, VdxpBase):
    """One status message (§3.4) about a ledger document, in the order it passed through.

    `destinations` lists the instances it was forwarded to: the sender's, for a recipient's
    status; every destination province, for the sender's own (a recall).
    """

    __tablename__ = "vdxp_status"
    __table_args__ = (UniqueConstraint("document_pk", "position"),)

    position: Mapped[int] = mapped_column(Integer)
    reporter: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # From/OrganId
    status_code: Mapped[str] = mapped_column(String(2))  # StatusCode
    timestamp: Mapped[str] = mapped_column(String(19))  # Timestamp, ISO, the reporter's clock
    destinations: Mapped[list[str]] = mapped_column(JSON)
    content_sha256: Mapped[str] = mapped_column(String(64))
    content_length: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CentralDelivery(_AboutDocument, VdxpBase):
    """A message the axis delivered to a central body (VPCP, a ministry: DOMAIN.md §6.2), its
    national inbox: a document addressed to it (`kind` edoc, business messages included), or a
    status about a document it sent (`kind` status). The ledger keeps no bytes, so these rows
    do: the body reads them as its sender sent them (its signature holds)."""

    __tablename__ = "vdxp_central_delivery"

    recipient: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(8))  # edoc | status
    sender: Mapped[str] = mapped_column(String(ORGAN_ID_LENGTH))  # From/OrganId
    business_type: Mapped[int] = mapped_column(Integer, default=0)
    business_document_id: Mapped[str | None] = mapped_column(String(MAX_DOCUMENT_ID), default=None)
    """A revocation, update or replacement's own DocumentId (a replacement's may be a number of
    its own); None for a document and a status, and on rows kept from before it was (a
    nullable column, added in place)."""
    status_code: Mapped[str | None] = mapped_column(String(2), default=None)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    content_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessedKey(VdxpBase):
    """An `Idempotency-Key` the axis has acted on, with the answer it gave.

    Written in the transaction that acts on the message, so a key is here exactly when its
    message took effect; a redelivery gets the same answer back, marked as a duplicate.
    """

    __tablename__ = "vdxp_processed_key"
    __table_args__ = (UniqueConstraint("instance", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(INSTANCE_LENGTH))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    content_sha256: Mapped[str] = mapped_column(String(64))
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
