"""The national document axis (VDXP, "trục liên thông văn bản quốc gia"), a national system.

Documents between provinces cross it store-and-forward (DOMAIN.md §2.4, flow A of §8.6): a
province's document endpoint hands an edXML document (QCVN 102:2016) to its LGSP for the
axis; the axis records it in a national ledger, works out the provinces of its `To` agencies
and hands one call per province to NDXP's store-and-forward (`mocks/bus.py`), for that
province's document endpoint (`qlvb` `POST /inbound/documents` with `X-LGSP-Target`). Status
messages (§3.4) come back the same way to the sender's province. Routes, all POST, answering
the VDXP SDK's fields `{status: OK|FAIL, ErrorCode, ErrorDesc}`:
- `/sendEdoc` (application/xml): a document; `Destinations` says where it goes. A revocation,
  update or replacement (Bussiness/BussinessDocType 1/2/3, DOMAIN.md §3.3) under the DocumentId
  of a document its sender sent before is forwarded as a message of its own (`BusinessType`),
  after the document on each province's line, once: known by what its recipients read
  (`mocks/vdxp/identity.py`, as the provinces know it), so sent again retyped or re-signed it
  is not relayed again. A replacement under a DocumentId of its own is a message about the
  ledger document its ReplacementInfo names, when its sender sent that one. A revocation or
  update goes to the document's recipients only (or the bodies of today succeeding them): 422
  NOT_A_RECIPIENT_OF_DOCUMENT names the others;
- `/sendStatus` (application/xml): a status message, on to the sender's province (a recall
  by the sender, on to every province the document went to);
- `/getEdocTrail` (application/json `{documentId}`): the ledger's trail of one document;
- `/getReceivedEdocList`, `/getEdoc` (application/json `{organId, …}`): a central body's
  national inbox and one message of it, its bytes included; read from the axis's own instance
  only, where its clients are (403 NOT_OF_CALLING_PROVINCE from a province).

Central bodies (VPCP `000.00.00.G22` and the assigned ones, `SystemConfig.central_agencies`)
belong to no province: the axis is their exchange. What is addressed to one goes into its
national inbox, kept with its bytes (the ledger keeps none), in the transaction that records
the message; so do the statuses on what one sent. A central body sends and reports from the
axis's own instance only (its origin is this instance); its recipients' statuses go to the
sender's province as a province's do. A central code (G) the axis serves no body under is 422
UNKNOWN_CENTRAL_AGENCY.

Every message may arrive more than once from the bus's outbox: the axis deduplicates on its
`Idempotency-Key` (kept with its answer, in the transaction that acts on it) and on the message
itself (the DocumentId with the same SHA-256, or from its sender with what its recipients
read unchanged; a status with the same reporter, code and Timestamp), answering `Duplicate:
true` and handing nothing new over. A province submits only for its own agencies: when the
bus says where the message came from (`X-LGSP-Origin`, learnt from the forwarding LGSP's
credentials), the sender of a document and the reporter of a status
must be agencies of that province (403 NOT_OF_CALLING_PROVINCE, issue 15), and so must the
agency a document's DocumentId names when it is a province's, and a province's DocumentId
names no central body (VPCP's, as the SDK's samples do, FIDELITY-2026 §2, is VPCP's own to
send); nor, whatever the origin, another agency than the sender that the axis serves (403
DOCUMENT_ID_OF_ANOTHER_AGENCY); one naming no agency of a province served is only noted.
Errors: 422
INVALID_EDXML (with `Rule`), UNKNOWN_SENDER, UNKNOWN_RECIPIENT, UNKNOWN_CENTRAL_AGENCY,
NO_REMOTE_RECIPIENT, NOT_A_RECIPIENT_OF_DOCUMENT,
IDEMPOTENCY_KEY_REUSED, INVALID_REQUEST; 400 INVALID_IDEMPOTENCY_KEY; 403 NOT_A_PARTY; 404
DOCUMENT_NOT_FOUND; 409 DOCUMENT_CONFLICT (a DocumentId seen with other content that is no
change by its sender); 413 TOO_LARGE; 415 UNSUPPORTED_MEDIA_TYPE; 502/504 BUS_UNAVAILABLE (the
bus did not take the hand-over: nothing recorded); 503 NOT_CONNECTED (no access to the bus: it
cannot forward).
Simplified: no `TraceHeader` is added for the hop (it would change the signed bytes).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from datetime import datetime
from functools import partial
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from formats.codes import CENTRAL_ORGAN_ID
from formats.dates import VIETNAM_TIME, now_in_vietnam
from formats.edxml import Reading, document_id_organ
from mocks.bus import ORIGIN_HEADER, BusUnavailable, Handover, connect
from mocks.config import SystemConfig
from mocks.db import MockDatabase
from mocks.directory.admin_units import Era
from mocks.directory.agencies import acting_for, central_agencies
from mocks.qlvb.lifecycle import IllegalStatusTransition
from mocks.stateful import StoreContext, lifespan_state, stateful_app
from mocks.vdxp.deliveries import refuse_illegal_report
from mocks.vdxp.identity import (
    business_doc_id,
    first_replaced,
    identify,
    refuse_beyond_recipients,
)
from mocks.vdxp.models import (
    CentralDelivery,
    LedgerBusiness,
    LedgerDocument,
    LedgerStatus,
    VdxpBase,
)
from mocks.vdxp.routing import destinations, instance_of
from mocks.vdxp.sdk import (
    XML_BODY,
    DocumentIdText,
    MockError,
    body_doc,
    edxml_call,
    idempotency_key,
    illegal_status,
    install_error_handlers,
    ok,
    outbox_key,
    read_document,
    read_json,
    read_status_message,
    refuse_future_dated,
    request_id,
    sha256,
    warnings,
)
from mocks.vdxp.store import Ledger

STATE_KEY = "vdxp"
# Where each province's document endpoint takes what the axis forwards (services/qlvb.toml).
QLVB = ("qlvb", "v1")
INBOUND_DOCUMENTS, INBOUND_STATUSES = "/inbound/documents", "/inbound/statuses"


class TrailRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    document_id: DocumentIdText = Field(alias="documentId", min_length=1)


class InboxRequest(BaseModel):
    """`/getReceivedEdocList`: the SDK's header names the message type; the mock adds whose
    inbox (`organId`, what the SDK learns from the caller's systemId) and a page."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    organ_id: str = Field(alias="organId", pattern=CENTRAL_ORGAN_ID)
    message_type: Literal["edoc", "status"] = Field(default="edoc", alias="messagetype")
    page: int = Field(default=1, ge=1, le=100_000)
    size: int = Field(default=20, ge=1, le=100)


class EdocRequest(BaseModel):
    """`/getEdoc`: one message of the central body's inbox, by its `docId`."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    organ_id: str = Field(alias="organId", pattern=CENTRAL_ORGAN_ID)
    doc_id: int = Field(alias="docId", ge=1, le=2**62)


def create_app(
    config: SystemConfig,
    *,
    bus_transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The national axis of the bus instance `config.instance`, serving `config.provinces`;
    `bus_transport` reaches NDXP's gateway (in-process, or a test's fake; None: the network)."""
    clock = now or now_in_vietnam

    async def open_state(database: MockDatabase, stack: AsyncExitStack) -> StoreContext[Ledger]:
        bus = await stack.enter_async_context(connect(config, bus_transport, now=clock))
        return StoreContext(database.sessions, config, clock, bus, Ledger)

    # No seed: the axis starts empty, and a reset deletes its ledger and processed keys.
    app = stateful_app(
        config,
        title="Mock national document axis (VDXP)",
        description="edXML (QCVN 102:2016) documents and status messages between provinces, "
        "store-and-forward, with a national ledger.",
        metadata=VdxpBase.metadata,
        state_key=STATE_KEY,
        open_state=open_state,
    )
    install_error_handlers(app)

    @app.post("/sendEdoc", openapi_extra=XML_BODY)
    async def send_edoc(request: Request) -> JSONResponse:
        """Record a document and forward it to each province of its `To` agencies but the
        sender's own; `Destinations` lists them with their agencies."""
        context, key, body, reading = await _taken(request, read_document)
        document = reading.message
        known = identify(document)
        document_id = known.document_id  # the ledger and outbox keys find it by it
        sender = known.sender
        central = central_agencies(context.config.central_agencies)
        sender_province, sender_instance = _place_of_sender(context.config, central, sender)
        _check_origin(request, sender_instance, sender)
        _check_claimed_id(request, context.config, central, document_id, sender)
        recipients = list(known.recipients)
        where = destinations(context.config.provinces, sender_province, recipients, central)
        routes = where.provinces
        _refuse_unknown_central(where.unknown)
        if where.unknown:
            raise MockError(
                422,
                "UNKNOWN_RECIPIENT",
                f"{', '.join(where.unknown)}: not an agency of a province the axis serves.",
                OrganIds=where.unknown,
            )
        if not routes and not where.central:
            raise MockError(
                422,
                "NO_REMOTE_RECIPIENT",
                "Every To agency is of the sender's own province: its endpoint delivers there.",
            )

        async def to_central(
            ledger: Ledger, about: LedgerDocument, digest: str, *, business: bool = False
        ) -> None:
            """The message into the national inbox of each central body among its `To`; a
            `business` message about `about` keeps its own DocumentId."""
            await ledger.deliver_central(
                about, where.central, kind="edoc", sender=sender, business_type=business_type,
                content=body, content_sha256=digest, received_at=context.now(),
                business_document_id=document_id if business else None,
            )  # fmt: skip

        business_type = known.business_type
        fingerprint = known.fingerprint  # what its recipients read: a resend's too

        async def forward(key: str, target: str, about: str) -> None:
            """Hand the message to NDXP for `target`'s document endpoint, on the line of the
            document it is `about` (a DocumentId) to it: a revocation reaches a province after
            its document."""
            line = outbox_key("edoc", about, target)
            call = edxml_call(QLVB, INBOUND_DOCUMENTS, body, key=key, ordering=line, target=target)
            await _hand_over(context, call, request_id(request))

        async def record(ledger: Ledger, digest: str) -> tuple[dict[str, Any], bool]:
            recorded = await _replaced(ledger, document_id, known.replaces, sender)
            if recorded is None:  # not a replacement of a ledger document under its own number
                new = LedgerDocument(
                    document_id=document_id,
                    sender=sender,
                    sender_instance=sender_instance,
                    recipients=recipients,
                    destinations=[route.as_json() for route in routes],
                    content_sha256=digest,
                    content_length=len(body),
                    received_at=context.now(),
                    fingerprint=fingerprint,
                )
                if await ledger.add_document(new) is not None:
                    await to_central(ledger, new, digest)
                    for route in routes:
                        key = outbox_key("edoc", document_id, route.instance)
                        await forward(key, route.instance, document_id)
                    return _document_answer(new), False
                # The DocumentId came before: the same document (its bytes, or retyped or
                # re-signed), a revocation, update or replacement of it by its sender (its own
                # message), or a clash.
                recorded = await ledger.find(document_id, lock=True)
                if recorded is not None and _resent(recorded, sender, digest, fingerprint):
                    return _document_answer(recorded), True
                if recorded is None or recorded.sender != sender or business_type == 0:
                    raise MockError(
                        409,
                        "DOCUMENT_CONFLICT",
                        "This DocumentId crossed the axis before with other content; a change "
                        "to a document is its sender's message with BussinessDocType 1, 2 or 3.",
                    )
            about = recorded.document_id
            refuse_beyond_recipients(business_type, recipients, recorded.recipients)
            message, new_message = await ledger.add_business(
                LedgerBusiness(
                    document_pk=recorded.id,
                    business_type=business_type,
                    doc_id=business_doc_id(about, fingerprint, known.reason),
                    recipients=recipients,
                    destinations=[route.as_json() for route in routes],
                    content_sha256=digest,
                    content_length=len(body),
                    received_at=context.now(),
                )
            )
            if new_message:
                await to_central(ledger, recorded, digest, business=True)
                for route in routes:
                    key = outbox_key("business", about, route.instance, digest)
                    await forward(key, route.instance, about)
            return _business_answer(recorded, message), not new_message

        return await _recorded_once(context, key, body, record, warnings(reading))

    @app.post("/sendStatus", openapi_extra=XML_BODY)
    async def send_status(request: Request) -> JSONResponse:
        """Record a status message about a document of the ledger and forward it: a
        recipient's to the sender's province, the sender's own to every destination. A
        Timestamp ahead of the clock is refused as a document's date is (`future_dated`)."""
        context, idempotency, body, reading = await _taken(request, read_status_message)
        status = reading.message
        response_for, reporter = status["response_for"], status["from"]["organ_id"]
        code, timestamp = status["status_code"], status["timestamp"]
        central = central_agencies(context.config.central_agencies)
        if reporter in central:
            _check_origin(request, context.config.instance, reporter)
        else:
            _refuse_unknown_central([reporter])
            reporter_place = instance_of(context.config.provinces, reporter)
            _check_origin(request, reporter_place[1] if reporter_place else None, reporter)

        async def record(ledger: Ledger, digest: str) -> tuple[dict[str, Any], bool]:
            document = await ledger.find(response_for["document_id"], lock=True)
            if document is None or document.sender != response_for["organ_id"]:
                raise MockError(
                    404, "DOCUMENT_NOT_FOUND", "No document with this DocumentId crossed the axis."
                )
            acting = acting_for(context.config.era, reporter, timestamp)
            targets, inboxes = _status_targets(document, reporter, central, acting)
            statuses = await ledger.statuses(document)
            message = (reporter, code, timestamp)
            entry = next(
                (s for s in statuses if (s.reporter, s.status_code, s.timestamp) == message), None
            )
            if entry is not None:
                return _status_answer(document, entry), True
            if reporter in central:  # the axis is its exchange: it checks what a province would
                _refuse_illegal(document, statuses, reporter, code, acting, context.config.era)
            occurrence = Ledger.occurrences(statuses, reporter, code) + 1
            entry = await ledger.add_status(
                document,
                reporter=reporter,
                status_code=code,
                timestamp=timestamp,
                destinations=targets + ([context.config.instance] if inboxes else []),
                content_sha256=digest,
                content_length=len(body),
                received_at=context.now(),
            )
            await ledger.deliver_central(  # a central body's: its national inbox
                document, inboxes, kind="status", sender=reporter, status_code=code,
                content=body, content_sha256=digest, received_at=context.now(),
            )  # fmt: skip
            for target in targets:
                key = outbox_key(
                    "status", document.document_id, reporter, code, str(occurrence), target
                )
                # One line per province: the document reaches it before its statuses.
                line = outbox_key("edoc", document.document_id, target)
                call = edxml_call(
                    QLVB, INBOUND_STATUSES, body, key=key, ordering=line, target=target
                )
                await _hand_over(context, call, request_id(request))
            return _status_answer(document, entry), False

        return await _recorded_once(context, idempotency, body, record, warnings(reading))

    @app.post("/getEdocTrail", openapi_extra=body_doc("application/json", TrailRequest))
    async def get_edoc_trail(request: Request) -> JSONResponse:
        """A document's national trail: the message, its destinations, its statuses in order;
        each destination's `Delivery` (mock addition) is the axis's hand-over to that province
        as its LGSP reports it: pending, delivering, delivered, or dead (the bus gave up).
        `Business` (mock addition): its revocations, updates and replacements in the order they
        came, each with its DocId (as the provinces give it; null on a row kept from before it
        was), type, SHA-256, size, `To`, time and destinations, each with its `Delivery`, as the
        document's: a dead one an admin of NDXP re-drives as a document's."""
        context = _context(request)
        query = await read_json(request, TrailRequest)
        async with context.reading() as ledger:
            document = await ledger.find(query.document_id)
            if document is None:
                raise MockError(
                    404, "DOCUMENT_NOT_FOUND", "No document with this DocumentId crossed the axis."
                )
            statuses = await ledger.statuses(document)
            changes = await ledger.business(document)
        answer = _document_answer(document)
        for destination in answer["Destinations"]:  # asked of the bus after the ledger's read
            line = outbox_key("edoc", document.document_id, destination["Instance"])
            destination["Delivery"] = await _delivery(context, line)
        business = []
        for message in changes:
            entry = _business_answer(document, message)
            for destination in entry["Destinations"]:
                key = outbox_key(
                    "business", document.document_id, destination["Instance"],
                    message.content_sha256,
                )  # fmt: skip
                destination["Delivery"] = await _delivery(context, key)
            business.append(
                {
                    name: entry[name]
                    for name in ("BusinessType", "ContentSha256", "ContentLength", "Destinations")
                }
                | {
                    "DocId": message.doc_id,
                    "To": message.recipients,
                    "ReceivedTime": _local(message.received_at),
                }
            )
        return ok(
            **answer,
            To=document.recipients,
            ReceivedTime=_local(document.received_at),
            Statuses=[_status_answer(document, status) for status in statuses],
            Business=business,
        )

    @app.post("/getReceivedEdocList", openapi_extra=body_doc("application/json", InboxRequest))
    async def get_received_edoc_list(request: Request) -> JSONResponse:
        """A page of a central body's national inbox, newest first: the documents addressed
        to it (`messagetype` edoc) or the statuses about the documents it sent (status). Read
        only from the axis's own instance, where a central body is (403 as for its sending)."""
        context = _context(request)
        query = await read_json(request, InboxRequest)
        _check_origin(request, context.config.instance, query.organ_id)
        _refuse_unknown_central(
            [] if query.organ_id in central_agencies(context.config.central_agencies)
            else [query.organ_id]
        )  # fmt: skip
        async with context.reading() as ledger:
            rows, total = await ledger.central_inbox(
                query.organ_id, query.message_type, page=query.page, size=query.size
            )
        return ok(
            Total=total,
            Page=query.page,
            Size=query.size,
            Items=[_inbox_entry(row, document_id) for row, document_id in rows],
        )

    @app.post("/getEdoc", openapi_extra=body_doc("application/json", EdocRequest))
    async def get_edoc(request: Request) -> JSONResponse:
        """One message of a central body's inbox with its bytes (base64), as its sender sent
        them; from the axis's own instance only, as the inbox."""
        context = _context(request)
        query = await read_json(request, EdocRequest)
        _check_origin(request, context.config.instance, query.organ_id)
        async with context.reading() as ledger:
            found = await ledger.central_message(query.organ_id, query.doc_id)
        if found is None:
            raise MockError(
                404, "DOCUMENT_NOT_FOUND", "No message with this docId in the agency's inbox."
            )
        row, document_id = found
        return ok(**_inbox_entry(row, document_id), Content=base64.b64encode(row.content).decode())

    return app


def _inbox_entry(row: CentralDelivery, document_id: str) -> dict[str, Any]:
    """One message of a central body's inbox, as the SDK's knobstick lists it (DOMAIN.md §2.4:
    id, from, to, messageType, contentSha256, contentLength): a document's or a status's
    DocumentId is its document's; a revocation, update or replacement's its own (a replacement
    under a number of its own is not the one it replaces), with `RefersToDocumentId` that of
    the document it is about, as a province's inbox gives them."""
    own = row.business_document_id
    return {
        "DocId": row.id,
        "DocumentId": own or document_id,
        "RefersToDocumentId": None if own is None else document_id,
        "From": row.sender,
        "To": row.recipient,
        "MessageType": row.kind,
        "BusinessType": row.business_type,
        "StatusCode": row.status_code,
        "ContentSha256": row.content_sha256,
        "ContentLength": len(row.content),
        "ReceivedTime": _local(row.received_at),
    }


def _context(request: Request) -> StoreContext[Ledger]:
    return lifespan_state(request, STATE_KEY, StoreContext)


async def _taken(
    request: Request, read: Callable[[Request], Awaitable[tuple[bytes, Reading]]]
) -> tuple[StoreContext[Ledger], str | None, bytes, Reading]:
    """What `/sendEdoc` and `/sendStatus` alike take first: the axis's context, the message's
    `Idempotency-Key`, its body as `read` reads it, and that reading, refused when dated ahead
    of the axis's clock (`refuse_future_dated`)."""
    context = _context(request)
    key = idempotency_key(request)
    body, reading = await read(request)
    skew = context.config.clock_skew_seconds
    refuse_future_dated(reading.message, now=context.now(), skew_seconds=skew)
    return context, key, body, reading


async def _recorded_once(
    context: StoreContext[Ledger],
    key: str | None,
    body: bytes,
    record: Callable[[Ledger, str], Awaitable[tuple[dict[str, Any], bool]]],
    warned: list[dict[str, str]],
) -> JSONResponse:
    """`record` the message (given its SHA-256) in one transaction with its `Idempotency-Key`
    claimed: a key seen before answers as the first delivery did, and records nothing again.

    `record` answers the message's fields and whether the message itself had come before;
    `warned` is what in it departs from QCVN 102 (`Warnings`, the same for every delivery).
    """
    _require_bus(context)
    digest = sha256(body)
    async with context.writing() as ledger:
        claimed = None
        if key is not None:
            claimed = await ledger.claim_key(key, digest, at=context.now())
            if claimed.answer is not None:
                return _replayed(claimed.content_sha256, digest, claimed.answer, warned)
        answer, duplicate = await record(ledger, digest)
        if claimed is not None:
            claimed.answer = answer
    return ok(**answer, Duplicate=duplicate, Warnings=warned)


def _check_origin(request: Request, province: str | None, organ_id: str) -> None:
    """Refuse a message whose sender (or reporter) is not of the province it came from; a
    message with no origin (the axis run on its own) is taken as before."""
    origin = request.headers.get(ORIGIN_HEADER)
    if origin is not None and province != origin:
        raise MockError(
            403,
            "NOT_OF_CALLING_PROVINCE",
            f"{organ_id} is not an agency of the province this message came from.",
            OrganIds=[organ_id],
        )


def _check_claimed_id(
    request: Request,
    config: SystemConfig,
    central: Mapping[str, str],
    document_id: str,
    sender: str,
) -> None:
    """Refuse a message whose DocumentId names an agency the axis serves other than its
    sender: a document is known by its DocumentId, so taken it would block that agency's own
    document at the ledger (409). The province's LGSP refuses this of its own clients, but it
    may be a real one (a `url`). An agency of another province than the message came from, or
    a central body (a G code, VPCP's or any other: of the axis's own instance, served or not
    yet) named from a province, is 403 NOT_OF_CALLING_PROVINCE; another agency of the same
    place, 403 DOCUMENT_ID_OF_ANOTHER_AGENCY. So a DocumentId of an agency served is only ever
    its own, and the ledger's key by DocumentId is one by (sender, DocumentId). One naming an
    agency of no province served is only noted by the codec. The SDK's samples name VPCP
    (FIDELITY-2026 §2): VPCP's own messages; one replayed by another takes an id of its own."""
    origin = request.headers.get(ORIGIN_HEADER)
    claimed = document_id_organ(document_id)
    if claimed in central or re.match(CENTRAL_ORGAN_ID, claimed):
        home: str | None = config.instance
    else:
        place = instance_of(config.provinces, claimed)
        home = None if place is None else place[1]
    if home is None or claimed == sender:
        return
    if origin is not None and home != origin:
        raise MockError(
            403,
            "NOT_OF_CALLING_PROVINCE",
            f"The DocumentId names {claimed}, not an agency of the province this message came "
            "from: it would take the place of that agency's own document.",
            OrganIds=[claimed],
        )
    raise MockError(
        403,
        "DOCUMENT_ID_OF_ANOTHER_AGENCY",
        f"The DocumentId names {claimed}, not the sender {sender}: it would take the place of "
        "that agency's own document.",
        OrganIds=[claimed],
    )


def _require_bus(context: StoreContext[Ledger]) -> None:
    if not context.bus.connected:
        raise MockError(
            503,
            "NOT_CONNECTED",
            "The axis has no access to the bus, so it cannot forward anything to a province.",
        )


async def _hand_over(context: StoreContext[Ledger], call: Handover, rid: str) -> None:
    """Hand `call` to NDXP's store-and-forward inside the caller's transaction, or refuse."""
    try:
        await context.bus.hand_over(call, request_id=rid)
    except BusUnavailable as error:
        raise MockError(
            error.status, "BUS_UNAVAILABLE", f"Nothing was recorded: {error.reason}."
        ) from None


async def _delivery(context: StoreContext[Ledger], key: str) -> dict[str, Any]:
    """Where the hand-over under `key` stands, as its LGSP reports it."""
    handed = await context.bus.handed_over(key)
    return {
        "State": "unknown" if handed is None else handed.state,
        "LastStatus": None if handed is None else handed.last_status,
        "LastError": None if handed is None else handed.last_error,
    }


async def _replaced(
    ledger: Ledger, document_id: str, replaces: tuple[str, ...], sender: str
) -> LedgerDocument | None:
    """The ledger document a replacement under a DocumentId of its own replaces, locked: the
    first its ReplacementInfo names that its sender sent. None for another message, and for
    one under a DocumentId the ledger has (a message about that document, or a clash)."""
    if not replaces or await ledger.find(document_id) is not None:
        return None
    return await first_replaced(replaces, sender, partial(ledger.find, lock=True))


def _resent(recorded: LedgerDocument, sender: str, digest: str, fingerprint: str) -> bool:
    """Whether a message under `recorded`'s DocumentId is that document again: its bytes, or
    its sender's with what its recipients read unchanged (retyped, re-signed)."""
    if recorded.content_sha256 == digest:
        return True
    return recorded.sender == sender and recorded.fingerprint == fingerprint


def _place_of_sender(
    config: SystemConfig, central: Mapping[str, str], sender: str
) -> tuple[str | None, str]:
    """The sender's province (None: a central body's, the axis's own) and bus instance; 422
    when the axis serves no such agency."""
    if sender in central:
        return None, config.instance
    _refuse_unknown_central([sender])
    place = instance_of(config.provinces, sender)
    if place is None:
        raise MockError(
            422,
            "UNKNOWN_SENDER",
            f"{sender} is not an agency of a province the axis serves.",
            OrganIds=[sender],
        )
    return place


def _refuse_unknown_central(organ_ids: list[str]) -> None:
    """422 UNKNOWN_CENTRAL_AGENCY for a central code (G, DOMAIN.md §6.2) the directory lacks:
    no province has it, and the axis serves only the central bodies it is configured with."""
    missing = [organ_id for organ_id in organ_ids if re.match(CENTRAL_ORGAN_ID, organ_id)]
    if missing:
        raise MockError(
            422,
            "UNKNOWN_CENTRAL_AGENCY",
            f"{', '.join(missing)}: a central code the axis serves no body under.",
            OrganIds=missing,
        )


def _status_targets(
    document: LedgerDocument,
    reporter: str,
    central: Mapping[str, str],
    acting: frozenset[str] = frozenset(),
) -> tuple[list[str], list[str]]:
    """Where a status goes: the instances to hand it over to, and the central bodies whose
    national inbox takes it (a central sender's, a central recipient of a recall). A reporter
    is a recipient too for the closed bodies it acts for (`acting_for`), as the province's
    document system that accepted its status counts it."""
    if reporter == document.sender:  # the sender's own status (a recall): every destination
        inboxes = [organ for organ in document.recipients if organ in central]
        return [destination["instance"] for destination in document.destinations], inboxes
    parties = {reporter, *acting}
    reached = any(parties & set(destination["organ_ids"]) for destination in document.destinations)
    if reached or (reporter in central and reporter in document.recipients):
        if document.sender in central:
            return [], [document.sender]
        return [document.sender_instance], []
    raise MockError(
        403,
        "NOT_A_PARTY",
        "The reporting organisation is neither the sender nor a recipient the axis forwarded to.",
    )


def _refuse_illegal(
    document: LedgerDocument,
    statuses: list[LedgerStatus],
    reporter: str,
    code: str,
    acting: frozenset[str],
    era: Era,
) -> None:
    """409 ILLEGAL_STATUS for a central body's status that may not follow its delivery's, as
    the sender's province would refuse it (`mocks/vdxp/deliveries.py`)."""
    try:
        refuse_illegal_report(
            document, statuses, frozenset({reporter, *acting}), code,
            lambda status: acting_for(era, status.reporter, status.timestamp),
        )  # fmt: skip
    except IllegalStatusTransition as error:
        raise illegal_status(error) from None


def _replayed(
    first_sha256: str, digest: str, answer: dict[str, Any], warned: list[dict[str, str]]
) -> JSONResponse:
    if first_sha256 != digest:
        raise MockError(
            422, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key came before with another message."
        )
    return ok(**answer, Duplicate=True, Warnings=warned)


def _document_answer(document: LedgerDocument) -> dict[str, Any]:
    """A document's fields; `Central` (mock addition) lists the central bodies among its `To`,
    which the axis delivered to itself (their national inbox), no province's `Destinations`."""
    return {
        "DocumentId": document.document_id,
        "From": document.sender,
        "ContentSha256": document.content_sha256,
        "ContentLength": document.content_length,
        "Destinations": _destinations(document.destinations),
        "Central": _central(document.recipients),
    }


def _central(recipients: list[str]) -> list[str]:
    """The central bodies among `recipients`: a G code the axis serves no body under was
    refused (UNKNOWN_CENTRAL_AGENCY), so every one recorded is one it delivered to."""
    return [organ for organ in recipients if re.match(CENTRAL_ORGAN_ID, organ)]


def _destinations(destinations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "Instance": destination["instance"],
            "ProvinceCode": destination["province_code"],
            "OrganIds": destination["organ_ids"],
        }
        for destination in destinations
    ]


def _business_answer(document: LedgerDocument, message: LedgerBusiness) -> dict[str, Any]:
    """A revocation, update or replacement as `/sendEdoc` answers it: its document's DocumentId
    and sender, its own bytes' SHA-256 and size, its type and its destinations."""
    return {
        **_document_answer(document),
        "ContentSha256": message.content_sha256,
        "ContentLength": message.content_length,
        "BusinessType": message.business_type,
        "Destinations": _destinations(message.destinations),
        "Central": _central(message.recipients),
    }


def _status_answer(document: LedgerDocument, status: LedgerStatus) -> dict[str, Any]:
    return {
        "DocumentId": document.document_id,
        "From": status.reporter,
        "StatusCode": status.status_code,
        "Timestamp": status.timestamp,
        "ReceivedTime": _local(status.received_at),
        "Destinations": status.destinations,
    }


def _local(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_TIME).isoformat()
