"""Every SQL statement of the document exchange mock; the caller owns the transaction.

Concurrency is the database's job, not the app's:
- a send inserts the document inside a SAVEPOINT; the unique key (instance, sender, number,
  notation) refuses a second copy, and the loser of a race (or a plain resend) reads the
  winner's row instead, so N identical sends make one document and one set of deliveries.
  What the key refused is then told apart: the same document (its bytes, or what its
  recipients read of it, `mocks/vdxp/identity.py`) is a resend; a revocation, update or
  replacement (BussinessDocType 1/2/3) is a business message of its own, inserted the same way
  under its own key; another document is a DocumentConflict. A replacement under a number of
  its own is a business message about the document its ReplacementInfo names, when here. A
  revocation or update goes to the document's recipients here only (`refuse_beyond_recipients`);
- a status report reads the document's deliveries `FOR UPDATE` (a row lock on PostgreSQL;
  on SQLite the app's `BEGIN IMMEDIATE` already holds off every other writer), so two reports
  on one delivery run one after the other and the second is checked against the first's
  result. The deliveries' version column catches any path that forgot the lock;
- a message from another province records its `Idempotency-Key` inside a SAVEPOINT first; the
  unique key (instance, key) makes a concurrent redelivery wait for, then find, the first.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from formats.edxml import InvalidEdxml, read_edxml
from mocks.qlvb.lifecycle import (
    RECALL_REQUESTED,
    DeliveryState,
    Role,
    allowed_codes,
    apply_status,
)
from mocks.qlvb.models import (
    MAX_CODE_NOTATION,
    MAX_CODE_NUMBER,
    BusinessDelivery,
    BusinessMessage,
    Delivery,
    Document,
    InboundKey,
    StatusEntry,
)
from mocks.store import InstanceStore, paged
from mocks.vdxp.identity import (
    DOC_ID_NAMESPACE,
    business_doc_id,
    content_fingerprint,
    first_replaced,
    identify,
    refuse_beyond_recipients,
)
from mocks.vdxp.sdk import MockError

_Delivered = TypeVar("_Delivered", Delivery, BusinessDelivery)


@dataclass(frozen=True)
class NewDocument:
    """A validated edXML document and what listings need from it.

    `remote` maps each recipient of another province to that province's bus instance: the
    document leaves for it over the national axis (`Delivery.remote_instance`).
    """

    doc_id: str
    document_id: str
    sender: str
    number: str
    notation: str
    sender_record: dict[str, Any]
    subject: str
    edxml: bytes
    content_sha256: str
    recipients: tuple[str, ...]
    remote: Mapping[str, str] = field(default_factory=dict)
    business_type: int = 0
    """Bussiness/BussinessDocType: 0 new, 1 revocation, 2 update, 3 replacement (§3.3)."""
    business_reason: str | None = None
    fingerprint: str = ""
    """What its recipients read of it (`content_fingerprint`): tells a resend from another
    document under the same number."""
    signature: dict[str, Any] | None = None
    """The signature's check as the system judged it when it took the document."""
    replaces: tuple[str, ...] = ()
    """A replacement's ReplacementInfo DocumentIds: under a number of its own, it is a message
    about the first of them sent here by its sender."""


_RECEIVED = (
    "document_id",
    "sender",
    "sender_record",
    "subject",
    "edxml",
    "content_sha256",
    "signature",
)
"""`NewDocument`'s fields that a document and a business message alike keep as columns: the
message as received. Its addressing is the deliveries'; the rest is one kind's own."""


def describe_document(instance: str, edxml: bytes, document: Mapping[str, Any]) -> NewDocument:
    """What the store keeps of a document read_edxml accepted, or InvalidEdxml.

    The document is known by the DocumentId it declares, even one that does not match its
    header (the codec notes `document_id_mismatch`): the SDK's status messages name the
    document by it (ResponseFor/DocumentId, DOMAIN.md §3.4). A resend is still recognised by
    (sender, number, notation).
    """
    code = document["code"]
    number, notation = code["code_number"], code["code_notation"]
    if len(number) > MAX_CODE_NUMBER or len(notation) > MAX_CODE_NOTATION:
        raise InvalidEdxml(
            f"Code/CodeNumber is limited to {MAX_CODE_NUMBER} characters and Code/CodeNotation "
            f"to {MAX_CODE_NOTATION}.",
            rule="too_long",
        )
    known = identify(document)
    return NewDocument(
        # uuid5 of (instance, DocumentId): a resend computes the same id
        doc_id=str(uuid.uuid5(DOC_ID_NAMESPACE, f"{instance}:{known.document_id}")),
        document_id=known.document_id,
        sender=known.sender,
        number=number,
        notation=notation,
        sender_record=dict(document["from"]),
        subject=document["subject"] or "",  # a missing Subject is noted, not refused
        edxml=edxml,
        content_sha256=hashlib.sha256(edxml).hexdigest(),
        recipients=known.recipients,
        business_type=known.business_type,
        business_reason=known.reason,
        fingerprint=known.fingerprint,
        replaces=known.replaces,
    )


@dataclass(frozen=True)
class Sent:
    """A document taken: the document and its deliveries; for a business message (`business`),
    the document it revokes, updates or replaces, and the message's own deliveries."""

    document: Document
    deliveries: list[Delivery]
    duplicate: bool
    business: BusinessMessage | None = None
    business_deliveries: list[BusinessDelivery] = field(default_factory=list)


@dataclass(frozen=True)
class InboxEntry:
    """One entry of an inbox: a document's delivery, or a business message's (`business`)."""

    delivery: Delivery | BusinessDelivery
    document: Document
    """The document delivered, or the one the business message refers to."""
    business: BusinessMessage | None = None


class DocumentConflict(MockError):
    """Another document under the number and notation (or DocumentId) of one already sent."""

    def __init__(self, existing: Document | None, why: str) -> None:
        """`existing` None: another sender's document, of which the answer shows nothing."""
        shown = {} if existing is None else {
            "DocId": existing.doc_id, "DocumentId": existing.document_id
        }  # fmt: skip
        super().__init__(
            409,
            "DOCUMENT_CONFLICT",
            f"{why} Nothing was delivered: a new document takes a number of its own, and a "
            "change to one sent is a message with Bussiness/BussinessDocType 1 (revocation), "
            "2 (update) or 3 (replacement).",
            **shown,
        )


@dataclass(frozen=True)
class Reported:
    """A status applied: every delivery of the document, and each entry the report added."""

    deliveries: list[Delivery]
    added: list[tuple[Delivery, StatusEntry]]


@dataclass(frozen=True)
class Report:
    """One status message (DOMAIN.md §3.4): who reports which code, when and through whom."""

    reporter: str
    code: str
    description: str | None
    timestamp: str
    staff_info: dict[str, Any] | None
    edxml: bytes
    """The message's bytes as received: kept with each entry it adds, and sent on as they are."""
    acting_for: frozenset[str] = frozenset()
    """Bodies under codes the 2025 merger closed whose part the reporter takes as their
    successor (`mocks.directory.agencies.predecessors_of`): their deliveries, their documents."""


@dataclass(frozen=True)
class DocumentHistory:
    """A document sent at `sent_at` and the status messages that followed, in order: what
    `DocumentStore.add_history` stores at once (the seed)."""

    document: NewDocument
    sent_at: datetime
    reports: Sequence[tuple[Report, datetime]]


class NotAParty(Exception):
    """The reporting organisation neither sent nor received the document."""


def plan_report(
    sender: str, deliveries: Sequence[Delivery], report: Report
) -> tuple[Role, list[tuple[Delivery, DeliveryState]]]:
    """Which deliveries a status message applies to, and the state each goes to; nothing is
    changed. IllegalStatusTransition or NotAParty for a message that may not be applied.

    A recipient's code applies to its own delivery. The sender's recall request (13) is about
    the document, so it applies to every delivery that can still be recalled; none can, and it
    is refused with the first delivery's status. Every target is checked before the caller
    writes anything.
    """
    parties = {report.reporter, *report.acting_for}
    own = next((d for d in deliveries if d.recipient in parties), None)
    role: Role
    if own is not None and (report.code != RECALL_REQUESTED or sender not in parties):
        role, targets = "recipient", [own]
    elif sender in parties:
        role = "sender"
        targets = [d for d in deliveries if report.code in allowed_codes(d.status, role)]
        targets = targets or list(deliveries[:1])  # nothing to recall: let the first refuse
    else:
        raise NotAParty(report.reporter)
    changes = [
        (delivery, apply_status(DeliveryState(delivery.status, delivery.before_recall),
                                report.code, role))
        for delivery in targets
    ]  # fmt: skip
    return role, changes


def _apply(delivery: Delivery, state: DeliveryState, *, at: datetime) -> None:
    delivery.status, delivery.before_recall = state.status, state.before_recall
    delivery.updated_at = at


class DocumentStore(InstanceStore):
    """Reads and writes one instance's documents within the caller's transaction."""

    async def count(self) -> int:
        statement = select(func.count()).where(Document.instance == self._instance)
        return (await self._session.execute(statement)).scalar_one()

    async def send(self, new: NewDocument, *, at: datetime) -> Sent:
        """Store and deliver `new`; or find the copy already sent (`duplicate`); or, for a
        business message (type 1/2/3) naming a document already here, deliver it as its own
        message linked to that document, as is a replacement under a number of its own that
        names (ReplacementInfo) a document its sender sent here. Another document under the
        same keys is refused (DocumentConflict): sent as a resend, its content would be lost."""
        replaced = await self._replaced(new)
        if replaced is not None:
            return await self._send_business(replaced, new, at=at)
        document = self._document(new, at=at)
        try:
            async with self._session.begin_nested():
                self._session.add(document)
                await self._session.flush()
                deliveries = self._deliveries(document, new, at=at)
                self._session.add_all(deliveries)
                await self._session.flush()
        except IntegrityError:
            existing = await self._earlier(new)
            if existing is None:  # another constraint failed: not a resend
                raise
            if existing.content_sha256 == new.content_sha256:
                return Sent(existing, await self.deliveries(existing), duplicate=True)
            if existing.sender != new.sender:
                raise DocumentConflict(
                    None, "Another agency's document has this DocumentId."
                ) from None
            if _fingerprint_of(existing) == new.fingerprint:  # the same, retyped or re-signed
                return Sent(existing, await self.deliveries(existing), duplicate=True)
            if new.business_type != 0:
                return await self._send_business(existing, new, at=at)
            raise DocumentConflict(
                existing,
                "A different document was sent before under this number and notation "
                "(or DocumentId).",
            ) from None
        return Sent(document, deliveries, duplicate=False)

    async def _send_business(self, existing: Document, new: NewDocument, *, at: datetime) -> Sent:
        """Deliver business message `new` about `existing`, or find it sent already; a
        revocation or update naming an organisation that received no copy of `existing` here
        is refused (422 NOT_A_RECIPIENT_OF_DOCUMENT)."""
        delivered = await self.deliveries(existing)
        refuse_beyond_recipients(
            new.business_type, new.recipients, [delivery.recipient for delivery in delivered]
        )
        # The same DocId in every province it reaches, and on the axis's ledger (its id in the
        # bus's API too); sent again retyped or re-signed, it is the same message.
        doc_id = business_doc_id(existing.document_id, new.fingerprint, new.business_reason)
        message = BusinessMessage(
            **self._received(new, at=at),
            doc_id=doc_id,
            document_pk=existing.id,
            business_type=new.business_type,
            reason=new.business_reason,
        )
        try:
            async with self._session.begin_nested():
                self._session.add(message)
                await self._session.flush()
                deliveries = self._addressed(BusinessDelivery, new, at=at, message_pk=message.id)
                self._session.add_all(deliveries)
                await self._session.flush()
        except IntegrityError:
            found = await self.find_business(message.doc_id)
            if found is None:
                raise
            sent = await self.business_deliveries(found)
            return Sent(existing, [], duplicate=True, business=found, business_deliveries=sent)
        return Sent(existing, [], duplicate=False, business=message, business_deliveries=deliveries)

    async def _replaced(self, new: NewDocument) -> Document | None:
        """The document replacement `new` replaces: the first its ReplacementInfo names that its
        sender sent here. None for another message, and for one under a number or DocumentId
        already used: that makes it a message about that document (or a conflict)."""
        if not new.replaces or await self._earlier(new) is not None:
            return None
        return await first_replaced(
            new.replaces, new.sender, lambda named: self.find(document_id=named)
        )

    async def find_business(self, doc_id: str) -> BusinessMessage | None:
        """The business message with this DocId."""
        statement = select(BusinessMessage).where(
            BusinessMessage.instance == self._instance, BusinessMessage.doc_id == doc_id
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def business_deliveries(self, message: BusinessMessage) -> list[BusinessDelivery]:
        """The business message's deliveries in recipient order."""
        statement = (
            select(BusinessDelivery)
            .where(BusinessDelivery.message_pk == message.id)
            .order_by(BusinessDelivery.recipient)
        )
        return list((await self._session.execute(statement)).scalars())

    async def find(
        self, *, doc_id: str | None = None, document_id: str | None = None, pk: int | None = None
    ) -> Document | None:
        statement = select(Document).where(Document.instance == self._instance)
        if pk is not None:
            statement = statement.where(Document.id == pk)
        if doc_id is not None:
            statement = statement.where(Document.doc_id == doc_id)
        if document_id is not None:
            statement = statement.where(Document.document_id == document_id)
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def deliveries(self, document: Document, *, lock: bool = False) -> list[Delivery]:
        """The document's deliveries in recipient order; `lock` takes their row locks."""
        statement = (
            select(Delivery).where(Delivery.document_pk == document.id).order_by(Delivery.recipient)
        )
        if lock:
            statement = statement.with_for_update()
        return list((await self._session.execute(statement)).scalars())

    async def traced(self, document: Document) -> list[tuple[Delivery, list[StatusEntry]]]:
        """The document's deliveries in recipient order, each with its status messages oldest
        first, read in one statement: on PostgreSQL's READ COMMITTED a report committed between
        two reads would show a delivery's old status over its new history."""
        statement = (
            select(Delivery, StatusEntry)
            .outerjoin(StatusEntry, StatusEntry.delivery_id == Delivery.id)
            .where(Delivery.document_pk == document.id)
            .order_by(Delivery.recipient, StatusEntry.position)
            .execution_options(populate_existing=True)  # not a copy read earlier in the session
        )
        found: dict[int, tuple[Delivery, list[StatusEntry]]] = {}
        for delivery, entry in await self._session.execute(statement):
            _, entries = found.setdefault(delivery.id, (delivery, []))
            if entry is not None:
                entries.append(entry)
        return list(found.values())

    async def report(self, document: Document, report: Report, *, at: datetime) -> Reported:
        """Apply one status message to the deliveries `plan_report` chooses;
        IllegalStatusTransition or NotAParty leave nothing written."""
        deliveries = await self.deliveries(document, lock=True)
        role, changes = plan_report(document.sender, deliveries, report)
        added = []
        for delivery, state in changes:
            position = await self._session.scalar(
                select(func.count()).where(StatusEntry.delivery_id == delivery.id)
            )
            _apply(delivery, state, at=at)
            entry = self._entry(
                delivery, report, role, document.sender, position=(position or 0) + 1, at=at
            )
            self._session.add(entry)
            added.append((delivery, entry))
        await self._session.flush()
        return Reported(deliveries, added)

    async def add_history(self, history: Sequence[DocumentHistory]) -> None:
        """Store documents sent earlier with the status messages that followed, in bulk.

        For the seed, into an instance without documents: the statuses are applied in memory by
        the rules `report` applies (`plan_report`), so the rows come to one batched INSERT per
        table instead of a few statements per document and per message.
        """
        documents = [self._document(item.document, at=item.sent_at) for item in history]
        self._session.add_all(documents)
        await self._session.flush()
        every_delivery: list[Delivery] = []
        messages: list[tuple[Delivery, Report, Role, str, int, datetime]] = []
        for document, item in zip(documents, history, strict=True):
            deliveries = self._deliveries(document, item.document, at=item.sent_at)
            for delivery in deliveries:
                delivery.status = delivery.before_recall = None
            in_order = sorted(deliveries, key=lambda d: d.recipient)  # as `deliveries` reads
            positions = dict.fromkeys(item.document.recipients, 0)
            for report, at in item.reports:
                role, changes = plan_report(document.sender, in_order, report)
                for delivery, state in changes:
                    _apply(delivery, state, at=at)
                    positions[delivery.recipient] += 1
                    position = positions[delivery.recipient]
                    messages.append((delivery, report, role, document.sender, position, at))
            every_delivery += deliveries
        self._session.add_all(every_delivery)
        await self._session.flush()
        self._session.add_all(
            self._entry(delivery, report, role, sender, position=position, at=at)
            for delivery, report, role, sender, position, at in messages
        )
        await self._session.flush()

    async def status_entry(
        self, document: Document, recipient: str, position: int
    ) -> StatusEntry | None:
        """The `position`-th status message (from 1) of the document's delivery to `recipient`."""
        statement = (
            select(StatusEntry)
            .join(Delivery, StatusEntry.delivery_id == Delivery.id)
            .where(
                Delivery.document_pk == document.id,
                Delivery.recipient == recipient,
                StatusEntry.position == position,
            )
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def recorded(self, document: Document, report: Report) -> bool:
        """Whether the document already has this status message: same reporter, code and time.

        The Timestamp is the reporter's (DOMAIN.md §3.4), so a message delivered twice matches
        while a second recall (13 again, later) does not.
        """
        statement = (
            select(func.count())
            .select_from(StatusEntry)
            .join(Delivery, StatusEntry.delivery_id == Delivery.id)
            .where(
                Delivery.document_pk == document.id,
                StatusEntry.reported_by == report.reporter,
                StatusEntry.status == report.code,
                StatusEntry.timestamp == report.timestamp,
            )
        )
        return await self._count(statement) > 0

    async def remember_key(
        self, key: str, content_sha256: str, *, at: datetime
    ) -> InboundKey | None:
        """Record an inbound message's key; the record already there if it was seen before."""
        record = InboundKey(
            instance=self._instance, key=key, content_sha256=content_sha256, received_at=at
        )
        kept, new = await self._claim(record)
        return None if new else kept

    async def inbox(
        self, recipients: Collection[str], *, page: int, size: int
    ) -> tuple[int, list[InboxEntry]]:
        """The documents and business messages delivered to any of `recipients` (an agency, and
        the closed bodies it succeeds), newest first (by time of delivery, then by order of
        arrival), without their edXML; each entry keeps the organ id it was addressed to."""
        documents = self._inbox_listing(0, Delivery, recipients)
        business = self._inbox_listing(1, BusinessDelivery, recipients)
        listing = union_all(documents, business).subquery()
        statement = select(listing.c.kind, listing.c.id).order_by(
            listing.c.at.desc(), listing.c.kind.desc(), listing.c.id.desc()
        )
        rows, total = await paged(self._session, statement, page=page, size=size)
        keys = [(kind, pk) for kind, pk in rows]
        found = await self._inbox_rows(
            [pk for kind, pk in keys if kind == 0], [pk for kind, pk in keys if kind == 1]
        )
        return total, [found[key] for key in keys]

    def _inbox_listing(
        self, kind: int, table: type[Delivery | BusinessDelivery], recipients: Collection[str]
    ) -> Select[int, int, datetime]:
        """(kind, id, delivered_at) of the deliveries in `table` to any of `recipients`, but
        those gone to another province: they are in no inbox here."""
        return select(
            literal(kind).label("kind"), table.id.label("id"), table.delivered_at.label("at")
        ).where(
            table.instance == self._instance,
            table.recipient.in_(recipients),
            table.remote_instance.is_(None),
        )

    async def _inbox_rows(
        self, delivery_ids: list[int], business_ids: list[int]
    ) -> dict[tuple[int, int], InboxEntry]:
        """The inbox entries of these deliveries (0) and business deliveries (1), by key."""
        found: dict[tuple[int, int], InboxEntry] = {}
        unread = defer(Document.edxml, raiseload=True)
        if delivery_ids:
            statement = (
                select(Delivery, Document)
                .join(Document, Delivery.document_pk == Document.id)
                .where(Delivery.id.in_(delivery_ids))
                .options(unread)
            )
            for delivery, document in await self._session.execute(statement):
                found[(0, delivery.id)] = InboxEntry(delivery, document)
        if business_ids:
            statement_b = (
                select(BusinessDelivery, BusinessMessage, Document)
                .join(BusinessMessage, BusinessDelivery.message_pk == BusinessMessage.id)
                .join(Document, BusinessMessage.document_pk == Document.id)
                .where(BusinessDelivery.id.in_(business_ids))
                .options(unread, defer(BusinessMessage.edxml, raiseload=True))
            )
            for entry, message, document in await self._session.execute(statement_b):
                found[(1, entry.id)] = InboxEntry(entry, document, message)
        return found

    async def status_messages(
        self, addressees: Collection[str], *, page: int, size: int
    ) -> tuple[int, list[tuple[StatusEntry, Delivery, Document]]]:
        """The status messages addressed to any of `addressees` (an agency, and the closed
        bodies it succeeds), newest first."""
        where = (StatusEntry.instance == self._instance, StatusEntry.addressee.in_(addressees))
        statement = (
            select(StatusEntry, Delivery, Document)
            .join(Delivery, StatusEntry.delivery_id == Delivery.id)
            .join(Document, Delivery.document_pk == Document.id)
            .where(*where)
            .options(defer(Document.edxml, raiseload=True))
            .order_by(StatusEntry.id.desc())
        )
        rows, total = await paged(self._session, statement, page=page, size=size)
        return total, [(entry, delivery, document) for entry, delivery, document in rows]

    def _document(self, new: NewDocument, *, at: datetime) -> Document:
        """The row: the message as received, and the keys a resend is known by."""
        return Document(
            **self._received(new, at=at),
            doc_id=new.doc_id,
            number=new.number,
            notation=new.notation,
            business_type=new.business_type,
        )

    def _received(self, new: NewDocument, *, at: datetime) -> dict[str, Any]:
        """The columns a document's row and a business message's alike keep of `new`."""
        kept = {name: getattr(new, name) for name in _RECEIVED}
        return {
            "instance": self._instance,
            **kept,
            "content_length": len(new.edxml),
            "created_at": at,
        }

    def _deliveries(self, document: Document, new: NewDocument, *, at: datetime) -> list[Delivery]:
        """One delivery per recipient of `document`, once it has its id."""
        return self._addressed(Delivery, new, at=at, document_pk=document.id, updated_at=at)

    def _addressed(
        self, row: type[_Delivered], new: NewDocument, *, at: datetime, **owner: Any
    ) -> list[_Delivered]:
        """A `row` (a document's or a business message's delivery) per recipient of `new`,
        delivered `at`; `owner` names what is delivered."""
        return [
            row(
                instance=self._instance,
                recipient=recipient,
                remote_instance=new.remote.get(recipient),
                delivered_at=at,
                **owner,
            )
            for recipient in new.recipients
        ]

    def _entry(
        self,
        delivery: Delivery,
        report: Report,
        role: Role,
        sender: str,
        *,
        position: int,
        at: datetime,
    ) -> StatusEntry:
        return StatusEntry(
            delivery_id=delivery.id,
            instance=self._instance,
            position=position,
            status=report.code,
            description=report.description,
            timestamp=report.timestamp,
            staff_info=report.staff_info,
            reported_by=report.reporter,
            addressee=delivery.recipient if role == "sender" else sender,
            received_at=at,
            edxml=report.edxml,
        )

    async def _earlier(self, new: NewDocument) -> Document | None:
        """The document already here under `new`'s keys: its sender, number and notation, else
        its DocumentId (the SDK's samples number a document otherwise than its DocumentId)."""
        found = await self._by_code(new.sender, new.number, new.notation)
        return found or await self.find(document_id=new.document_id)

    async def _by_code(self, sender: str, number: str, notation: str) -> Document | None:
        statement = select(Document).where(
            Document.instance == self._instance,
            Document.sender == sender,
            Document.number == number,
            Document.notation == notation,
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def _count(self, statement: Select[int]) -> int:
        return (await self._session.execute(statement)).scalar_one()


def _fingerprint_of(document: Document) -> str | None:
    """`content_fingerprint` of a document kept here, read again from its bytes (a resend is
    rare: nothing is kept for it); None when they no longer read (a stricter codec)."""
    try:
        return content_fingerprint(read_edxml(document.edxml).message)
    except InvalidEdxml:
        return None
