"""A province's document exchange endpoint, speaking the VDXP SDK's calls (DOMAIN.md §2.4).

Every call is a POST, as in VPCP's `SDKVXP` jar: `/sendEdoc` takes an edXML document (QCVN
102:2016, DOMAIN.md §3) and delivers it to each `To` agency of the province; recipients list
their inbox with `/getReceivedEdocList`, fetch it with `/getEdoc` and report edXML status codes
(§3.6) with `/updateStatus`; `/getEdocTrace` is the sender's view of those statuses. Answers
carry the SDK's response fields `{status: OK|FAIL, ErrorCode, ErrorDesc, DocId}`; error codes
are the mock's own mnemonics (VPCP's numeric codes are not public).

Between provinces (flow A of DOMAIN.md §8.6; `axis.py`, `inbound.py`): with access to the bus,
`/sendEdoc` also takes agencies of the topology's other provinces, keeps a delivery for each
(its status null while in transit) and hands the document to its LGSP for the national
axis (store-and-forward, `mocks/bus.py`); `/receiveEdoc` and `/receiveStatus` take what other
provinces send, and a status reported here on another province's document is handed to the
bus for the way back.

Mock additions, each named in its handler: `Duplicate` and `Recipients` on `/sendEdoc`, the
`documentId` and `format: json` options of `/getEdoc`, `/getEdocTrace` itself (with each
delivery's `RemoteInstance`), `/receiveEdoc` and `/receiveStatus`. Simplified: the
message travels in the body (`application/xml`), not as a multipart file with a JSON `header`
part, and the mock does not add a `TraceHeader` for its hop, because that would change the
sender's signed bytes (§3.1 `Signature` covers the envelope).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import Any, Literal

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from formats.codes import ORGAN_ID
from formats.dates import VIETNAM_TIME, now_in_vietnam
from kit.offload import off_loop_if_large
from mocks.bus import ORIGIN_HEADER, connect
from mocks.config import SystemConfig
from mocks.db import MockDatabase
from mocks.directory.agencies import (
    AGENCIES,
    PREDECESSORS,
    Agency,
    agencies_of,
    central_agencies,
)
from mocks.qlvb import axis, inbound
from mocks.qlvb.context import (
    STATE_KEY,
    Context,
    answers,
    apply_report,
    context_of,
    delivered,
    document_taken,
    hand_over,
    judged_signature,
    not_found,
    refuse_closed_reporter,
    report_of,
    require_bus,
    signature_of,
    trust_of,
)
from mocks.qlvb.models import (
    BusinessDelivery,
    BusinessMessage,
    Delivery,
    Document,
    QlvbBase,
    StatusEntry,
)
from mocks.qlvb.seed import seed_documents
from mocks.qlvb.signing import TrustSource, identities_of, signed_as
from mocks.qlvb.store import DocumentStore, InboxEntry, describe_document
from mocks.stateful import stateful_app
from mocks.vdxp.sdk import (
    XML_BODY,
    DocumentIdText,
    MockError,
    body_doc,
    install_error_handlers,
    ok,
    read_document,
    read_json,
    read_status_message,
    refuse_future_dated,
    request_id,
    sha256,
    warnings,
)

MAX_PAGE_SIZE = 100


class AgencyListRequest(BaseModel):
    """`getAgenciesList`: the SDK's header, `{}` (`getAgenciesListQD20` adds `level`)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    level: str | None = Field(default=None, pattern=r"^[1-4]$")


class ListRequest(BaseModel):
    """`getReceivedEdocList`: the SDK's header `{servicetype, messagetype}` plus the organ."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    organ_id: str = Field(alias="organId", pattern=ORGAN_ID)
    messagetype: Literal["edoc", "status"] = "edoc"
    servicetype: Literal["eDoc"] = "eDoc"
    page: int = Field(default=1, ge=1, le=1_000_000)
    size: int = Field(default=20, ge=1, le=MAX_PAGE_SIZE)


class FetchRequest(BaseModel):
    """`getEdoc` and `getEdocTrace`: the SDK's `docId`, or (mock addition) the edXML DocumentId."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    doc_id: str | None = Field(default=None, alias="docId", max_length=36)
    document_id: DocumentIdText | None = Field(default=None, alias="documentId")
    format: Literal["xml", "json"] = "xml"  # json: the edXML as a string, with the trace
    file_path: str | None = Field(default=None, alias="filePath", max_length=16)  # SDK: "xml"
    organ_id: str | None = Field(default=None, alias="organId", pattern=ORGAN_ID)
    """Mock addition: the agency reading; given, only its sender or a recipient reads it, and a
    recipient's trace shows its own delivery only."""

    @model_validator(mode="after")
    def _one_key(self) -> FetchRequest:
        if (self.doc_id is None) == (self.document_id is None):
            raise ValueError("give exactly one of docId and documentId")
        return self


class StatusFetch(BaseModel):
    """`getStatus` (mock addition): one status message of one recipient's delivery, by its
    place in that delivery's history (1 is the first)."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    document_id: DocumentIdText = Field(alias="documentId")
    organ_id: str = Field(alias="organId", pattern=ORGAN_ID)
    position: int = Field(ge=1, le=1_000_000)
    format: Literal["xml", "json"] = "xml"  # json: the entry, its SHA-256 and size
    reader: str | None = Field(default=None, alias="readerOrganId", pattern=ORGAN_ID)
    """The agency reading; given, only the message's reporter or its addressee reads it."""


def create_app(
    config: SystemConfig,
    *,
    bus_transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The endpoint of `config.province_code`'s agencies, seeded from `config.seed`;
    `bus_transport` reaches its LGSP (in-process, or a test's fake; None: the network)."""
    province_code = config.province_code or ""
    if province_code not in AGENCIES:  # the directory decides who may send and receive
        known = ", ".join(sorted(AGENCIES))
        raise ValueError(
            f"instance {config.instance}: the qlvb mock needs the province_code of a province "
            f"with agencies ({known}), got {config.province_code!r}"
        )
    clock = now or now_in_vietnam
    trust = trust_of(config)
    identities = identities_of(config.signing_identities)

    async def open_state(database: MockDatabase, stack: AsyncExitStack) -> Context:
        bus = await stack.enter_async_context(connect(config, bus_transport, now=clock))
        return Context(
            sessions=database.sessions,
            config=config,
            now=clock,
            bus=bus,
            open_store=DocumentStore,
            province_code=province_code,
            trust=TrustSource(trust, bus, refresh_seconds=config.trust_refresh_seconds),
            identities=identities,
        )

    async def seed(session: AsyncSession) -> int:
        store = DocumentStore(session, config.instance)
        if await store.count():
            return 0
        return await seed_documents(
            store,
            province_code=province_code,
            seed=config.seed,
            era=config.era,
            identities=identities,
        )

    app = stateful_app(
        config,
        title=f"Mock document exchange ({config.province_name or province_code})",
        description="VDXP SDK calls (POST) carrying edXML (QCVN 102:2016) documents.",
        metadata=QlvbBase.metadata,
        state_key=STATE_KEY,
        open_state=open_state,
        seed=seed,
    )
    install_error_handlers(app)

    @app.post("/sendEdoc", openapi_extra=XML_BODY)
    async def send_edoc(request: Request) -> JSONResponse:
        """Deliver an edXML document to each `To` agency; a resend answers the first DocId.

        `?sign=sender` (mock addition): the document was composed in this system (the bus's
        canonical JSON), so it signs it as the sending agency, when it holds that agency's key;
        without it, the bytes are the sender's own and kept as they are. It signs only once the
        sender is known to be an agency of this province that its own bus vouched for (a call
        that started at this instance: the bus let its caller send only as its agency), never
        for a call another province's bus passed on (`X-LGSP-Origin`): 422 UNKNOWN_SENDER.

        `Duplicate` (mock addition) says whether this exact document (same sender, code number
        and notation) had been sent before; then nothing is delivered again. Agencies of the
        topology's other provinces are taken when the endpoint has access to the bus: the
        document leaves over the national axis (store-and-forward), their status null until
        their province reports one.
        """
        context = context_of(request)
        body, reading = await read_document(request)
        refuse_future_dated(
            reading.message, now=context.now(), skew_seconds=context.config.clock_skew_seconds
        )
        sender = reading.message["from"]["organ_id"]
        _check_own_agency(context, sender, "UNKNOWN_SENDER")
        _check_called_from_here(request, context, sender, "UNKNOWN_SENDER")
        if request.query_params.get("sign") == "sender":  # composed here: signed as its sender
            body = await off_loop_if_large(
                len(body), partial(signed_as, context.identities, sender, body)
            )
        new = describe_document(context.config.instance, body, reading.message)
        recipients = axis.sort_recipients(context.config, new.recipients)
        _check_reachable(context, recipients)
        signature = await judged_signature(context, body)
        taken = replace(new, remote=recipients.remote, signature=signature)
        async with context.writing() as store:
            sent = await store.send(taken, at=context.now())
            if recipients.remote and not sent.duplicate:
                message = sent.business or sent.document
                call = axis.document_call(context.config, message, about=sent.document)
                await hand_over(context, call, request_id=request_id(request))
        return document_taken(sent, reading, signature)

    @app.post("/getReceivedEdocList", openapi_extra=body_doc("application/json", ListRequest))
    async def get_received_edoc_list(request: Request) -> JSONResponse:
        """A page of the documents (`edoc`) or status messages (`status`) an agency received;
        in era 2026 with those addressed to the closed bodies it succeeds (`_acting`), each
        knobstick's `to` the organ id it was addressed to."""
        context = context_of(request)
        query = await read_json(request, ListRequest)
        _check_own_agency(context, query.organ_id, "UNKNOWN_ORGAN")  # an inbox is ours
        async with context.reading() as store:
            if query.messagetype == "edoc":
                total, entries_ = await store.inbox(
                    _acting(request, query.organ_id), page=query.page, size=query.size
                )
                items = [_edoc_knobstick(entry) for entry in entries_]
            else:
                total, entries = await store.status_messages(
                    _acting(request, query.organ_id), page=query.page, size=query.size
                )
                items = [_status_knobstick(e, d, doc) for e, d, doc in entries]
        return ok(total=total, page=query.page, size=query.size, data=items)

    @app.post("/getAgenciesList", openapi_extra=body_doc("application/json", AgencyListRequest))
    async def get_agencies_list(request: Request) -> JSONResponse:
        """The agencies documents can be addressed to from here, as the SDK's `getAgenciesList`
        lists the axis's (`data`: `{id, code, name, mail, pid}`): this province's bodies of the
        era, then those of the topology's other provinces, then the central bodies (VPCP), when
        this system reaches the national axis, which serves them. Mock
        additions: `province` (its legacy code), `inProvince`. Every level is listed."""
        await read_json(request, AgencyListRequest)
        config = context_of(request).config
        others = sorted(code for code in config.provinces if code != province_code)
        listed: dict[str, dict[str, Any]] = {}
        for code in (province_code, *others):
            if code not in AGENCIES:
                continue
            for agency in (bodies := agencies_of(code, era=config.era)):
                entry = _agency_entry(agency, bodies[0], province_code)
                listed.setdefault(agency.organ_id, entry)
        if config.bus_client_id is not None:  # the axis serves central bodies itself
            for organ_id, name in central_agencies(config.central_agencies).items():
                listed.setdefault(organ_id, {"id": organ_id, "code": organ_id, "name": name,
                                             "inProvince": False})  # fmt: skip
        return ok(data=list(listed.values()))

    @app.post("/getEdoc", openapi_extra=body_doc("application/json", FetchRequest))
    async def get_edoc(request: Request) -> Response:
        """The edXML exactly as sent; with `format: json`, as a string beside its trace (given
        `organId`, a recipient's own delivery only) and (mock addition) its signature's check."""
        fetch = await read_json(request, FetchRequest)
        if fetch.doc_id is not None and (business := await _business(request, fetch)):
            return await _business_answer(request, fetch, business)
        async with _fetching(request, fetch) as (store, document):
            if fetch.format == "xml":
                return Response(document.edxml, media_type="application/xml")
            trace = await _trace(store, document, _parties(request, fetch.organ_id))
        context = context_of(request)
        await _add_transport(context, document, trace)
        return await _edoc_answer(context, document, trace)

    @app.post("/getEdocTrace", openapi_extra=body_doc("application/json", FetchRequest))
    async def get_edoc_trace(request: Request) -> JSONResponse:
        """Mock addition: each recipient's current status and its status history (given
        `organId`, a recipient's own only, as in `/getEdoc`)."""
        fetch = await read_json(request, FetchRequest)
        async with _fetching(request, fetch) as (store, document):
            trace = await _trace(store, document, _parties(request, fetch.organ_id))
        await _add_transport(context_of(request), document, trace)
        return ok(
            DocId=document.doc_id,
            DocumentId=document.document_id,
            From=document.sender,
            trace=trace,
        )

    @app.post("/getStatus", openapi_extra=body_doc("application/json", StatusFetch))
    async def get_status(request: Request) -> Response:
        """Mock addition: a status message exactly as this system received it (its reporter's
        bytes, Signature included), or with `format: json` what the trace shows of it and its
        signature's check now (`Signature`, as `/getEdoc` shows a document's). Given
        `readerOrganId`, only its reporter and the agency it is addressed to read it."""
        fetch = await read_json(request, StatusFetch)
        async with context_of(request).reading() as store:
            document = await store.find(document_id=fetch.document_id)
            entry = None
            if document is not None:
                entry = await store.status_entry(document, fetch.organ_id, fetch.position)
        if document is None or entry is None or entry.edxml is None:
            raise MockError(404, "STATUS_NOT_FOUND", "No such status message in this province.")
        if fetch.reader is not None and fetch.reader not in (entry.reported_by, entry.addressee):
            raise MockError(
                403, "NOT_A_PARTY", f"The status message is neither from nor to {fetch.reader}."
            )
        if fetch.format == "xml":
            return Response(entry.edxml, media_type="application/xml")
        return ok(
            Signature=await signature_of(context_of(request), entry.edxml),
            DocumentId=document.document_id,
            OrganId=fetch.organ_id,
            Position=entry.position,
            **_status_shown(entry),
            ContentSha256=sha256(entry.edxml),
            ContentLength=len(entry.edxml),
        )

    @app.post("/updateStatus", openapi_extra=XML_BODY)
    async def update_status(request: Request) -> JSONResponse:
        """Apply an edXML status message (DOMAIN.md §3.4) to the document its ResponseFor names.

        `?sign=sender` (mock addition): the message was composed in this system (the bus's
        canonical JSON report), so it signs it as the reporting agency (`From`), as it signs the
        documents it composes; without it, the bytes are the reporter's own. Either way the
        signature is checked as a document's is (`Signature`, mock addition; refused under a
        `refuse` policy).

        Its `From` reports: a recipient any code of its delivery's next step, the sender a
        recall request (13). The SDK's own `updateStatus` carries a transport status
        (`processing|done|fail`); here it carries the edXML one, as the brief of this mock asks.
        `From` is an agency of this province: another province's statuses arrive over the
        national axis (`/receiveStatus`). One that must travel there (a recipient here, a
        document from another province; or a recall reaching one) is handed to the bus. A
        Timestamp ahead of the clock is refused as a document's date is (`future_dated`). In
        era 2026 a `From` under a level-1 code the 2025 merger closed reports nothing dated
        since (AGENCY_CODE_CLOSED); the body that succeeds it reports on its documents.
        """
        context = context_of(request)
        body, reading = await read_status_message(request)
        status = reading.message
        refuse_future_dated(
            status, now=context.now(), skew_seconds=context.config.clock_skew_seconds
        )
        refuse_closed_reporter(context.config, status)
        response_for, reporter = status["response_for"], status["from"]
        if axis.is_remote(context.config, reporter["organ_id"]):
            raise _other_province(
                [reporter["organ_id"]],
                "its statuses arrive over NDXP's national document axis, not through this call.",
            )
        _check_called_from_here(request, context, reporter["organ_id"], "OTHER_PROVINCE")
        if request.query_params.get("sign") == "sender":  # composed here: signed as its reporter
            body = signed_as(context.identities, reporter["organ_id"], body)
        signature = await judged_signature(context, body)
        async with context.writing() as store:
            document = await store.find(document_id=response_for["document_id"])
            if document is None or not answers(document, response_for):
                raise not_found()
            report = report_of(status, body, context.config)
            reported = await apply_report(store, document, report, context.now())
            forward = axis.status_to_forward(context.config, document, reported)
            if forward is not None:
                require_bus(context)
                delivery, position = forward
                call = axis.status_call(
                    context.config, document, report, delivery=delivery, position=position
                )
                await hand_over(context, call, request_id=request_id(request))
        return delivered(
            document, reported.deliveries, Warnings=warnings(reading), Signature=signature
        )

    app.include_router(inbound.router)
    return app


def _other_province(organ_ids: Sequence[str], why: str) -> MockError:
    return MockError(
        422,
        "OTHER_PROVINCE",
        f"{', '.join(organ_ids)}: an agency of another province; {why}",
        OrganIds=list(organ_ids),
    )


def _check_own_agency(context: Context, organ_id: str, unknown_code: str) -> None:
    """An agency of this province, or 422: `unknown_code` when no agency has the id at all.

    The directory is mocks/directory/agencies.py's: one organisation list per province.
    """
    province = axis.province_of(context.config, organ_id)
    if province == context.province_code:
        return
    if unknown_code == "UNKNOWN_SENDER":
        raise MockError(
            422,
            "UNKNOWN_SENDER",
            f"{organ_id} is not an agency of this province: it sends through its own.",
            OrganIds=[organ_id],
        )
    if province is None:
        raise MockError(
            422, unknown_code, f"No agency has organ id {organ_id}.", OrganIds=[organ_id]
        )
    raise _other_province([organ_id], "its inbox is its own province's.")


def _check_called_from_here(
    request: Request,
    context: Context,
    organ_id: str,
    code: Literal["UNKNOWN_SENDER", "OTHER_PROVINCE"],
) -> None:
    """Refuse a document or status of an agency of this province that another province's bus
    passed on (`X-LGSP-Origin`, which the bus learns from credentials): only this instance's
    bus vouches for who its callers act for, so nothing is taken, nor signed, on another's
    word. A call with no origin (the endpoint run on its own) is taken as before."""
    origin = request.headers.get(ORIGIN_HEADER)
    if origin is None or origin == context.config.instance:
        return
    why = f"the call came from {origin}, and an agency sends and reports through its own bus."
    if code == "OTHER_PROVINCE":
        raise _other_province([organ_id], why)
    raise MockError(422, code, f"{organ_id}: {why}", OrganIds=[organ_id])


def _check_reachable(context: Context, recipients: axis.Recipients) -> None:
    if recipients.unknown:
        unknown = list(recipients.unknown)
        raise MockError(
            422, "UNKNOWN_ORGAN", f"No agency has organ id {', '.join(unknown)}.", OrganIds=unknown
        )
    if recipients.unreachable:
        why = (
            "documents between provinces travel over NDXP's national document axis, and this "
            "endpoint has no access to the bus."
            if context.config.bus_client_id is None
            else "its province is not in this bus's topology, so NDXP's national document axis "
            "cannot reach it."
        )
        raise _other_province(recipients.unreachable, why)


@asynccontextmanager
async def _fetching(
    request: Request, fetch: FetchRequest
) -> AsyncIterator[tuple[DocumentStore, Document]]:
    """The document `fetch` names (404 if none), in a read of the store it came from."""
    async with context_of(request).reading() as store:
        document = await store.find(doc_id=fetch.doc_id, document_id=fetch.document_id)
        if document is None:
            raise not_found()
        parties = _parties(request, fetch.organ_id)
        if parties is not None and document.sender not in parties:
            if not parties & {d.recipient for d in await store.deliveries(document)}:
                raise MockError(
                    403, "NOT_A_PARTY", f"{fetch.organ_id} neither sent nor received it."
                )
        yield store, document


def _parties(request: Request, reader: str | None) -> frozenset[str] | None:
    """Whose part `reader` takes in a document: its own, and in era 2026 that of the bodies
    under closed codes it succeeds (`PREDECESSORS`), whose documents it reads and reports on;
    None for no reader."""
    return None if reader is None else _acting(request, reader)


def _acting(request: Request, reader: str) -> frozenset[str]:
    """`reader` and, in era 2026, the closed bodies it succeeds (`PREDECESSORS`)."""
    today = context_of(request).config.era == "2026"
    return frozenset({reader, *(PREDECESSORS.get(reader, ()) if today else ())})


async def _trace(
    store: DocumentStore, document: Document, reader: frozenset[str] | None
) -> list[dict[str, Any]]:
    """Each delivery's status and history, as `reader` may see them: the sender (or, with no
    reader, anyone) every recipient's, a recipient its own delivery's only. Every entry of that
    history is its report to the sender or the sender's recall to it (`StatusEntry.addressee`),
    so it sees what `/getStatus` would give it, and no other recipient's statuses or StaffInfo:
    a status message goes from its reporter to its addressee alone (DOMAIN.md §8.6 A.6).
    Statuses and histories are read together (`DocumentStore.traced`): they agree."""
    traced = await store.traced(document)
    if reader is not None and document.sender not in reader:
        traced = [
            (delivery, entries) for delivery, entries in traced if delivery.recipient in reader
        ]
    return [_traced(delivery, entries) for delivery, entries in traced]


def _traced(
    delivery: Delivery | BusinessDelivery, entries: Sequence[StatusEntry] = ()
) -> dict[str, Any]:
    """A delivery as a trace shows it, with the status messages of its history. A business
    message's has no status (statuses are reported on its document), and nothing changed it
    since it was delivered."""
    if isinstance(delivery, Delivery):
        state = (delivery.status, delivery.before_recall, delivery.updated_at)
    else:
        state = (None, None, delivery.delivered_at)
    status, before_recall, updated = state
    return {
        "OrganId": delivery.recipient,
        "StatusCode": status,
        "StatusBeforeRecall": before_recall,
        "RemoteInstance": delivery.remote_instance,  # mock addition: sent over the axis
        "DeliveredTime": delivery.delivered_at.astimezone(VIETNAM_TIME).isoformat(),
        "UpdatedTime": updated.astimezone(VIETNAM_TIME).isoformat(),
        "History": [
            {
                **_status_shown(entry),
                "StaffInfo": _edxml_names(entry.staff_info),
                "ReceivedTime": entry.received_at.astimezone(VIETNAM_TIME).isoformat(),
            }
            for entry in entries
        ],
    }


_STATUS_SHOWN = {
    "StatusCode": "status",
    "Description": "description",
    "Timestamp": "timestamp",
    "ReportedBy": "reported_by",
}
"""What the trace and `/getStatus` show alike of a status entry: name → `StatusEntry` column."""


def _status_shown(entry: StatusEntry) -> dict[str, Any]:
    return {name: getattr(entry, column) for name, column in _STATUS_SHOWN.items()}


async def _add_transport(
    context: Context,
    document: Document,
    trace: list[dict[str, Any]],
    business: BusinessMessage | None = None,
) -> None:
    """Mock addition `Transport` on each delivery of the document (or of its business message
    `business`): `delivered` (here, or reported on), or for one still without a status in
    another province, `in_transit`, or `undeliverable` with the reason once the bus gave up on
    its hand-over (a dead letter, issue 17), which an admin's re-drive turns back into
    `in_transit`. A business message has no statuses: it is `delivered` once the axis's
    hand-over to that province is. Asked of the bus, after the store's read."""
    waiting = [item for item in trace if item["RemoteInstance"] and item["StatusCode"] is None]
    for item in trace:
        item["Transport"] = {"State": "delivered", "Reason": None}
    if not waiting:
        return
    what = "the document" if business is None else "the message"
    key = axis.document_call(context.config, business or document).idempotency_key
    handed = await context.bus.handed_over(key)
    forwarded: dict[str, tuple[str, str | None]] = {}
    if handed is not None and handed.state == "delivered":  # the axis has it: ask how it went on
        forwarded = await axis.forwardings(
            context.bus, document.document_id, business, national=context.config.national_instance
        )
    for item in waiting:
        item["Transport"] = {"State": "in_transit", "Reason": None}
        state, reason = forwarded.get(item["RemoteInstance"], ("unknown", None))
        if handed is not None and handed.state == "dead":
            why = f"HTTP {handed.last_status}" if handed.last_status else "no answer"
            error = f": {handed.last_error}" if handed.last_error else ""
            item["Transport"] = {
                "State": "undeliverable",
                "Reason": f"The bus gave up handing {what} to the national axis ({why}{error}).",
            }
        elif state == "dead":
            item["Transport"] = {
                "State": "undeliverable",
                "Reason": f"The national axis gave up forwarding {what} to "
                f"{item['RemoteInstance']} ({reason or 'no reason given'}).",
            }
        elif state == "delivered" and business is not None:
            item["Transport"] = {"State": "delivered", "Reason": None}


def _edoc_knobstick(entry: InboxEntry) -> dict[str, Any]:
    """A delivered document or business message as a knobstick (DOMAIN.md §2.4), with what an
    inbox shows. Mock additions: `businessType` (Bussiness/BussinessDocType, §3.3), `refersTo`
    and `refersToDocumentId` (for a revocation, update or replacement: the DocId and DocumentId
    of the document it is about, which keeps its own entry) and `signature` (the check when
    the message was taken; null when not kept: seeded, or taken before it was)."""
    delivery, document, message = entry.delivery, entry.document, entry.business
    delivered_at = delivery.delivered_at.astimezone(VIETNAM_TIME).isoformat()
    item = message if message is not None else document
    return {
        "id": item.doc_id,
        "messageType": "edoc",
        "serviceType": "eDoc",
        "status": "delivered",  # transport status (§8.3); the edXML one is statusCode
        "from": item.sender,
        "to": delivery.recipient,
        "createdTime": delivered_at,
        "updatedTime": (
            delivered_at
            if isinstance(delivery, BusinessDelivery)
            else delivery.updated_at.astimezone(VIETNAM_TIME).isoformat()
        ),
        "contentSha256": item.content_sha256,
        "contentLength": item.content_length,
        "documentId": item.document_id,
        "subject": item.subject,
        "fromOrganization": _edxml_names(item.sender_record),
        "statusCode": None if isinstance(delivery, BusinessDelivery) else delivery.status,
        "businessType": item.business_type or 0,
        "refersTo": None if message is None else document.doc_id,
        "refersToDocumentId": None if message is None else document.document_id,
        "signature": item.signature,
    }


@dataclass(frozen=True)
class _Business:
    """A business message read, the document it is about, and its deliveries."""

    message: BusinessMessage
    document: Document
    deliveries: list[BusinessDelivery]


async def _business(request: Request, fetch: FetchRequest) -> _Business | None:
    """The business message `fetch.doc_id` names and the document it is about, if it is one;
    403 NOT_A_PARTY for a reader that neither sent nor received it."""
    async with context_of(request).reading() as store:
        message = await store.find_business(fetch.doc_id or "")
        if message is None:
            return None
        document = await store.find(pk=message.document_pk)
        deliveries = await store.business_deliveries(message)
    readers = {message.sender, *(d.recipient for d in deliveries)}
    if fetch.organ_id is not None and fetch.organ_id not in readers:
        raise MockError(403, "NOT_A_PARTY", f"{fetch.organ_id} neither sent nor received it.")
    if document is None:  # the foreign key keeps it: a message outlives no document
        raise not_found()
    return _Business(message, document, deliveries)


async def _business_answer(request: Request, fetch: FetchRequest, found: _Business) -> Response:
    """`/getEdoc` of a business message: its bytes as sent, or in JSON with its business type,
    the document it refers to (`RefersTo`, its DocId; `RefersToDocumentId`) and its
    signature's check now. Its trace has each delivery (a recipient reading, its own) with no
    status, statuses being reported on the document, and its `Transport` as a document's: a
    message the axis could not forward is `undeliverable`, until an admin re-drives it."""
    message, document = found.message, found.document
    if fetch.format == "xml":
        return Response(message.edxml, media_type="application/xml")
    context = context_of(request)
    reader = fetch.organ_id
    trace = [
        _traced(delivery)
        for delivery in found.deliveries
        if reader is None or reader in (message.sender, delivery.recipient)
    ]
    await _add_transport(context, document, trace, message)
    return await _edoc_answer(
        context, message, trace, RefersTo=document.doc_id, RefersToDocumentId=document.document_id
    )


async def _edoc_answer(
    context: Context, sent: Document | BusinessMessage, trace: list[dict[str, Any]], **extra: Any
) -> JSONResponse:
    """`/getEdoc` in JSON of a document or a business message alike: its ids, its bytes, its
    trace, its signature's check now and (mock addition, as the inbox shows it) its business
    type; `extra` for what only a business message has."""
    return ok(
        DocId=sent.doc_id,
        DocumentId=sent.document_id,
        edxml=sent.edxml.decode("utf-8"),  # read_edxml accepted only UTF-8
        trace=trace,
        Signature=await signature_of(context, sent.edxml),
        BusinessType=sent.business_type or 0,
        **extra,
    )


def _agency_entry(agency: Agency, head: Agency, own: str) -> dict[str, Any]:
    """An agency as the SDK lists it: `pid` the province's People's Committee (assigned), which
    itself has none."""
    entry = {"id": agency.organ_id, "code": agency.organ_id, "name": agency.name,
             "mail": agency.email, "province": agency.official_code,
             "inProvince": agency.province_code == own}  # fmt: skip
    if agency is not head:
        entry["pid"] = head.organ_id
    return entry


def _status_knobstick(entry: StatusEntry, delivery: Delivery, document: Document) -> dict[str, Any]:
    return {
        "id": f"{document.doc_id}/{delivery.recipient}/{entry.position}",
        "messageType": "status",
        "serviceType": "eDoc",
        "from": entry.reported_by,
        "to": entry.addressee,
        "createdTime": entry.received_at.astimezone(VIETNAM_TIME).isoformat(),
        "docId": document.doc_id,
        "documentId": document.document_id,
        "recipient": delivery.recipient,
        "position": entry.position,
        "statusCode": entry.status,
        "description": entry.description,
        "timestamp": entry.timestamp,
        "staffInfo": _edxml_names(entry.staff_info),
    }


def _edxml_names(record: dict[str, Any] | None) -> dict[str, Any] | None:
    """A canonical record under its edXML element names (organ_add → OrganAdd; §3.2, §3.3)."""
    if record is None:
        return None
    return {
        "".join(part.title() for part in key.split("_")): value for key, value in record.items()
    }
