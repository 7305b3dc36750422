"""A province's document exchange endpoint, speaking the VDXP SDK's calls (DOMAIN.md §2.4).

Every call is a POST, as in VPCP's `SDKVXP` jar: `/sendEdoc` takes an edXML document (QCVN
102:2016, DOMAIN.md §3) and delivers it to each `To` agency of the province; recipients list
their inbox with `/getReceivedEdocList`, fetch it with `/getEdoc` and report edXML status codes
(§3.6) with `/updateStatus`; `/getEdocTrace` is the sender's view of those statuses. Answers
carry the SDK's response fields `{status: OK|FAIL, ErrorCode, ErrorDesc, DocId}`; error codes
are the mock's own mnemonics (VPCP's numeric codes are not public).

Mock additions, each named in its handler: `Duplicate` and `Recipients` on `/sendEdoc`, the
`documentId` and `format: json` options of `/getEdoc`, `/getEdocTrace` itself. Simplified: the
message travels in the body (`application/xml`), not as a multipart file with a JSON `header`
part, and the mock does not add a `TraceHeader` for its hop, because that would change the
sender's signed bytes (§3.1 `Signature` covers the envelope).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.edxml import DEFAULT_LIMITS, InvalidEdxml, parse_edxml, parse_status
from mocks.config import SystemConfig
from mocks.db import open_mock_database
from mocks.dvc.agencies import AGENCIES, find_agency
from mocks.qlvb.lifecycle import IllegalStatusTransition
from mocks.qlvb.models import MAX_DOCUMENT_ID, Delivery, Document, QlvbBase, StatusEntry
from mocks.qlvb.seed import seed_documents
from mocks.qlvb.store import DocumentStore, NotAParty, Report, describe_document

# Vietnam keeps UTC+7 all year (no daylight saving time), so a fixed offset is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
MAX_PAGE_SIZE = 100
MAX_JSON_BODY = 4 * 1024
MAX_STATUS_BODY = 256 * 1024  # a status message has no attachments (DOMAIN.md §3.4)
STATE_KEY = "qlvb"
ORGAN_ID = r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$"  # DOMAIN.md §8.2
_XML = ("application/xml", "text/xml")
_Model = TypeVar("_Model", bound=BaseModel)


def _now_in_vietnam() -> datetime:
    return datetime.now(VIETNAM_TIME)


class MockError(Exception):
    """An answer with `status: FAIL`: HTTP status, the mock's `ErrorCode`, and extra fields."""

    def __init__(self, status: int, error_code: str, desc: str, **extra: Any) -> None:
        super().__init__(desc)
        self.status, self.error_code, self.desc, self.extra = status, error_code, desc, extra


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
    document_id: str | None = Field(default=None, alias="documentId", max_length=MAX_DOCUMENT_ID)
    format: Literal["xml", "json"] = "xml"  # json: the edXML as a string, with the trace
    file_path: str | None = Field(default=None, alias="filePath", max_length=16)  # SDK: "xml"

    @model_validator(mode="after")
    def _one_key(self) -> FetchRequest:
        if (self.doc_id is None) == (self.document_id is None):
            raise ValueError("give exactly one of docId and documentId")
        return self


@dataclass(frozen=True)
class _Context:
    """What the lifespan opened; each request finds it in `request.state`."""

    sessions: async_sessionmaker[AsyncSession]
    config: SystemConfig
    province_code: str
    now: Callable[[], datetime]


def create_app(config: SystemConfig, *, now: Callable[[], datetime] | None = None) -> FastAPI:
    """The endpoint of `config.province_code`'s agencies, seeded from `config.seed`."""
    province_code = config.province_code or ""
    if province_code not in AGENCIES:  # the directory decides who may send and receive
        known = ", ".join(sorted(AGENCIES))
        raise ValueError(
            f"instance {config.instance}: the qlvb mock needs the province_code of a province "
            f"with agencies ({known}), got {config.province_code!r}"
        )
    clock = now or _now_in_vietnam

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_mock_database(config.database_url, QlvbBase.metadata) as database:
            context = _Context(database.sessions, config, province_code, clock)
            async with _writing(context) as store:
                if await store.count() == 0:
                    await seed_documents(store, province_code=province_code, seed=config.seed)
            yield {STATE_KEY: context}

    app = FastAPI(
        title=f"Mock document exchange ({config.province_name or province_code})",
        description="VDXP SDK calls (POST) carrying edXML (QCVN 102:2016) documents.",
        lifespan=lifespan,
    )
    _install_error_handlers(app)
    xml_body = _body_doc("application/xml", {"type": "string", "description": "edXML"})

    @app.post("/sendEdoc", openapi_extra=xml_body)
    async def send_edoc(request: Request) -> JSONResponse:
        """Deliver an edXML document to each `To` agency; a resend answers the first DocId.

        `Duplicate` (mock addition) says whether this exact document (same sender, code number
        and notation) had been sent before; then nothing is delivered again.
        """
        context = _context(request)
        body = await _read_body(request, _XML, DEFAULT_LIMITS.max_bytes)
        new = describe_document(context.config.instance, body, parse_edxml(body))
        _check_sender(context, new.sender)
        _check_recipients(context, new.recipients)
        async with _writing(context) as store:
            sent = await store.send(new, at=context.now())
        return _ok(
            DocId=sent.document.doc_id,
            DocumentId=sent.document.document_id,
            Duplicate=sent.duplicate,
            Recipients=[{"OrganId": d.recipient, "StatusCode": d.status} for d in sent.deliveries],
        )

    @app.post("/getReceivedEdocList", openapi_extra=_body_doc("application/json", ListRequest))
    async def get_received_edoc_list(request: Request) -> JSONResponse:
        """A page of the documents (`edoc`) or status messages (`status`) an agency received."""
        context = _context(request)
        query = _parse_json(ListRequest, await _read_body(request, ("application/json",)))
        _check_recipients(context, [query.organ_id])  # an inbox is a recipient's
        async with _reading(context) as store:
            if query.messagetype == "edoc":
                total, deliveries = await store.inbox(
                    query.organ_id, page=query.page, size=query.size
                )
                items = [_edoc_knobstick(d, doc) for d, doc in deliveries]
            else:
                total, entries = await store.status_messages(
                    query.organ_id, page=query.page, size=query.size
                )
                items = [_status_knobstick(e, d, doc) for e, d, doc in entries]
        return _ok(total=total, page=query.page, size=query.size, data=items)

    @app.post("/getEdoc", openapi_extra=_body_doc("application/json", FetchRequest))
    async def get_edoc(request: Request) -> Response:
        """The edXML exactly as sent; with `format: json`, as a string beside its trace."""
        context = _context(request)
        fetch = _parse_json(FetchRequest, await _read_body(request, ("application/json",)))
        async with _reading(context) as store:
            document = await _find(store, fetch)
            if fetch.format == "xml":
                return Response(document.edxml, media_type="application/xml")
            trace = await _trace(store, document)
        return _ok(
            DocId=document.doc_id,
            DocumentId=document.document_id,
            edxml=document.edxml.decode("utf-8"),  # parse_edxml accepted only UTF-8
            trace=trace,
        )

    @app.post("/getEdocTrace", openapi_extra=_body_doc("application/json", FetchRequest))
    async def get_edoc_trace(request: Request) -> JSONResponse:
        """Mock addition: each recipient's current status and its status history."""
        context = _context(request)
        fetch = _parse_json(FetchRequest, await _read_body(request, ("application/json",)))
        async with _reading(context) as store:
            document = await _find(store, fetch)
            trace = await _trace(store, document)
        return _ok(
            DocId=document.doc_id,
            DocumentId=document.document_id,
            From=document.sender,
            trace=trace,
        )

    @app.post("/updateStatus", openapi_extra=xml_body)
    async def update_status(request: Request) -> JSONResponse:
        """Apply an edXML status message (DOMAIN.md §3.4) to the document its ResponseFor names.

        Its `From` reports: a recipient any code of its delivery's next step, the sender a
        recall request (13). The SDK's own `updateStatus` carries a transport status
        (`processing|done|fail`); here it carries the edXML one, as the brief of this mock asks.
        """
        context = _context(request)
        status = parse_status(await _read_body(request, _XML, MAX_STATUS_BODY))
        response_for = status["response_for"]
        async with _writing(context) as store:
            document = await store.find(document_id=response_for["document_id"])
            if document is None or document.sender != response_for["organ_id"]:
                raise _not_found()
            report = Report(
                reporter=status["from"]["organ_id"],
                code=status["status_code"],
                description=status["description"],
                timestamp=status["timestamp"],
                staff_info=status["staff_info"],
            )
            try:
                deliveries = await store.report(document, report, at=context.now())
            except IllegalStatusTransition as error:
                raise MockError(
                    409,
                    "ILLEGAL_STATUS",
                    str(error),
                    CurrentStatus=error.current,
                    AllowedStatusCodes=list(error.allowed),
                ) from None
            except NotAParty:
                raise MockError(
                    403, "NOT_A_PARTY", "The reporting organisation neither sent nor received it."
                ) from None
        return _ok(
            DocId=document.doc_id,
            DocumentId=document.document_id,
            Recipients=[{"OrganId": d.recipient, "StatusCode": d.status} for d in deliveries],
        )

    return app


def _context(request: Request) -> _Context:
    context: _Context = getattr(request.state, STATE_KEY)
    return context


@asynccontextmanager
async def _writing(context: _Context) -> AsyncIterator[DocumentStore]:
    """One write transaction; `BEGIN IMMEDIATE` on SQLite takes the write lock before reading."""
    async with context.sessions() as session:
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield DocumentStore(session, context.config.instance)
        await session.commit()


@asynccontextmanager
async def _reading(context: _Context) -> AsyncIterator[DocumentStore]:
    async with context.sessions() as session:
        yield DocumentStore(session, context.config.instance)


async def _read_body(
    request: Request, media_types: tuple[str, ...], limit: int = MAX_JSON_BODY
) -> bytes:
    """The body, refused unless of `media_types`, and never read past `limit` bytes."""
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type not in media_types:
        raise MockError(415, "UNSUPPORTED_MEDIA_TYPE", f"Send {' or '.join(media_types)}.")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise MockError(413, "TOO_LARGE", f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_json(model: type[_Model], body: bytes) -> _Model:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        errors = [
            {"loc": list(detail["loc"]), "msg": detail["msg"], "type": detail["type"]}
            for detail in error.errors(include_url=False, include_input=False)
        ]
        raise MockError(
            422, "INVALID_REQUEST", "The request body is not valid.", Errors=errors
        ) from None


def _strangers(context: _Context, organ_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """The organ ids no agency has, and those of another province's agencies.

    The directory is mocks/dvc/agencies.py's: one organisation list per province.
    """
    agencies = {organ_id: find_agency(organ_id) for organ_id in organ_ids}
    unknown = [o for o, agency in agencies.items() if agency is None]
    elsewhere = [
        o
        for o, agency in agencies.items()
        if agency is not None and agency.province_code != context.province_code
    ]
    return unknown, elsewhere


def _check_recipients(context: _Context, organ_ids: Sequence[str]) -> None:
    unknown, elsewhere = _strangers(context, organ_ids)
    if unknown:
        raise MockError(
            422, "UNKNOWN_ORGAN", f"No agency has organ id {', '.join(unknown)}.", OrganIds=unknown
        )
    if elsewhere:
        raise MockError(
            422,
            "OTHER_PROVINCE",
            f"{', '.join(elsewhere)}: an agency of another province. Documents between provinces "
            "travel over NDXP's national document axis, which is not available yet.",
            OrganIds=elsewhere,
        )


def _check_sender(context: _Context, organ_id: str) -> None:
    if any(_strangers(context, [organ_id])):
        raise MockError(
            422,
            "UNKNOWN_SENDER",
            f"{organ_id} is not an agency of this province: it sends through its own.",
            OrganIds=[organ_id],
        )


async def _find(store: DocumentStore, fetch: FetchRequest) -> Document:
    document = await store.find(doc_id=fetch.doc_id, document_id=fetch.document_id)
    if document is None:
        raise _not_found()
    return document


def _not_found() -> MockError:
    return MockError(404, "DOCUMENT_NOT_FOUND", "No such document in this province.")


async def _trace(store: DocumentStore, document: Document) -> list[dict[str, Any]]:
    deliveries = await store.deliveries(document)
    history = await store.history(deliveries)
    return [
        {
            "OrganId": delivery.recipient,
            "StatusCode": delivery.status,
            "StatusBeforeRecall": delivery.before_recall,
            "DeliveredTime": delivery.delivered_at.astimezone(VIETNAM_TIME).isoformat(),
            "UpdatedTime": delivery.updated_at.astimezone(VIETNAM_TIME).isoformat(),
            "History": [
                {
                    "StatusCode": entry.status,
                    "Description": entry.description,
                    "Timestamp": entry.timestamp,
                    "StaffInfo": _edxml_names(entry.staff_info),
                    "ReportedBy": entry.reported_by,
                    "ReceivedTime": entry.received_at.astimezone(VIETNAM_TIME).isoformat(),
                }
                for entry in history[delivery.id]
            ],
        }
        for delivery in deliveries
    ]


def _edoc_knobstick(delivery: Delivery, document: Document) -> dict[str, Any]:
    """A delivered document as a knobstick (DOMAIN.md §2.4), with what an inbox shows."""
    return {
        "id": document.doc_id,
        "messageType": "edoc",
        "serviceType": "eDoc",
        "status": "delivered",  # transport status (§8.3); the edXML one is statusCode
        "from": document.sender,
        "to": delivery.recipient,
        "createdTime": delivery.delivered_at.astimezone(VIETNAM_TIME).isoformat(),
        "updatedTime": delivery.updated_at.astimezone(VIETNAM_TIME).isoformat(),
        "contentSha256": document.content_sha256,
        "contentLength": document.content_length,
        "documentId": document.document_id,
        "subject": document.subject,
        "fromOrganization": _edxml_names(document.sender_record),
        "statusCode": delivery.status,
    }


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


def _ok(**fields: Any) -> JSONResponse:
    return JSONResponse({"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **fields})


def _body_doc(media_type: str, schema: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
    """The request body for OpenAPI: handlers read bodies themselves, bounded."""
    if not isinstance(schema, dict):
        schema = schema.model_json_schema(by_alias=True)
    return {"requestBody": {"required": True, "content": {media_type: {"schema": schema}}}}


def _install_error_handlers(app: FastAPI) -> None:
    """Every error as `{status: FAIL, ErrorCode, ErrorDesc}`, router 404/405 included."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        headers: dict[str, str] | None = None
        extra: dict[str, Any] = {}
        if isinstance(exc, MockError):
            status, code, desc, extra = exc.status, exc.error_code, exc.desc, exc.extra
        elif isinstance(exc, InvalidEdxml):  # the codec names elements, never their values
            status, code, desc, extra = 422, "INVALID_EDXML", exc.detail, {"Rule": exc.rule}
        elif isinstance(exc, StarletteHTTPException):
            status, code, desc = exc.status_code, str(exc.status_code), str(exc.detail)
            headers = dict(exc.headers or {})  # e.g. Allow on a 405
        else:  # pragma: no cover - only the classes registered below reach this handler
            raise exc
        return JSONResponse(
            {"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc, **extra},
            status_code=status,
            headers=headers,
        )

    for exception_class in (MockError, InvalidEdxml, StarletteHTTPException):
        app.add_exception_handler(exception_class, handle)
