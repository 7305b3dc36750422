"""The VDXP SDK's door (`adapters.dialects.vdxpsdk`): a vendor points the SDK's `endpoint` at
`{base}/vdxp-sdk` and its `sendEdoc` goes through the same core as a call in the bus's own
dialect (`qlvb` send_document, or post_status for a status message), same rights, audit and
journal.

The call's `XroadVnpt-*` HMAC is checked against the system's sealed secret
(`lgsp.dialects.tokens.sdk_secret`; `lgsp clients create --dialect vdxpsdk` keeps it) before
anything else; the body is bounded and must be the file its signed `hash-file` names. What the
door refuses itself — a signature, a timestamp or a file that does not hold (401), a path, a
size or a signed entry (404, 413, 422) — never reaches the core and is recorded at the door's
path with the status sent (`Door._refuse`), as every door records its own refusals. The caller
reads the SDK's `{status: FAIL, ErrorCode, ErrorDesc}` with the door's stable code.

The jar's other calls are served the same way, each as the core operation that answers it:
`getReceivedEdocList` as qlvb get_inbox (the system's own agency's inbox, as the core narrows
it), `countReceiveEdoc` and `countReceiveStatus` as the same inbox's `total` (documents, or
status messages), `getEdoc` as get_document (or get_status, for a status message's knobstick)
asked as XML, whose bytes are answered in base64, `downloadEdoc` (a GET) as the same, answering
the bytes themselves, `getSentEdocList` as get_document in JSON, one entry per recipient, and
`updateStatus` `done` as post_status 01 (arrived) for the system's agency; its `processing` and
`fail` change nothing here (the bus keeps no knobstick queue) and read the document, so that
rights and existence are checked and recorded; `getAgenciesList`, `getAgenciesListQD20` and
`getSynchronizeUnit` as qlvb list_organisations. Any other path is unknown: `registerAgency`
and `deleteAgency` would change a register of agencies the bus does not keep (its directory is
the seed's).

At the national instance the jar is a central body's document system (VPCP's: the SDK's calls
are the national axis's, DOMAIN.md §2.4, and its sample's sender is VPCP): `sendEdoc` is vdxp
send_central_document (send_central_status), the inbox calls read the body's national inbox
(get_central_inbox) and `getEdoc`, `downloadEdoc` one message of it (get_central_message).
Its other calls (`updateStatus`, `getSentEdocList`, the agency lists) are a province's: 404
`NOT_OFFERED_HERE`, where they fell through to qlvb, which NDXP does not serve (403).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.types import Scope, Send

from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME
from formats.ngsp import request_object
from lgsp.auth.keys import KeyCipher
from lgsp.auth.repository import ClientRepository
from lgsp.dialects.door import Door, DoorCall, Reply
from lgsp.dialects.exchange import (
    KEPT_FROM_CORE,
    Answer,
    body_once,
    problem_of,
    read_body,
    respond,
    respond_bytes,
)
from lgsp.dialects.tokens import digest, sdk_secret

SEND = sdk.SEND_EDOC
QUERIES = {
    sdk.GET_RECEIVED: "POST",
    sdk.COUNT_RECEIVED: "POST",
    sdk.COUNT_STATUS: "POST",
    sdk.GET_EDOC: "POST",
    sdk.DOWNLOAD_EDOC: "GET",
    sdk.UPDATE_STATUS: "POST",
    sdk.GET_SENT: "POST",
    sdk.GET_AGENCIES: "POST",
    sdk.GET_AGENCIES_QD20: "POST",
    sdk.GET_UNITS: "POST",
}
"""The jar's calls without a file, each with the method the jar sends it with."""
INBOX_CALLS = {sdk.GET_RECEIVED: None, sdk.COUNT_RECEIVED: "edoc", sdk.COUNT_STATUS: "status"}
"""The calls answered by the inbox, and the kind each counts (None: the signed messagetype)."""
NATIONAL_CALLS = frozenset({*INBOX_CALLS, sdk.GET_EDOC, sdk.DOWNLOAD_EDOC})
"""The calls that, at the national instance, read a central body's national inbox."""
QLVB, VDXP = "qlvb/v1", "vdxp/v1"
MAX_QUERY_BODY = 64 * 1024
"""The jar sends these calls without a body; anything larger is not one of them."""
INBOX_PAGE = 100
"""The knobsticks one `getReceivedEdocList` lists (the core's largest inbox page); a signed
`page` entry (mock addition) reads further."""
ARRIVED = {"status_code": "01", "description": "Đã nhận văn bản (VDXP SDK updateStatus done)"}
_DROPPED = (b"content-type", b"content-length", b"user-agent", b"authorization", b"accept")
_UNKNOWN_SYSTEM = "-\x00-"
"""The key an unknown system's call is checked with, so that it costs what a known one does."""


Gateway = Callable[[Answer], Reply | None]
"""A door's own refusal in place of the axis's answer (API Manager's faults for what its
gateway refuses before the API is reached), or None: the axis's form stands."""


@dataclass(frozen=True, slots=True)
class AxisCall:
    """One of the jar's calls without a file: its path (`/getEdoc`), the fields of its JSON
    header argument, the client that asks and the bus credential it was given."""

    operation: str
    entries: Mapping[str, str]
    client_id: str
    credential: str


class VdxpAxis(Door):
    """The VDXP axis's operations over the core, whatever authenticated the caller: the SDK's
    HMAC (`VdxpSdkDoor`) or an API Manager token (`lgsp.dialects.apim_door`, the context
    `vdxp-product/1.0`). Each answers in the SDK's `{status, ErrorCode, ErrorDesc, …}`."""

    async def _send_edoc(
        self,
        call: DoorCall,
        data: bytes,
        entries: Mapping[str, str],
        credential: str | None,
        *,
        read: bytes,
        gateway: Gateway | None = None,
    ) -> None:
        """`sendEdoc` of `data` (the file, checked): qlvb send_document, or post_status for
        the SDK's `messagetype: status`; at the national instance a central body's sending
        (vdxp send_central_document, send_central_status)."""
        status = entries.get("messagetype", "edoc") == "status"
        if call.instance.spec.kind == "national":  # a central body's: the axis is its exchange
            relative = f"/{VDXP}/central/{'statuses' if status else 'documents'}"
        elif status:
            try:
                relative = f"/{QLVB}/documents/{sdk.status_document_key(data)}/status"
            except sdk.SdkRefusal as error:
                await self._unusable(call, error, read=read)
                return
        else:
            relative = f"/{QLVB}/documents"
        scope = _as_edxml(call.scope, len(data))
        answer = await self._to_core(
            scope, body_once(data), base=call.base, relative=relative,
            bus_path=lambda service, version, rest: (service, version, rest),
            credential=credential,
        )  # fmt: skip
        await _answer_sdk(call.send, answer, gateway)

    async def _serve_operation(
        self, call: DoorCall, asked: AxisCall, *, read: bytes, gateway: Gateway | None = None
    ) -> None:
        """`asked` through the core operation that answers it; an entry it cannot use is 422,
        a call the instance does not offer 404 (`_not_offered`)."""
        if call.instance.spec.kind == "national" and asked.operation not in NATIONAL_CALLS:
            refused = _not_offered(asked.operation)
            await self._refuse(call, lambda sent: respond(sent, 404, refused), read=read)
            return
        try:
            answer, make = await self._query(call, asked)
        except sdk.SdkRefusal as error:
            await self._unusable(call, error, read=read)
            return
        await _answer_query(call.send, answer, make, gateway)

    async def _unusable(self, call: DoorCall, refusal: sdk.SdkRefusal, *, read: bytes) -> None:
        """422 in the SDK's form: an entry or a file the axis cannot use, recorded at the
        door's path with the body read."""
        refused = sdk.failure(refusal.code, str(refusal))
        await self._refuse(call, lambda sent: respond(sent, 422, refused), read=read)

    async def _query(
        self, call: DoorCall, asked: AxisCall
    ) -> tuple[Answer, Callable[[Answer], dict[str, Any] | bytes]]:
        """The core's answer to `asked`, and how its success reads in the SDK (a JSON object,
        or for `downloadEdoc` the file itself)."""
        operation, entries, credential = asked.operation, asked.entries, asked.credential
        if call.instance.spec.kind == "national" and operation in NATIONAL_CALLS:
            return await self._central_query(call, asked)
        if operation in INBOX_CALLS:
            kind = INBOX_CALLS[operation] or (
                "status" if entries.get("messagetype") == "status" else "edoc"
            )
            counting = operation != sdk.GET_RECEIVED
            query = {
                "page": "1" if counting else entries.get("page", "1"),
                "size": "1" if counting else str(INBOX_PAGE),  # a count needs only `total`
            }
            if kind == "status":
                query["kind"] = "status"
            if "organid" in entries:  # mock addition: an admin system names the agency
                query["organ_id"] = entries["organid"]
            answer = await self._core(call, "GET", "documents/inbox", credential=credential,
                                      query=query)  # fmt: skip
            if counting:
                return answer, lambda a: {"count": int(_json(a).get("total") or 0)}
            return answer, lambda a: {
                "data": [sdk.knobstick(item, messagetype=kind)
                         for item in _json(a).get("items", [])],
                "total": _json(a).get("total"),
            }  # fmt: skip
        if operation in sdk.AGENCY_CALLS:
            answer = await self._core(call, "GET", "organisations", credential=credential)
            return answer, lambda a: {"data": sdk.agencies(_json(a), operation)}
        ref = sdk.doc_ref(entries)
        if operation in (sdk.GET_EDOC, sdk.DOWNLOAD_EDOC):
            answer = await self._core(
                call, "GET", ref.path, credential=credential, accept="application/xml"
            )
            if operation == sdk.DOWNLOAD_EDOC:
                return answer, lambda a: a.body
            return answer, lambda a: {"data": base64.b64encode(a.body).decode("ascii")}
        if operation == sdk.GET_SENT:
            if ref.is_status:
                raise sdk.SdkRefusal("DOCID_INVALID", "Sign the docId of a document sent.")
            answer = await self._core(call, "GET", ref.path, credential=credential)
            return answer, lambda a: {"data": sdk.sent_results(_json(a), ref.key)}
        status = sdk.transport_status(entries)
        if status != "done" or ref.is_status:
            return await self._core(call, "GET", ref.path, credential=credential), _nothing
        organisation = await self._organisation(call, asked.client_id)
        if organisation is None:
            raise sdk.SdkRefusal(
                "ORGANISATION_REQUIRED",
                "updateStatus done reports 01 for the system's agency: bind the system to one "
                "(lgsp clients create --dialect vdxpsdk --organisation AGENCY_ID).",
            )
        body = json.dumps({"organ_id": organisation, **ARRIVED}, ensure_ascii=False).encode()
        answer = await self._core(
            call, "POST", f"{ref.path}/status", credential=credential, body=body
        )
        if answer.status == 409 and _json(answer).get("current_status") is not None:
            # Acknowledged before (01 or a later step): done again changes nothing.
            return Answer(
                [{"type": "http.response.start", "status": 200, "headers": []},
                 {"type": "http.response.body", "body": b"{}"}]
            ), _nothing  # fmt: skip
        return answer, _nothing

    async def _central_query(
        self, call: DoorCall, asked: AxisCall
    ) -> tuple[Answer, Callable[[Answer], dict[str, Any] | bytes]]:
        """At the national instance, the jar's receiving calls read a central body's national
        inbox (vdxp get_central_inbox, get_central_message): the axis is that body's exchange,
        as the SDK's calls are the axis's (DOMAIN.md §2.4; its sample's sender is VPCP). The
        body is the system's own (the core sets a missing `organ_id` to the caller's), or the
        one its signed `organid` names."""
        operation, entries, credential = asked.operation, asked.entries, asked.credential
        named = {"organ_id": entries["organid"]} if "organid" in entries else {}
        if operation in INBOX_CALLS:
            kind = INBOX_CALLS[operation] or (
                "status" if entries.get("messagetype") == "status" else "edoc"
            )
            counting = operation != sdk.GET_RECEIVED
            query = {
                **named,
                "kind": kind,
                "page": "1" if counting else entries.get("page", "1"),
                "size": "1" if counting else str(INBOX_PAGE),
            }
            answer = await self._core(call, "GET", "central/inbox", credential=credential,
                                      query=query, service=VDXP)  # fmt: skip
            if counting:
                return answer, lambda a: {"count": int(_json(a).get("total") or 0)}
            return answer, lambda a: {
                "data": [sdk.central_knobstick(item) for item in _json(a).get("items", [])],
                "total": _json(a).get("total"),
            }
        key = sdk.doc_ref(entries).key
        if not key.isdigit():
            raise sdk.SdkRefusal(
                "DOCID_INVALID",
                "The signed docId is no message of the national inbox: give the docId (a "
                "number) that a getReceivedEdocList knobstick gave.",
            )
        answer = await self._core(call, "GET", f"central/inbox/{key}", credential=credential,
                                  query=named, service=VDXP)  # fmt: skip

        def edxml(a: Answer) -> str:
            return str(_json(a).get("edxml") or "")

        if operation == sdk.DOWNLOAD_EDOC:
            return answer, lambda a: base64.b64decode(edxml(a))
        return answer, lambda a: {"data": edxml(a)}

    async def _core(
        self,
        call: DoorCall,
        method: str,
        path: str,
        *,
        credential: str | None,
        query: dict[str, str] | None = None,
        accept: str = "application/json",
        body: bytes = b"",
        service: str = QLVB,
    ) -> Answer:
        """`{method} {base}/{service}/{path}` in the bus's own dialect (qlvb's by default),
        through the core."""
        headers = [
            (k, v)
            for k, v in call.scope["headers"]
            if k.lower() not in _DROPPED and not k.lower().startswith(b"xroadvnpt-")
        ]
        headers.append((b"accept", accept.encode()))
        if body:
            headers += [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
        scope = {
            **call.scope,
            "method": method,
            "query_string": urlencode(query or {}).encode(),
            "headers": headers,
        }
        return await self._to_core(
            scope, body_once(body), base=call.base, relative=f"/{service}/{path}",
            bus_path=lambda service, version, rest: (service, version, rest),
            credential=credential,
        )  # fmt: skip

    async def _organisation(self, call: DoorCall, system_id: str) -> str | None:
        """The agency the system is bound to (`lgsp clients create --organisation`)."""
        async with call.bus.session_factory() as session:
            client = await ClientRepository(session).get(self.instance, system_id)
        return None if client is None else client.organisation


class VdxpSdkDoor(VdxpAxis):
    prefix = "vdxp-sdk"

    async def serve(self, call: DoorCall) -> None:
        scope, receive = call.scope, call.receive
        if QUERIES.get(call.relative) == scope["method"]:
            await self._serve_query(call)
            return
        if call.relative != SEND or scope["method"] != "POST":
            answer = await self._to_core(
                scope, receive, base=call.base, relative=call.relative, bus_path=None,
                credential=None,
            )  # fmt: skip
            await self._reply(call, answer, lambda sent: _answer_sdk(sent, answer))
            return
        settings = call.bus.settings
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = await read_body(receive, limit=settings.vdxp_sdk_max_file_bytes)
        if body is None:
            limit = settings.vdxp_sdk_max_file_bytes
            failure = sdk.failure("TOO_LARGE", f"The file is larger than {limit} bytes.")
            await self._refuse(call, lambda sent: respond(sent, 413, failure))
            return
        try:
            signed, secret = await self._verified(call, headers)
            data = await file_sent(
                body, headers.get("content-type", ""), signed.entries["hash-file"]
            )
            credential = await self._credential(call, signed, secret)
        except sdk.SdkRefusal as error:
            await self._refuse(call, _unauthenticated(error), read=body)
            return
        await self._send_edoc(call, data, signed.entries, credential, read=body)

    async def _serve_query(self, call: DoorCall) -> None:
        """One of the jar's calls without a file, through the core operation that answers it."""
        read = await read_body(call.receive, limit=MAX_QUERY_BODY)
        if read is None:
            failure = sdk.failure("TOO_LARGE", "This call carries no file.")
            await self._refuse(call, lambda sent: respond(sent, 413, failure))
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in call.scope["headers"]
        }
        try:
            signed, secret = await self._verified(call, headers, require=())
            sdk.check_call(call.relative, signed.entries)  # the path is not signed
            credential = await self._credential(call, signed, secret)
        except sdk.SdkRefusal as error:
            await self._refuse(call, _unauthenticated(error), read=read)
            return
        asked = AxisCall(call.relative, signed.entries, signed.system_id, credential)
        await self._serve_operation(call, asked, read=read)

    async def _credential(self, call: DoorCall, signed: sdk.SignedCall, secret: str) -> str:
        """The bearer credential the bus gives a system whose call was verified; SdkRefusal
        when the system is no client of the bus."""
        known = await self._client_token(
            call.scope, call.base, key=digest(f"{signed.system_id}:{secret}"),
            client_id=signed.system_id, secret=secret,
        )  # fmt: skip
        if known is None:
            raise sdk.SdkRefusal("SIGNATURE_INVALID", "The system may not call the bus.")
        return f"Bearer {known[0]}"

    async def _verified(
        self, call: DoorCall, headers: dict[str, str], *, require: tuple[str, ...] = ("hash-file",)
    ) -> tuple[sdk.SignedCall, str]:
        """The call's signature checked under its system's secret (an unknown system's under
        a key no system has, so that both fail alike and in like time)."""
        system_id = sdk.claimed_system(headers)
        cipher = KeyCipher.existing(call.bus.settings)
        secret = await sdk_secret(
            call.bus.session_factory, cipher, instance=self.instance, client_id=system_id
        )
        settings = call.bus.settings
        window = settings.vdxp_sdk_max_skew_seconds
        signed = sdk.verify(
            headers,
            secret if secret is not None else _UNKNOWN_SYSTEM,
            now=datetime.now(VIETNAM_TIME),
            max_skew=timedelta(seconds=window) if window else None,
            max_ahead=timedelta(seconds=settings.vdxp_sdk_max_ahead_seconds),
            require=require,
        )
        if secret is None:
            raise sdk.SdkRefusal("SIGNATURE_INVALID", "The signature does not hold.")
        return signed, secret


async def file_sent(body: bytes, content_type: str, declared: str | None) -> bytes:
    """The file the call carries: the raw body (the SDK's octet-stream, whose trailing CRLF is
    not the file's) or the `file_doc` part of a multipart form; it must match `hash-file`
    (None: no hash was sent, where a token authenticates the call; the body is the file)."""
    candidates = [body, body.removesuffix(b"\r\n")]
    if content_type.lower().startswith("multipart/form-data"):
        candidates = [await _form_file(body, content_type)]
    if declared is None:
        return candidates[0]
    for candidate in candidates:
        if sdk.file_matches(candidate, declared):
            return candidate
    raise sdk.SdkRefusal("FILE_HASH_MISMATCH", "The file is not the one XroadVnpt-hash-file names.")


async def _form_file(body: bytes, content_type: str) -> bytes:
    async def stream() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(
        Headers({"content-type": content_type}), stream(), max_files=1, max_fields=8
    )
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise sdk.SdkRefusal("INVALID_MULTIPART", str(error)) from None
    part = form.get("file_doc")
    if not isinstance(part, UploadFile):
        part = next((v for v in form.values() if isinstance(v, UploadFile)), None)
    try:
        if part is None:
            raise sdk.SdkRefusal("INVALID_MULTIPART", "The form has no file part (file_doc).")
        return await part.read()
    finally:
        await form.close()


def _as_edxml(scope: Scope, length: int) -> Scope:
    """The scope with the file as an edXML body: the SDK's own headers stay at the door."""
    headers = [
        (k, v)
        for k, v in scope["headers"]
        if k.lower() not in _DROPPED and not k.lower().startswith(b"xroadvnpt-")
    ]
    headers += [(b"content-type", b"application/xml"), (b"content-length", str(length).encode())]
    return {**scope, "headers": headers}


def _not_offered(operation: str) -> dict[str, Any]:
    """The SDK's failure for a call of a province's document system at the national instance:
    a central body reports a status by `sendEdoc` (`messagetype: status`), and has no province
    whose agencies to list, nor documents sent through a province's exchange to follow."""
    return sdk.failure(
        "NOT_OFFERED_HERE",
        f"{operation[1:]} is a province's call, not offered at the national instance: here "
        "the jar is a central body's, which sends and reports with sendEdoc (messagetype "
        "status for a status message) and reads its national inbox with getReceivedEdocList, "
        "countReceiveEdoc, countReceiveStatus, getEdoc and downloadEdoc.",
    )


def _unauthenticated(refusal: sdk.SdkRefusal) -> Reply:
    """The door's 401 for a call whose signature, timestamp or file does not hold."""
    failure = sdk.failure(refusal.code, str(refusal))
    return lambda send: respond(send, 401, failure)


async def _answer_sdk(send: Send, answer: Answer, gateway: Gateway | None = None) -> None:
    """The core's answer in the SDK's form: `DocId` is the document's id in the bus."""
    if await _answered_at_gateway(send, answer, gateway):
        return
    status, document = answer.status, problem_of(answer.body)
    kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
    reply: dict[str, Any]
    if status < 400:
        reply = {**sdk.success(str(document.get("id") or "") or None), "Answer": document}
    else:
        reply = _failure(status, document)
    await respond(send, status, sdk.without_nulls(reply), kept=kept)
    if answer.failure is not None:
        raise answer.failure


async def _answer_query(
    send: Send,
    answer: Answer,
    make: Callable[[Answer], dict[str, Any] | bytes],
    gateway: Gateway | None = None,
) -> None:
    """The core's answer to one of the jar's calls without a file, in the SDK's form: its
    success as a JSON object (or `downloadEdoc`'s file, as edXML), a refusal as FAIL."""
    if await _answered_at_gateway(send, answer, gateway):
        return
    kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
    made = make(answer) if answer.status < 400 else None
    if isinstance(made, bytes):
        await respond_bytes(send, answer.status, made, "application/xml")
    elif made is not None:
        reply = {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **made}
        await respond(send, answer.status, sdk.without_nulls(reply), kept=kept)
    else:
        await respond(send, answer.status, _failure(answer.status, problem_of(answer.body)),
                      kept=kept)  # fmt: skip
    if answer.failure is not None:
        raise answer.failure


async def _answered_at_gateway(send: Send, answer: Answer, gateway: Gateway | None) -> bool:
    """Whether `answer` was sent as it stands (not translatable) or as the gateway's own
    refusal, instead of in the SDK's form."""
    if not answer.translatable:
        await answer.replay(send)
        return True
    own = None if gateway is None else gateway(answer)
    if own is None:
        return False
    await own(send)
    if answer.failure is not None:
        raise answer.failure
    return True


def _failure(status: int, document: dict[str, Any]) -> dict[str, Any]:
    """A refusal of the core (problem+json) as the SDK's FAIL with the problem's stable code."""
    code = document.get("code")
    detail = document.get("detail") or document.get("title") or "Refused."
    reply = sdk.failure(code if isinstance(code, str) else str(status), str(detail))
    if isinstance(document.get("rule"), str):
        reply["Rule"] = document["rule"]
    return reply


def _json(answer: Answer) -> dict[str, Any]:
    """The core's JSON answer (an inbox page, a document's view: larger than a problem); {}
    when it is no JSON object, nested past the stack included (what a system sent)."""
    return request_object(answer.body) or {}


def _nothing(_answer: Answer) -> dict[str, Any] | bytes:
    return {}
