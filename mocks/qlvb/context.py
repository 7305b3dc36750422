"""What every route of the document exchange mock shares: its lifespan state and transactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from cryptography import x509
from fastapi import Request
from fastapi.responses import JSONResponse

from formats.agency_codes import AgencyCodeClosed, refuse_closed
from formats.crl import crls_in
from formats.edxml import Reading
from formats.xmldsig import SignatureCheck, Trust, check_signature
from kit.offload import off_loop_if_large
from mocks.bus import BusUnavailable, Handover
from mocks.config import SystemConfig
from mocks.directory.agencies import PREDECESSORS, acting_for, reported_on
from mocks.qlvb.lifecycle import IllegalStatusTransition
from mocks.qlvb.models import Delivery, Document
from mocks.qlvb.signing import Identity, TrustSource
from mocks.qlvb.store import DocumentStore, NotAParty, Report, Reported, Sent
from mocks.stateful import StoreContext, lifespan_state
from mocks.vdxp.sdk import MockError, illegal_status, ok, warnings

STATE_KEY = "qlvb"


@dataclass(frozen=True)
class Context(StoreContext[DocumentStore]):
    """What the lifespan opened; each request finds it in `request.state`."""

    province_code: str
    trust: TrustSource
    """Whose signatures this system accepts: `SystemConfig.trusted_roots_pem`, and its bus's CA."""
    identities: Mapping[str, Identity] = field(default_factory=dict)
    """The keys this system signs with, per agency (`SystemConfig.signing_identities`)."""


def context_of(request: Request) -> Context:
    return lifespan_state(request, STATE_KEY, Context)


async def hand_over(context: Context, handover: Handover, *, request_id: str) -> None:
    """Hand `handover` to the bus inside the caller's transaction, or refuse the change."""
    try:
        await context.bus.hand_over(handover, request_id=request_id)
    except BusUnavailable as error:
        raise MockError(
            error.status,
            "BUS_UNAVAILABLE",
            f"Nothing was changed: {error.reason}, so the national document axis cannot be "
            "reached.",
        ) from None


def require_bus(context: Context) -> None:
    """Refuse what would need the national axis when this endpoint has no access to the bus."""
    if not context.bus.connected:
        raise MockError(
            503,
            "NOT_CONNECTED",
            "This endpoint has no access to the bus, so nothing can travel to or from another "
            "province over NDXP's national document axis.",
        )


def not_found() -> MockError:
    return MockError(404, "DOCUMENT_NOT_FOUND", "No such document in this province.")


def delivered(document: Document, deliveries: Sequence[Delivery], **extra: Any) -> JSONResponse:
    """The answer to a send or a status: the document's ids and each recipient's status."""
    return ok(
        DocId=document.doc_id,
        DocumentId=document.document_id,
        **extra,
        Recipients=[{"OrganId": d.recipient, "StatusCode": d.status} for d in deliveries],
    )


def document_taken(sent: Sent, reading: Reading, signature: dict[str, object]) -> JSONResponse:
    """The answer to a document this system took, from one of its agencies or from another
    province: the recipients' statuses, whether it was a resend, the codec's warnings and the
    signature as judged. A business message (revocation, update, replacement) answers its own
    DocId, its `BusinessType`, `RefersTo` and `RefersToDocumentId` (the DocId and DocumentId of
    the document it is about)."""
    if sent.business is not None:
        return ok(
            DocId=sent.business.doc_id,
            DocumentId=sent.business.document_id,
            Duplicate=sent.duplicate,
            Warnings=warnings(reading),
            Signature=signature,
            BusinessType=sent.business.business_type,
            RefersTo=sent.document.doc_id,
            RefersToDocumentId=sent.document.document_id,
            Recipients=[{"OrganId": d.recipient, "StatusCode": None}
                        for d in sent.business_deliveries],
        )  # fmt: skip
    return delivered(
        sent.document,
        sent.deliveries,
        Duplicate=sent.duplicate,
        Warnings=warnings(reading),
        Signature=signature,
    )


async def signature_of(context: Context, edxml: bytes) -> dict[str, object]:
    """Mock addition `Signature`: the XML-DSig check of a message as this system concludes it
    now (formats/xmldsig.py), under edXML-style names; a large message off the event loop."""
    trust = await context.trust.current()
    check: SignatureCheck = await off_loop_if_large(
        len(edxml), partial(check_signature, edxml, trust=trust, at=context.now())
    )
    return {"".join(p.title() for p in k.split("_")): v for k, v in check.as_json().items()}


async def judged_signature(context: Context, edxml: bytes) -> dict[str, object]:
    """The message's `Signature`, or 422 SIGNATURE_INVALID naming the reason when this system
    refuses what is not validly signed (`SystemConfig.signature_policy`)."""
    checked = await signature_of(context, edxml)
    if context.config.signature_policy == "refuse" and not checked["Valid"]:
        raise MockError(
            422,
            "SIGNATURE_INVALID",
            f"The message's signature is not valid ({checked['Reason']}); this system takes "
            "only validly signed documents and status messages.",
            Reason=checked["Reason"],
        )
    return checked


def trust_of(config: SystemConfig) -> Trust:
    """The roots, revoked serials (under each of those roots) and CRLs the configuration names:
    the CRLs sit in the roots' PEM (`LGSP_TRUSTED_ROOTS_FILE`), as an operator supplies them."""
    roots = (
        tuple(x509.load_pem_x509_certificates(config.trusted_roots_pem.encode()))
        if config.trusted_roots_pem.strip()
        else ()
    )
    serials = [int(serial, 16) for serial in config.revoked_serials]
    return Trust(
        roots=roots,
        revoked=frozenset((root.subject, serial) for root in roots for serial in serials),
        crls=crls_in(config.trusted_roots_pem),
    )


def answers(document: Document, response_for: Mapping[str, Any]) -> bool:
    """Whether a status's ResponseFor names `document` (found by its DocumentId): its sender is
    the document's, or the one its DocumentId names. The axis carries a document whose
    DocumentId names another sender than its header (a warning, as the SDK's own samples), so a
    status composed from that DocumentId (the bus's JSON report, the SDK's updateStatus) names
    that one."""
    organ_id = response_for["organ_id"]
    return organ_id in (document.sender, document.document_id.partition(",")[0])


def report_of(status: Mapping[str, Any], edxml: bytes, config: SystemConfig) -> Report:
    """What the store applies of a status message read_status accepted from `edxml`. In era
    2026 a body of today reporting since the 2025 merger acts for the bodies under closed codes
    it succeeds (`PREDECESSORS`): their documents, sent before, are its to report on."""
    reporter = status["from"]["organ_id"]
    return Report(
        reporter=reporter,
        code=status["status_code"],
        description=status["description"],
        timestamp=status["timestamp"],
        staff_info=status["staff_info"],
        edxml=edxml,
        acting_for=acting_for(config.era, reporter, status["timestamp"]),
    )


def refuse_closed_reporter(config: SystemConfig, status: Mapping[str, Any]) -> None:
    """422 AGENCY_CODE_CLOSED for a status message reported since the 2025 merger by a body
    under a level-1 code it closed, in era 2026 (era 2024 is the world before it whatever the
    date), naming the body that succeeds it where the directory has one; its documents keep the
    code, and their successor reports on them (`report_of`)."""
    on = _reported_on(status)
    if config.era != "2026" or on is None:
        return
    reporter = status["from"]["organ_id"]
    try:
        refuse_closed([reporter], on, known=PREDECESSORS)
    except AgencyCodeClosed as closed:
        named = closed.extensions
        successor = named.get("successor_organ_id")
        raise MockError(
            422,
            closed.code,
            f"{reporter}: {closed.detail} Its successor reports on its documents.",
            OrganIds=[reporter],
            **({} if successor is None else {"SuccessorOrganId": successor}),
        ) from None


def _reported_on(status: Mapping[str, Any]) -> date | None:
    """The day in Vietnam the message says it was reported (its Timestamp, §3.4)."""
    return reported_on(status.get("timestamp"))


async def apply_report(
    store: DocumentStore, document: Document, report: Report, at: datetime
) -> Reported:
    """`store.report`, its refusals as the SDK's answers."""
    try:
        return await store.report(document, report, at=at)
    except IllegalStatusTransition as error:
        raise illegal_status(error) from None
    except NotAParty:
        raise MockError(
            403, "NOT_A_PARTY", "The reporting organisation neither sent nor received it."
        ) from None
