"""The VDXP SDK's transport (VPCP's `SDKVXP-2.0.1.jar`, DOMAIN.md §2.4): `XroadVnpt-*` headers
signed with HMAC-SHA256, and the SDK's `{status, ErrorCode, ErrorDesc, DocId}` answers.

Read in the jar vendored by PVN-Organization/API-Gateway-iOffice (`JDK 1.8/SDKVXP_Example/lib/`,
`com/vpcp/services/VnptService.class`, `KnobstickServiceImp.class`, `HttpConnection.class`;
our own code, written from what the bytecode does):
- the client keeps a map of headers: `timestamp` (`ddMMyyyy'T'HHmmss+SSSS`, local time, SSSS
  the milliseconds), `systemid`, and per call the fields of its JSON "header" argument (`from`,
  `servicetype`, `messagetype`, …); `sendEdoc` adds `Content-Type: application/octet-stream`
  and `hash-file`, the SHA-256 of the file in hex *without zero padding per byte*;
- each entry is sent as `XroadVnpt-{name}: value` (and `Content-Type` as itself too);
  `XroadVnpt-sign-header-key` lists the names joined by `;`; `XroadVnpt-sign-header` is the
  JSON object `{"XroadVnpt-{name}": value, …}` in the map's order; `XroadVnpt-hash-header` is
  the hex HMAC-SHA256 of that JSON, keyed by the UTF-8 of the system's secret;
  `XroadVnpt-version: 3.0.201608`, `User-Agent: JAVASDKAgent/1.0.0 XRoad/VPCP`;
- `sendEdoc`'s body is the file's bytes followed by CRLF (its multipart Content-Type is
  overwritten by the octet-stream one). A multipart form with the file in part `file_doc` (what
  the SDK's `addFilePart` and the example gateway send) is taken too.
`SignatureGenerator.java` (same folder) signs `systemId + timestamp + contentType + body`
instead; the jar, which vendors run, is what is verified here.

The jar's other calls (`KnobstickServiceImp`), each a POST with `Content-Type:
application/json`, no body, and the fields of its JSON header argument as signed entries:
- `getReceivedEdocList` `{servicetype, messagetype}` answers `data`, a list of knobsticks
  `{docId, serviceType, messageType, created_time, updated_time, from, to, status,
  status_desc}`;
- `getEdoc` `{filePath, docId}` answers `data`, the edXML in base64 (the jar decodes it and
  writes `{docId}.edxml`);
- `updateStatus` `{status: processing|done|fail, docId}` answers `{status, ErrorCode,
  ErrorDesc}`: the recipient's transport status of a knobstick, not an edXML one;
- `getSentEdocList` `{servicetype, messagetype, docId}` answers `data`, one entry per recipient
  `{serviceType, messageType, senderDocId, receiverDocId, fromCode, toCode, title, notation,
  sentTime, receivedTime, sendStatus, sendStatusDesc, receiveStatus, receiveStatusDesc}`;
- `countReceiveEdoc` and `countReceiveStatus` (the same `execute` as `getEdoc` and
  `updateStatus`: a POST whose body is `{}`) answer `count`, a JSON number (read with
  `getAsInt`): how many documents, or status messages, `getReceivedEdocList` would list;
- `downloadEdoc` `{filePath, docId}` is a GET (`VnptService.dowload`, `HttpConnection.download`)
  with the same signed headers, its entries also as query parameters, and answers the edXML
  itself, which the jar streams into `{filePath}/{yyyy}/{M}/{docId}.edxml`. (`downloadEdoc2`
  GETs the same path without any header or parameter: nothing names the document.)

The jar's agency calls (`AgencyServiceImp`), POSTs like `getReceivedEdocList`:
`getAgenciesList` `{}` answers `data`, a list of `{id, code, name, mail, pid, oldCode}`, and
`getAgenciesListQD20` `{level}` a list of `{id, code, name, mail, code102}`, each field read
only when present; `getSynchronizeUnit` `{}` a list of `{id, code, name, mail, pid, version
(int), centerCode, deleted (bool), modifyDate, isAgency (bool)}`. (`registerAgency` and
`deleteAgency` change the axis's register of agencies.)
The jar reads a field only when present (`get(name) != null`), then as a string: a JSON null
would throw in it, so what is unknown is left out, never null.

Pure functions: no I/O, no clock (the caller passes `now`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.qlvb import document_key
from formats.edxml import STATUS_CODES as STATUS_NAMES
from formats.edxml import InvalidEdxml, read_status

PREFIX = "XroadVnpt-"
SIGN_HEADER = "XroadVnpt-sign-header"
SIGN_HEADER_KEY = "XroadVnpt-sign-header-key"
HASH_HEADER = "XroadVnpt-hash-header"
VERSION_HEADER = "XroadVnpt-version"
VERSION = "3.0.201608"
USER_AGENT = "JAVASDKAgent/1.0.0 XRoad/VPCP"
REQUIRED = ("systemid", "timestamp")
"""Signed entries every call must have: who calls, and when (the only freshness the SDK has,
checked only within a window the operator sets)."""
MAX_SIGN_HEADER = 4096
"""The signed JSON of a handful of short entries is a few hundred bytes; nothing longer is read."""
MAX_ENTRIES = 16
MAX_VALUE = 512
_TIMESTAMP = re.compile(
    r"([0-9]{2})([0-9]{2})([0-9]{4})T([0-9]{2})([0-9]{2})([0-9]{2})\+([0-9]{4})"
)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,39}")
_HEX = re.compile(r"[0-9a-f]{1,64}")


class SdkRefusal(ValueError):
    """The call cannot be taken (its `XroadVnpt-*` signature does not hold, its file is not the
    one signed, …); `code` is stable, the message says why without echoing a value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SignedCall:
    """What a verified call's signature covers: its entries by name (without the prefix)."""

    system_id: str
    timestamp: datetime
    entries: Mapping[str, str]


def format_timestamp(moment: datetime) -> str:
    """`moment` (local time) as the SDK writes it: `ddMMyyyy'T'HHmmss+SSSS`."""
    millis = moment.microsecond // 1000
    return moment.strftime("%d%m%YT%H%M%S") + f"+{millis:04d}"


def parse_timestamp(value: str, *, tz: Any) -> datetime:
    """The SDK's timestamp as an aware time in `tz` (the SDK writes the JVM's local time)."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        raise SdkRefusal("TIMESTAMP_INVALID", "XroadVnpt-timestamp is not ddMMyyyyTHHmmss+SSSS.")
    day, month, year, hour, minute, second, millis = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, min(millis, 999) * 1000, tz)
    except ValueError:
        raise SdkRefusal("TIMESTAMP_INVALID", "XroadVnpt-timestamp is not a real time.") from None


def sdk_hex(digest: bytes) -> str:
    """Hex as the SDK's `hash-file` writes it: each byte without its leading zero."""
    return "".join(f"{byte:x}" for byte in digest)


def file_matches(data: bytes, declared: str) -> bool:
    """Whether `declared` is the SHA-256 of `data`, in the SDK's hex or in plain hex."""
    digest = hashlib.sha256(data).digest()
    given = declared.strip().lower().encode()
    return hmac.compare_digest(given, sdk_hex(digest).encode()) | hmac.compare_digest(
        given, digest.hex().encode()
    )


def signed_headers(
    system_id: str, secret: str, entries: Mapping[str, str], *, timestamp: str
) -> dict[str, str]:
    """The headers the SDK sends for `entries` (a client's side: tests, a Python vendor)."""
    ordered = {"timestamp": timestamp, "systemid": system_id, **entries}
    signed = {PREFIX + name: value for name, value in ordered.items()}
    document = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    return {
        **signed,
        SIGN_HEADER_KEY: ";".join(ordered),
        SIGN_HEADER: document,
        HASH_HEADER: _mac(secret, document),
        VERSION_HEADER: VERSION,
        "User-Agent": USER_AGENT,
    }


def claimed_system(headers: Mapping[str, str]) -> str:
    """The `XroadVnpt-systemid` a call names (lower-cased header names), or SdkRefusal."""
    missing = [
        name
        for name in (SIGN_HEADER, SIGN_HEADER_KEY, HASH_HEADER, PREFIX + "systemid")
        if name.lower() not in headers
    ]
    if missing:
        raise SdkRefusal("SIGNATURE_MISSING", f"Send the SDK's headers: {', '.join(missing)}.")
    system_id = headers[(PREFIX + "systemid").lower()]
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", system_id):
        raise SdkRefusal("SIGNATURE_INVALID", "XroadVnpt-systemid names no system.")
    return system_id


def verify(
    headers: Mapping[str, str],
    secret: str,
    *,
    now: datetime,
    max_skew: timedelta | None,
    max_ahead: timedelta = timedelta(0),
    require: tuple[str, ...] = (),
) -> SignedCall:
    """Check a call's `XroadVnpt-*` signature with `secret` (headers: lower-cased names).

    The HMAC over the signed JSON is compared in constant time; then every signed entry must be
    the header actually sent, the key list must name exactly the signed entries, `systemid`,
    `timestamp` and `require` must be among them, and the timestamp a real time, at most
    `max_skew` before `now` and `max_ahead` after it (a clock's drift: a stamp from the
    future would live longer than the window), unless `max_skew` is None (no window: the jar
    stamps once per service object, so a window ends a long-lived client; a replay is then
    answered as the call was, a resent file being the same document, `duplicate`, and the
    other calls reads or an idempotent `updateStatus`; `check_call` keeps it to its call)."""
    system_id = claimed_system(headers)
    document = headers[SIGN_HEADER.lower()]
    given = headers[HASH_HEADER.lower()].strip().lower()
    if len(document) > MAX_SIGN_HEADER or not _HEX.fullmatch(given[:64]) or len(given) != 64:
        raise SdkRefusal("SIGNATURE_INVALID", "XroadVnpt-hash-header is not an HMAC-SHA256.")
    if not hmac.compare_digest(given.encode(), _mac(secret, document).encode()):
        raise SdkRefusal(
            "SIGNATURE_INVALID",
            "XroadVnpt-hash-header is not the HMAC-SHA256 of XroadVnpt-sign-header under the "
            "system's secret.",
        )
    entries = _entries(document)
    names = headers[SIGN_HEADER_KEY.lower()].split(";")
    if names != list(entries):
        raise SdkRefusal(
            "SIGNATURE_INVALID", "XroadVnpt-sign-header-key does not list the signed entries."
        )
    for name, value in entries.items():
        if headers.get((PREFIX + name).lower()) != value:
            raise SdkRefusal("SIGNATURE_INVALID", f"{PREFIX}{name} is not the value signed.")
    absent = [name for name in (*REQUIRED, *require) if name not in entries]
    if absent:
        raise SdkRefusal("SIGNATURE_MISSING", f"Sign {', '.join(absent)} too.")
    if entries["systemid"] != system_id:
        raise SdkRefusal("SIGNATURE_INVALID", "The signed systemid is not the one sent.")
    stamp = parse_timestamp(entries["timestamp"], tz=now.tzinfo)
    if max_skew is not None and now - stamp > max_skew:
        raise SdkRefusal(
            "TIMESTAMP_STALE",
            f"XroadVnpt-timestamp is more than {int(max_skew.total_seconds())} s before the "
            "axis's clock: stamp the call anew (the SDK stamps when its service is made).",
        )
    if max_skew is not None and stamp - now > max_ahead:
        raise SdkRefusal(
            "TIMESTAMP_STALE",
            f"XroadVnpt-timestamp is more than {int(max_ahead.total_seconds())} s after the "
            "axis's clock: set the system's clock right.",
        )
    return SignedCall(system_id, stamp, entries)


OPERATION_ENTRIES = (
    "from", "servicetype", "messagetype", "docId", "filePath", "status", "hash-file", "page",
    "organid",
)  # fmt: skip
"""The fields of the SDK's JSON header argument the axis reads (DOMAIN.md §2.4), and the
mock's `page` and `organid`."""


def unsigned_entries(headers: Mapping[str, str], body: bytes = b"") -> dict[str, str]:
    """The SDK's header argument of a call no HMAC covers (API Manager's door, whose token
    authenticates the caller), headers with lower-cased names: each field as the jar sends it,
    `XroadVnpt-{name}`, else as a plain `{name}` header, else as a member of a JSON object
    body (assigned: the source shows neither; DOMAIN.md §2.4 names the fields). A value that
    is no short string is left out, as if not sent."""
    try:
        parsed = json.loads(body) if body.strip().startswith(b"{") else {}
    except (ValueError, RecursionError):
        parsed = {}
    entries: dict[str, str] = {}
    for name in OPERATION_ENTRIES:
        key = name.lower()
        value = headers.get((PREFIX + name).lower(), headers.get(key))
        if value is None and isinstance(parsed, dict):
            value = parsed.get(name, parsed.get(key))
        if isinstance(value, str) and len(value) <= MAX_VALUE:
            entries[name] = value
    return entries


def status_document_key(data: bytes) -> str:
    """The bus's id of the document a status message answers (its ResponseFor/DocumentId)."""
    try:
        status = read_status(data).message
    except InvalidEdxml as error:
        raise SdkRefusal("INVALID_EDXML", str(error)) from None
    return document_key(status["response_for"]["document_id"])


SEND_EDOC = "/sendEdoc"
GET_RECEIVED = "/getReceivedEdocList"
GET_EDOC = "/getEdoc"
UPDATE_STATUS = "/updateStatus"
GET_SENT = "/getSentEdocList"
COUNT_RECEIVED = "/countReceiveEdoc"
COUNT_STATUS = "/countReceiveStatus"
DOWNLOAD_EDOC = "/downloadEdoc"
GET_AGENCIES = "/getAgenciesList"
GET_AGENCIES_QD20 = "/getAgenciesListQD20"
GET_UNITS = "/getSynchronizeUnit"
AGENCY_CALLS = (GET_AGENCIES, GET_AGENCIES_QD20, GET_UNITS)
_LISTING = frozenset({"servicetype", "messagetype", "page", "organid"})
_FETCH = frozenset({"filepath", "docid"})


@dataclass(frozen=True)
class CallFields:
    """The fields of a call's JSON header argument (DOMAIN.md §2.4, lower-cased): those it must
    sign, and all it may. (`docId` and `status`, where a call needs them, are read later and
    their absence refused there: DOCID_INVALID, STATUS_INVALID.)"""

    required: frozenset[str]
    allowed: frozenset[str]


CALL_FIELDS: Mapping[str, CallFields] = {
    GET_RECEIVED: CallFields(frozenset({"servicetype", "messagetype"}), _LISTING),
    COUNT_RECEIVED: CallFields(frozenset(), _LISTING),
    COUNT_STATUS: CallFields(frozenset(), _LISTING),
    GET_EDOC: CallFields(frozenset(), _FETCH),
    DOWNLOAD_EDOC: CallFields(frozenset(), _FETCH),
    UPDATE_STATUS: CallFields(frozenset(), frozenset({"docid", "status"})),
    GET_SENT: CallFields(frozenset(), frozenset({"servicetype", "messagetype", "docid"})),
    GET_AGENCIES: CallFields(frozenset(), frozenset()),
    GET_AGENCIES_QD20: CallFields(frozenset(), frozenset({"level"})),
    GET_UNITS: CallFields(frozenset(), frozenset()),
}
"""What each call without a file signs, the jar's header argument for it (`servicetype` and
`messagetype` to list, `filePath` and `docId` to fetch, `status` and `docId` to update; the
mock's `page` and `organid` in the inbox's). The path is not signed, so without this a
captured call (`updateStatus` of a document) answered at another path within the window
(`getReceivedEdocList`, `getEdoc`): a real client never signs another call's fields."""
_FIELDS = frozenset({*(name.lower() for name in OPERATION_ENTRIES), "level"})


def check_call(operation: str, entries: Mapping[str, str]) -> None:
    """SdkRefusal unless the signed entries are `operation`'s (CALL_FIELDS): none of another
    call's (SIGNATURE_INVALID), then each it needs (SIGNATURE_MISSING). Entries that are no
    call's field (`Content-Type`, …) are not judged."""
    fields = CALL_FIELDS.get(operation)
    if fields is None:
        return
    signed = {name.lower() for name in entries} & _FIELDS
    foreign = sorted(signed - fields.allowed)
    if foreign:
        raise SdkRefusal(
            "SIGNATURE_INVALID",
            f"{operation[1:]} signs no {', '.join(foreign)}: the signature is another call's.",
        )
    absent = sorted(fields.required - signed)
    if absent:
        raise SdkRefusal("SIGNATURE_MISSING", f"Sign {', '.join(absent)} for {operation[1:]}.")


TRANSPORT_STATUSES = ("processing", "done", "fail")
"""`updateStatus`'s values in the SDK's example (`ServiceTest.createHeaderJsonUpdate`)."""
_DOCUMENT_KEY = re.compile(r"[A-Za-z0-9_-]{1,400}")
_STATUS_KEY = re.compile(r"([A-Za-z0-9_-]{1,400})/([0-9A-Za-z.]{1,32})/([1-9][0-9]{0,5})")


@dataclass(frozen=True)
class DocRef:
    """What a knobstick's `docId` names: a document (its id in the bus), or a status message
    of one recipient's delivery (`{id}/{organ_id}/{n}`, the mock's own form)."""

    key: str
    organ_id: str | None = None
    position: int | None = None

    @property
    def is_status(self) -> bool:
        return self.organ_id is not None

    @property
    def path(self) -> str:
        """The resource in the bus's own qlvb dialect."""
        if self.organ_id is None:
            return f"documents/{self.key}"
        return f"documents/{self.key}/recipients/{self.organ_id}/statuses/{self.position}"


def doc_ref(entries: Mapping[str, str]) -> DocRef:
    """The signed `docId` entry read (the jar writes `docId`; `docid` is taken too)."""
    value = entries.get("docId", entries.get("docid", "")).strip().strip('"')
    if _DOCUMENT_KEY.fullmatch(value):
        return DocRef(value)
    status = _STATUS_KEY.fullmatch(value)
    if status is not None:
        return DocRef(status[1], status[2], int(status[3]))
    raise SdkRefusal("DOCID_INVALID", "Sign docId: the DocId sendEdoc or a knobstick gave.")


def transport_status(entries: Mapping[str, str]) -> str:
    """`updateStatus`'s signed `status`: processing, done or fail."""
    value = entries.get("status", "")
    if value not in TRANSPORT_STATUSES:
        raise SdkRefusal("STATUS_INVALID", "Sign status: processing, done or fail.")
    return value


def knobstick(item: Mapping[str, Any], *, messagetype: str) -> dict[str, Any]:
    """One canonical inbox item (qlvb get_inbox) as the jar's `Knobstick`: `status` is the
    transport one, `done` once the recipient reported an edXML status (`updateStatus` done
    reports 01), else `initial`; `status_desc` that edXML status's name; `to` the organ id it
    was addressed to (a document's To/OrganId, a status message's addressee). Mock additions:
    `documentId`, `subject`, `statusCode`; for a document or business message, `businessType`
    (0 document, 1 revocation, 2 update, 3 replacement), `refersTo` (of a revocation, update or
    replacement: the docId of the document it is about) and `signature` (the canonical check,
    an object the jar does not read: its members may be null)."""
    if messagetype == "status":
        reported = {"docId": f"{item['id']}/{item['organ_id']}/{item['position']}",
                    "from": item.get("reported_by"), "to": item.get("addressee"),
                    "status": "done", "status_desc": item.get("status_name"),
                    "statusCode": item.get("status_code")}  # fmt: skip
    else:
        sender = item.get("from") or {}
        code = item.get("status")
        reported = {"docId": item["id"], "from": sender.get("organ_id"),
                    "to": item.get("organ_id"),  # addressed: a predecessor's, to a successor
                    "status": "initial" if code is None else "done",
                    "status_desc": "" if code is None else STATUS_NAMES.get(code, code),
                    "subject": item.get("subject"), "statusCode": code,
                    "businessType": item.get("business_type"),
                    "refersTo": item.get("refers_to")}  # fmt: skip
    stick = _present(
        {
            "serviceType": "eDoc",
            "messageType": messagetype,
            "created_time": item.get("received_at"),
            "updated_time": item.get("received_at"),
            "documentId": item.get("document_id"),
            **reported,
        }
    )
    signature = item.get("signature") if messagetype != "status" else None
    return stick if signature is None else {**stick, "signature": signature}


def central_knobstick(item: Mapping[str, Any]) -> dict[str, Any]:
    """One message of a central body's national inbox (vdxp get_central_inbox) as the jar's
    `Knobstick` (DOMAIN.md §2.4: id, from, to, messageType, contentSha256, contentLength):
    `docId` the inbox's id, which `getEdoc` takes; `status` `initial` for a document (the
    national inbox keeps no acknowledgement), `done` for a status message, as `knobstick`'s.
    Mock additions as there: `documentId`, `statusCode`, `businessType`, `refersTo`."""
    kind = item.get("kind") or "edoc"
    return _present(
        {
            "serviceType": "eDoc",
            "messageType": kind,
            "created_time": item.get("received_at"),
            "updated_time": item.get("received_at"),
            "documentId": item.get("document_id"),
            "docId": item.get("id"),
            "from": item.get("sender"),
            "to": item.get("recipient"),
            "status": "done" if kind == "status" else "initial",
            "statusCode": item.get("status_code"),
            "businessType": item.get("business_type"),
            "refersTo": item.get("refers_to"),
            "contentSha256": item.get("content_sha256"),
            "contentLength": item.get("content_length"),
        }
    )


def sent_results(view: Mapping[str, Any], doc_id: str) -> list[dict[str, Any]]:
    """A canonical document view (qlvb get_document) as the jar's `StatusResult`s, one per
    recipient: `sendStatus` the delivery's transport state (done, processing on the way,
    fail when the bus gave up), `receiveStatus` the recipient's edXML status code."""
    document = view.get("document") or {}
    code = document.get("code") or {}
    notation = "/".join(str(code[k]) for k in ("code_number", "code_notation") if code.get(k))
    sender = (document.get("from") or {}).get("organ_id")
    results = []
    for recipient in view.get("recipients") or []:
        delivery = recipient.get("delivery") or {}
        state = _SEND_STATUS.get(str(delivery.get("state")), "done")
        status = recipient.get("status")
        history = recipient.get("history") or []
        results.append(
            _present(
                {
                    "serviceType": "eDoc",
                    "messageType": "edoc",
                    "senderDocId": doc_id,
                    "receiverDocId": doc_id,  # one id in the whole bus
                    "fromCode": sender,
                    "toCode": recipient.get("organ_id"),
                    "title": document.get("subject"),
                    "notation": notation or None,
                    "sentTime": (document.get("promulgation") or {}).get("date"),
                    "receivedTime": history[0].get("timestamp") if history else None,
                    "sendStatus": state,
                    "sendStatusDesc": delivery.get("reason"),
                    "receiveStatus": status,
                    "receiveStatusDesc": None if status is None else STATUS_NAMES.get(status),
                }
            )
        )
    return results


_SEND_STATUS = {"delivered": "done", "in_transit": "processing", "undeliverable": "fail"}


def agencies(view: Mapping[str, Any], call: str) -> list[dict[str, Any]]:
    """A canonical agency directory (qlvb list_organisations) as the jar reads it for `call`:
    `getAgenciesList` `{id, code, name, mail, pid}`; `getAgenciesListQD20` `{id, code, name,
    mail, code102}`, the code of QĐ 20/2020 (here the organ id itself); `getSynchronizeUnit`
    `{id, code, name, mail, pid, version, deleted, isAgency}`, every unit at version 1, none
    deleted (assigned: the bus keeps no history of its directory)."""
    listed = []
    for item in view.get("items") or []:
        organ_id, name = item.get("organ_id"), item.get("organ_name")
        record = {"id": organ_id, "code": organ_id, "name": name, "mail": item.get("email")}
        if call == GET_AGENCIES_QD20:
            record["code102"] = organ_id
        else:
            record["pid"] = item.get("parent_id")
        listed.append(_present(record))
        if call == GET_UNITS:  # read with getAsInt and getAsBoolean
            listed[-1] |= {"version": 1, "deleted": False, "isAgency": True}
    return listed


def _present(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that have a value, as text: what the jar can read (see the module)."""
    return {key: str(value) for key, value in record.items() if value is not None}


def success(doc_id: str | None) -> dict[str, Any]:
    """The SDK's OK; `DocId` only when there is one (the jar cannot read a JSON null)."""
    answer: dict[str, Any] = {"status": "OK", "ErrorCode": "0", "ErrorDesc": ""}
    return answer if doc_id is None else {**answer, "DocId": doc_id}


def failure(code: str, description: str) -> dict[str, Any]:
    """The SDK's FAIL: no `DocId`, since no document was taken (never a JSON null)."""
    return {"status": "FAIL", "ErrorCode": code, "ErrorDesc": description}


def without_nulls(value: Any) -> Any:
    """`value` with every member and item that is a JSON null left out, at any depth: what
    the SDK answers (the jar reads a member when present, and a null throws in it)."""
    if isinstance(value, dict):
        return {key: without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value if item is not None]
    return value


def _mac(secret: str, document: str) -> str:
    key, message = secret.encode(), document.encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _entries(document: str) -> dict[str, str]:
    try:
        parsed = json.loads(document)
    except (ValueError, RecursionError):  # nested past the stack: within MAX_SIGN_HEADER
        raise SdkRefusal("SIGNATURE_INVALID", "XroadVnpt-sign-header is not JSON.") from None
    if not isinstance(parsed, dict) or len(parsed) > MAX_ENTRIES:
        raise SdkRefusal("SIGNATURE_INVALID", "XroadVnpt-sign-header is not a small object.")
    entries: dict[str, str] = {}
    for key, value in parsed.items():
        name = key.removeprefix(PREFIX)
        valid = key.startswith(PREFIX) and _NAME.fullmatch(name) and isinstance(value, str)
        if not valid or len(value) > MAX_VALUE:
            raise SdkRefusal(
                "SIGNATURE_INVALID", "XroadVnpt-sign-header holds an entry of another shape."
            )
        entries[name] = value
    return entries
