"""How a message of the document axis is known, at a province's endpoint and on the axis alike.

A document, or a revocation, update or replacement of one (Bussiness/BussinessDocType 1/2/3,
DOMAIN.md §3.3), is known by what its recipients read of it (`content_fingerprint`), not by
its bytes: sent again with a retyped promulgation date, another hop in TraceHeaderList or a new
signature, it is the same message, and reaches no recipient a second time. A business message
has a DocId of its own (`business_doc_id`), the same in every province and on the axis's ledger.
One notion for every system that relays them, so that none relays what another took for a
resend.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mocks.directory.agencies import PREDECESSORS
from mocks.vdxp.sdk import MockError, business_type_of, document_id_of

DOC_ID_NAMESPACE = uuid.UUID("5b0c1c1e-6f1d-4a52-9a47-0d6c1b0e4a10")
"""Of the uuid5 DocIds: a resend computes the same id, and seeding twice gives the same ids."""

REPLACEMENT = 3
"""BussinessDocType of a replacement: it names what it replaces in ReplacementInfoList."""
TO_THE_DOCUMENTS_RECIPIENTS = frozenset({1, 2})
"""BussinessDocTypes of a message for the document's own recipients: a revocation (1) or an
update (2) is about what they received. A replacement (3) is a document of its own, whose
recipients its sender chooses."""


class Relayed(Protocol):
    """A document as a system that relayed it keeps it: at least who sent it."""

    @property
    def sender(self) -> str: ...


RelayedT = TypeVar("RelayedT", bound=Relayed)


@dataclass(frozen=True)
class MessageIdentity:
    """What a province's endpoint and the axis alike read off a document to know it by: whom
    it is from and to, which document it is or is about, and what its recipients read."""

    document_id: str
    sender: str
    recipients: tuple[str, ...]
    """The `To` organ ids in order, once each."""
    business_type: int
    reason: str | None
    fingerprint: str
    replaces: tuple[str, ...]


def identify(document: Mapping[str, Any]) -> MessageIdentity:
    """The identity of a document read_edxml accepted; InvalidEdxml `too_long` for a DocumentId
    no endpoint keeps (`document_id_of`)."""
    return MessageIdentity(
        document_id=document_id_of(document),
        sender=document["from"]["organ_id"],
        recipients=tuple(dict.fromkeys(organ["organ_id"] for organ in document["to"])),
        business_type=business_type_of(document),
        reason=business_reason(document),
        fingerprint=content_fingerprint(document),
        replaces=replaced_document_ids(document),
    )


def content_fingerprint(document: Mapping[str, Any]) -> str:
    """SHA-256 of what a recipient reads of a document: subject, content, recipients,
    attachments and business type. A resend may differ elsewhere (a retyped promulgation
    date, another hop in TraceHeaderList, a new signature) and still be the same document."""
    read = {
        "subject": document.get("subject"),
        "content": document.get("content"),
        "to": sorted(organ["organ_id"] for organ in document["to"]),
        "attachments": [
            [item.get("content_id"), item.get("content_base64")]
            for item in document.get("attachments") or ()
        ],
        "business_type": business_type_of(document),
    }
    text = json.dumps(read, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def business_reason(document: Mapping[str, Any]) -> str | None:
    """Bussiness/BussinessDocReason, None when the message has none."""
    reason = (document.get("business") or {}).get("business_doc_reason")
    return reason if isinstance(reason, str) else None


def business_doc_id(about: str, fingerprint: str, reason: str | None) -> str:
    """The DocId of a business message about the document whose DocumentId is `about`: known
    by that document, what its recipients read (`fingerprint`, which holds its type) and its
    reason. No instance in it: forwarded to another province, it is the same message there."""
    return str(uuid.uuid5(DOC_ID_NAMESPACE, f"business:{about}:{fingerprint}:{reason or ''}"))


def replaced_document_ids(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The DocumentIds a replacement's ReplacementInfoList names, in order, once each; none for
    any other message."""
    if business_type_of(document) != REPLACEMENT:
        return ()
    listed = (document.get("business") or {}).get("replacement_info") or ()
    return tuple(dict.fromkeys(item["document_id"] for item in listed))


async def first_replaced(
    replaces: Iterable[str], sender: str, find: Callable[[str], Awaitable[RelayedT | None]]
) -> RelayedT | None:
    """What a replacement under a DocumentId of its own replaces: the first document its
    ReplacementInfo names (`replaces`, `replaced_document_ids`) that its `sender` sent, as
    `find` finds one by DocumentId. None when there is none. The axis's ledger and a province's
    endpoint link it alike, so neither relays as new what the other took for a replacement."""
    for document_id in replaces:
        found = await find(document_id)
        if found is not None and found.sender == sender:
            return found
    return None


def beyond_recipients(
    business_type: int, to: Iterable[str], original: Collection[str]
) -> list[str]:
    """The `To` organ ids of a revocation or update that received none of the document it is
    about (`original`: its recipients, as the system checking keeps them), in order; none for
    another message. The body of today that succeeds a recipient the 2025 merger closed
    (`PREDECESSORS`) is one: a message sent since must address it."""
    if business_type not in TO_THE_DOCUMENTS_RECIPIENTS:
        return []
    return [
        organ
        for organ in dict.fromkeys(to)
        if organ not in original and not PREDECESSORS.get(organ, frozenset()) & set(original)
    ]


def refuse_beyond_recipients(
    business_type: int, to: Iterable[str], original: Collection[str]
) -> None:
    """422 NOT_A_RECIPIENT_OF_DOCUMENT for a revocation or update naming an organisation that
    was no recipient of its document (`beyond_recipients`): relayed, it would tell a body of a
    document it never had, and the axis and the provinces' systems would carry it on."""
    outside = beyond_recipients(business_type, to, original)
    if outside:
        raise MockError(
            422,
            "NOT_A_RECIPIENT_OF_DOCUMENT",
            f"{', '.join(outside)}: no recipient of the document this revocation or update is "
            "about; such a message goes to that document's recipients only.",
            OrganIds=outside,
        )
