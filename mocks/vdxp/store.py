"""Every SQL statement of the national axis mock; the caller owns the transaction.

Concurrency is the database's job: a key or a document is inserted inside a SAVEPOINT, and the
unique keys (instance, key) and (instance, document_id) make a concurrent twin wait for the
first (PostgreSQL) and then find it; on SQLite the app's `BEGIN IMMEDIATE` serialises writers.
A status takes its document's row lock before numbering itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from mocks.store import InstanceStore
from mocks.vdxp.models import (
    CentralDelivery,
    LedgerBusiness,
    LedgerDocument,
    LedgerStatus,
    ProcessedKey,
)

_About = TypeVar("_About", LedgerStatus, LedgerBusiness)


class Ledger(InstanceStore):
    """Reads and writes one instance's ledger within the caller's transaction."""

    async def claim_key(self, key: str, content_sha256: str, *, at: datetime) -> ProcessedKey:
        """The key's record: new (its `answer` still None), or the one a first delivery left."""
        record = ProcessedKey(
            instance=self._instance, key=key, content_sha256=content_sha256, received_at=at
        )
        return (await self._claim(record))[0]

    async def find(self, document_id: str, *, lock: bool = False) -> LedgerDocument | None:
        statement = select(LedgerDocument).where(
            LedgerDocument.instance == self._instance, LedgerDocument.document_id == document_id
        )
        if lock:
            statement = statement.with_for_update()
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def add_document(self, document: LedgerDocument) -> LedgerDocument | None:
        """Record `document`; None if its DocumentId was recorded first (the caller reads it)."""
        document.instance = self._instance
        return document if await self._added(document) else None

    async def add_business(self, message: LedgerBusiness) -> tuple[LedgerBusiness, bool]:
        """Record business `message` about its document (True), or find it recorded before
        (False): the same message (its DocId: retyped or re-signed), or the same bytes. The
        caller holds the document's lock, so a twin of another SHA-256 waits for the first."""
        message.instance = self._instance
        earlier = select(LedgerBusiness).where(
            LedgerBusiness.document_pk == message.document_pk,
            or_(
                LedgerBusiness.doc_id == message.doc_id,
                LedgerBusiness.content_sha256 == message.content_sha256,
            ),
        )
        earlier = earlier.order_by(LedgerBusiness.id).limit(1)
        found = (await self._session.execute(earlier)).scalar_one_or_none()
        if found is not None:
            return found, False
        if await self._added(message):
            return message, True
        return (await self._session.execute(earlier)).scalar_one(), False

    async def business(self, document: LedgerDocument) -> list[LedgerBusiness]:
        """The document's revocations, updates and replacements, in the order they came."""
        return await self._about(LedgerBusiness, document, LedgerBusiness.id)

    async def statuses(self, document: LedgerDocument) -> list[LedgerStatus]:
        return await self._about(LedgerStatus, document, LedgerStatus.position)

    async def _about(
        self, table: type[_About], document: LedgerDocument, order: InstrumentedAttribute[int]
    ) -> list[_About]:
        """The rows of `table` about `document`, by `order`."""
        statement = select(table).where(table.document_pk == document.id).order_by(order)
        return list((await self._session.execute(statement)).scalars())

    async def add_status(self, document: LedgerDocument, **fields: Any) -> LedgerStatus:
        """Append a status to the document's trail; the caller holds the document's lock."""
        position = await self._session.scalar(
            select(func.count()).where(LedgerStatus.document_pk == document.id)
        )
        status = LedgerStatus(
            document_pk=document.id, instance=self._instance, position=(position or 0) + 1, **fields
        )
        self._session.add(status)
        await self._session.flush()
        return status

    async def deliver_central(
        self, document: LedgerDocument, recipients: Sequence[str], **fields: Any
    ) -> None:
        """Put a message about `document` (`fields`: kind, sender, content, …) in the national
        inbox of each central body of `recipients`, within the message's record."""
        for recipient in recipients:
            self._session.add(
                CentralDelivery(
                    document_pk=document.id, instance=self._instance, recipient=recipient, **fields
                )
            )
        await self._session.flush()

    async def central_inbox(
        self, recipient: str, kind: str, *, page: int, size: int
    ) -> tuple[list[tuple[CentralDelivery, str]], int]:
        """A page of the central body's inbox of `kind`, newest first, each with the DocumentId
        of its document, and the total."""
        where = (
            CentralDelivery.instance == self._instance,
            CentralDelivery.recipient == recipient,
            CentralDelivery.kind == kind,
        )
        total = await self._session.scalar(select(func.count()).where(*where))
        statement = (
            select(CentralDelivery, LedgerDocument.document_id)
            .join(LedgerDocument, LedgerDocument.id == CentralDelivery.document_pk)
            .where(*where)
            .order_by(CentralDelivery.id.desc())
            .offset((page - 1) * size)
            .limit(size)
        )
        rows = (await self._session.execute(statement)).all()
        return [(row, document_id) for row, document_id in rows], total or 0

    async def central_message(
        self, recipient: str, message_id: int
    ) -> tuple[CentralDelivery, str] | None:
        """One message of the central body's inbox, with its document's DocumentId."""
        statement = (
            select(CentralDelivery, LedgerDocument.document_id)
            .join(LedgerDocument, LedgerDocument.id == CentralDelivery.document_pk)
            .where(
                CentralDelivery.instance == self._instance,
                CentralDelivery.recipient == recipient,
                CentralDelivery.id == message_id,
            )
        )
        found = (await self._session.execute(statement)).one_or_none()
        return None if found is None else (found[0], found[1])

    @staticmethod
    def occurrences(statuses: Sequence[LedgerStatus], reporter: str, code: str) -> int:
        return sum(1 for s in statuses if (s.reporter, s.status_code) == (reporter, code))
