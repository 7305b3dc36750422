"""The canonical shapes of the `qlvb` operations, for the published OpenAPI contract.

The adapter builds plain JSON (`qlvb.py`); these models describe it, with extra fields
forbidden, and the tests validate real answers against them so the document cannot drift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ORGAN_ID = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$"  # DOMAIN.md §8.2


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


class CanonicalDocument(BaseModel):
    """The canonical document of DOMAIN.md §8.3, as adapters.edxml.validate_document takes it
    (or, as application/xml, the edXML itself)."""

    model_config = ConfigDict(extra="allow")


class RecipientStatus(_Shape):
    organ_id: str = Field(pattern=ORGAN_ID)
    status: str | None = Field(description="edXML StatusCode (§3.6); null before 01 arrives.")


class SentDocument(_Shape):
    id: str = Field(description="The document's id in this API (its DocumentId, encoded).")
    document_id: str = Field(description="edXML DocumentId: {organId},{yyyy/MM/dd},{n}/{code}")
    recipients: list[RecipientStatus]
    duplicate: bool = Field(description="True when the same document had been sent before.")


class InboxItem(_Shape):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str
    document_id: str
    from_: Organisation = Field(alias="from")
    subject: str
    received_at: datetime
    status: str | None


class Inbox(_Shape):
    items: list[InboxItem]
    page: int
    size: int
    total: int


class HistoryEntry(_Shape):
    status_code: str
    status_name: str = Field(description="ARRIVED, REJECTED, … (DOMAIN.md §8.3).")
    description: str | None
    timestamp: str = Field(description="The reporter's local time, yyyy-mm-ddTHH:MM:SS.")
    staff_info: StaffInfo | None


class RecipientTrace(_Shape):
    organ_id: str = Field(pattern=ORGAN_ID)
    status: str | None
    history: list[HistoryEntry]


class DocumentView(_Shape):
    id: str
    document: dict[str, Any] = Field(description="The canonical document (DOMAIN.md §8.3).")
    recipients: list[RecipientTrace]


class StatusRecorded(_Shape):
    id: str
    document_id: str
    recipients: list[RecipientStatus]
