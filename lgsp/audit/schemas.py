"""What the audit endpoints and `lgsp audit export` give: records as stored, with their hashes."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel, ConfigDict, create_model, field_validator

from lgsp.audit.chain import AuditEntry


def _entry_fields() -> dict[str, Any]:
    """A record's hashed fields as pydantic fields, from `AuditEntry`: a field added to the
    chain shows in the API and the export without being declared again here."""
    hints = get_type_hints(AuditEntry)
    return {
        field.name: (
            hints[field.name],
            ... if field.default is dataclasses.MISSING else field.default,
        )
        for field in dataclasses.fields(AuditEntry)
    }


if TYPE_CHECKING:  # mypy sees a plain model; the fields below are all that is read by name
    _AuditRecordFields = BaseModel
else:
    _AuditRecordFields = create_model("_AuditRecordFields", seq=(int, ...), **_entry_fields())


class AuditRecordOut(_AuditRecordFields):
    # `seq`, the hashed fields in `AuditEntry`'s order, then the links of the chain. (No
    # docstring: it would become the published schema's description.)
    model_config = ConfigDict(from_attributes=True)

    notes: dict[str, Any] | None = None
    """What the call's message was found to be: `warnings`, the rule codes of an edXML
    message's departures from QCVN 102 (`Prefer: handling=strict` refuses them). Stored as
    JSON text (`AuditEntry.notes`), given parsed."""
    prev_hash: str
    hash: str

    @field_validator("notes", mode="before")
    @classmethod
    def _parsed(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value


class AuditTrail(BaseModel):
    request_id: str | None
    """The request id asked for; null for a page of the log."""
    records: list[AuditRecordOut]
    """With `request_id`: every hop of that request in the order they happened. Without: one
    page of the instance's log in chain order."""
    next: str | None = None
    """The next page's path and query (the same filters, `after` this page's last `seq`), or
    null at the end."""
