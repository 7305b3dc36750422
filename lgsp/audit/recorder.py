"""Records every call an instance serves, and holds the response until its record is committed.

Wrapped around each instance's app (outside FastAPI's own error middleware), so that 401s, 404s
and even 500s get their record too. Handlers add the hops they make themselves (the upstream
call to the owning system) to the request's `AuditContext`; everything is written in one
transaction after the app has finished and before the first byte of the response is sent. If the
write fails, the client gets 503 `AUDIT_UNAVAILABLE` instead of the response: a 2xx never leaves
without its record (DESIGN.md §3).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lgsp.audit.chain import AuditEntry
from lgsp.audit.context import AUDIT_SCOPE_KEY, EMPTY_SHA256, AuditContext, body_hash
from lgsp.connection import DROP, DROPPED_STATUS, ConnectionDropped, server_drops
from lgsp.errors import (
    INSTANCE_SCOPE_KEY,
    AuditUnavailable,
    problem_body,
    problem_head,
    source_of,
)
from lgsp.journal.capture import (
    BodyCapture,
    JournalEntry,
    stored_body,
    stored_document,
    stored_path,
    stored_query,
    valid_text,
)
from lgsp.logging import request_id_var
from lgsp.masking import MAX_AUDIT_TEXT, audit_text, mask_personal_data
from lgsp.settings import Settings
from lgsp.state import bus_state_from_scope

logger = logging.getLogger(__name__)

# `AuditContext` and `body_hash` live in `lgsp.audit.context`; re-exported for older importers.
__all__ = ["AuditContext", "AuditRecorder", "body_hash"]

MAX_ERROR_BODY = 64 * 1024


class AuditRecorder:
    def __init__(self, app: ASGIApp, *, instance: str) -> None:
        self.app = app
        self.instance = instance

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bus = bus_state_from_scope(scope)
        writer = bus.audit_writer
        context = AuditContext()
        scope[AUDIT_SCOPE_KEY] = context
        scope[INSTANCE_SCOPE_KEY] = self.instance  # an error names its instance (lgsp.errors)
        # Made at a call's first byte: most requests (GETs) have none (`EMPTY_SHA256`).
        request_hash: hashlib._Hash | None = None
        response_hash: hashlib._Hash | None = None
        held: list[Message] = []
        started = time.perf_counter_ns()
        occurred_at = datetime.now(UTC)
        journal = _journal_capture(scope, bus.settings)

        async def hashing_receive() -> Message:
            nonlocal request_hash
            message = await receive()
            if message["type"] == "http.request":
                body = message.get("body", b"")
                request_hash = _hashed(request_hash, body)
                if journal is not None:
                    journal[0].add(body, more=message.get("more_body", False))
            return message

        async def holding_send(message: Message) -> None:
            nonlocal response_hash
            if message["type"] == "http.response.body":
                body = message.get("body", b"")
                response_hash = _hashed(response_hash, body)
                if journal is not None:
                    journal[1].add(body, more=message.get("more_body", False))
            held.append(message)

        failure: BaseException | None = None
        try:
            await self.app(scope, hashing_receive, holding_send)
        except Exception as error:  # FastAPI has already rendered the 500 into `held`
            failure = error
        status, dropped, start = _outcome(held)
        caller = context.caller
        # By position, in the order of `AuditEntry`'s fields: fourteen keywords cost 11.5k
        # instructions against 5.5k (issue 21; test_recorder_entries.py names each field).
        inbound = AuditEntry(
            request_id_var.get() or "",  # request_id
            self.instance,  # instance
            "inbound",  # hop
            # A claimed id is the client's text, whatever its length (`/token`, probe F9).
            None if caller is None else audit_text(caller, limit=64),  # caller
            self.instance,  # target
            context.service,  # service
            _audited_method(scope["method"]),  # method
            audit_text(scope["path"]),  # path
            status,
            (time.perf_counter_ns() - started) // 1000,  # latency_us
            EMPTY_SHA256 if request_hash is None else request_hash.hexdigest(),  # request_sha256
            EMPTY_SHA256 if response_hash is None else response_hash.hexdigest(),  # response_…
            occurred_at,
            _notes(context),  # notes
        )
        exchanges = (
            ()
            if journal is None
            else (_journal_entry(scope, inbound, context, start, journal, bus.settings),)
        )
        try:
            await writer.append([inbound, *context.upstream], journal=exchanges)
        except Exception:
            logger.exception("audit write failed; answering 503 instead of %s", status)
            held, status = _audit_unavailable(scope), AuditUnavailable.status
        bus.metrics.observe_request(
            instance=self.instance,
            service=context.service,
            status=status,
            seconds=(time.perf_counter_ns() - started) / 1e9,
        )
        if status >= 400:
            bus.metrics.observe_error(instance=self.instance, code=_error_code(held))
        for message in held:
            if dropped and message["type"] == DROP and not server_drops(scope):
                failure = failure or ConnectionDropped("The gateway closed the connection.")
                break
            await send(message)
        if failure is not None:
            raise failure


_NOT_JOURNALED = ("/token", "/admin/", "/docs", "/openapi.json", "/redoc")
"""Credentials (tokens, secrets), the journal's own reading, and documentation pages."""
_NOT_JOURNALED_PATHS = frozenset(prefix.rstrip("/") for prefix in _NOT_JOURNALED)


def _hashed(digest: hashlib._Hash | None, body: bytes) -> hashlib._Hash | None:
    """A body's running SHA-256 with `body` added: none until a first byte comes (an empty
    body's digest is the constant `EMPTY_SHA256`, and most requests are GETs with none)."""
    if digest is not None:
        digest.update(body)
        return digest
    return hashlib.sha256(body) if body else None


def _outcome(held: list[Message]) -> tuple[int, bool, Message | None]:
    """The status the app answered (502 for a drop, 500 for no answer), whether it dropped
    the connection, and the answer's start (its header fields, for the journal)."""
    start: Message | None = None
    dropped = False
    for message in held:
        kind = message["type"]
        if kind == "http.response.start":
            if start is None:
                start = message
        elif kind == DROP:
            dropped = True
    if start is not None:
        return start["status"], dropped, start
    return (DROPPED_STATUS if dropped else 500), dropped, None


_PLAIN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods `audit_text` leaves as they are: short, printable and no number."""


def _audited_method(method: str) -> str:
    return method if method in _PLAIN_METHODS else audit_text(method, limit=16)


def _relative_path(scope: Scope) -> str:
    """The path under the instance's base, as integrators write it in journal filters."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


_Capture = tuple[BodyCapture, BodyCapture, str]
"""An exchange the journal keeps: its request's and its response's capture, and its path
below the instance's base (`_relative_path`)."""


def _journal_capture(scope: Scope, settings: Settings) -> _Capture | None:
    """Request and response capture for an exchange the journal keeps, else None."""
    if not settings.journal_enabled:
        return None
    path = _relative_path(scope)
    if path in _NOT_JOURNALED_PATHS or path.startswith(_NOT_JOURNALED):
        return None
    limit = settings.journal_max_body_bytes
    return BodyCapture(limit), BodyCapture(limit), path


_REQUEST_FIELDS = {b"content-type": 0, b"content-length": 1, b"transfer-encoding": 2}
"""The request's header fields the journal reads, and where `_request_fields` puts each."""


def _journal_entry(
    scope: Scope,
    inbound: AuditEntry,
    context: AuditContext,
    start: Message | None,
    capture: _Capture,
    settings: Settings,
) -> JournalEntry:
    masked = not settings.journal_unmasked
    request_type, length, encoding = _request_fields(scope.get("headers", []))
    response_type = None if start is None else _content_type(start.get("headers", []))
    requested, answered, relative = capture
    # A body the app never read to its end (a call refused before it was): not all is here.
    unread = not requested.complete and ((length or "0") != "0" or encoding is not None)
    # By position, in the order of `JournalEntry`'s fields: sixteen keywords cost 12.3k
    # instructions against 4.5k (issue 21; test_recorder_entries.py names each field).
    return JournalEntry(
        inbound.instance,  # instance
        inbound.request_id,  # request_id
        inbound.caller,  # client_id
        context.service,  # service
        inbound.method,  # method
        _journal_path(scope, relative, inbound.path, masked=masked),  # path
        stored_query(bytes(scope.get("query_string", b"")).decode("latin-1"), masked=masked),
        inbound.status,  # status
        request_type,  # request_content_type
        stored_body(requested, request_type, masked=masked),  # request_body
        requested.over_limit or unread,  # request_truncated
        response_type,  # response_content_type
        _stored_answer(context, answered, response_type, masked=masked),  # response_body
        answered.over_limit,  # response_truncated
        inbound.latency_us,  # latency_us
        inbound.occurred_at,  # occurred_at
    )


def _journal_path(scope: Scope, relative: str, audited: str, *, masked: bool) -> str:
    """`stored_path` of the path below the instance's base, cut from the audit record's path
    (`audited`, the whole path as `audit_text` wrote it) instead of masked a second time
    (issue 21), when that record holds the whole path masked and nothing else: a printable
    path (nothing escaped) no longer than the record keeps. Masking changes runs of digits
    (and digits spelt `%3…` or `&#…;`), and none spans the `/` that opens the relative path,
    so the relative path masked is the whole path masked, past the base masked."""
    path: str = scope["path"]
    if (
        masked
        and (not relative or relative[0] == "/")
        and len(path) <= MAX_AUDIT_TEXT
        and path.isprintable()
    ):
        return valid_text(audited[_masked_length(path[: len(path) - len(relative)]) :])
    return stored_path(relative, masked=masked)


@functools.lru_cache(maxsize=64)
def _masked_length(base: str) -> int:
    """The length of an instance's base path once masked (itself, unless it holds a number)."""
    return len(mask_personal_data(base))


def _stored_answer(
    context: AuditContext, answered: BodyCapture, content_type: str | None, *, masked: bool
) -> str:
    """From the JSON value the handler answered when it is what was sent, else from the body."""
    if context.answer is not None:
        stored = stored_document(answered, *context.answer, masked=masked)
        if stored is not None:
            return stored
    return stored_body(answered, content_type, masked=masked)


def _notes(context: AuditContext) -> str | None:
    if not context.notes:
        return None
    return json.dumps(context.notes, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _request_fields(headers: list[tuple[bytes, bytes]]) -> list[str | None]:
    """The first value of each of `_REQUEST_FIELDS`, in one pass over the fields. A request's
    field names are in lower case, as ASGI gives them (the entry middleware reads them so)."""
    found: list[str | None] = [None, None, None]
    for key, value in headers:
        index = _REQUEST_FIELDS.get(key)
        if index is not None and found[index] is None:
            found[index] = value.decode("latin-1")[:200]
    return found


def _content_type(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The answer's first `Content-Type`, however the app spelt its name."""
    for key, value in headers:
        if len(key) == 12 and key.lower() == b"content-type":
            return value.decode("latin-1")[:200]
    return None


def _error_code(held: list[Message]) -> str:
    """The stable code of a problem (or the RFC 6749 error of the token endpoint)."""
    body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
    try:
        document = json.loads(body) if len(body) <= MAX_ERROR_BODY else None
    except ValueError:
        document = None
    if isinstance(document, dict):
        code = document.get("code") or document.get("error")
        if isinstance(code, str) and code.replace("_", "").isalnum() and len(code) <= 64:
            return code
    return "UNKNOWN"


def _audit_unavailable(scope: Scope) -> list[Message]:
    body = problem_body(
        AuditUnavailable(
            "Nothing was returned because the audit record could not be committed; retry."
        ),
        instance=scope["path"],
        source=source_of(scope),
    )
    return [
        {
            "type": "http.response.start",
            "status": AuditUnavailable.status,
            "headers": [
                *problem_head(body, source=source_of(scope)),
                (b"x-request-id", (request_id_var.get() or "").encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]
