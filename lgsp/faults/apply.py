"""Doing a chosen fault around the upstream call, and recording it as an audit hop.

`answer` makes the real call (and translates its answer); a fault `before` it replaces or
delays the call, one `after` it lets the call happen (its effect stands) and then replaces or
delays what the client gets. Each applied fault is an audit record of its own, hop `fault`,
under the request id, with what it did as `target`.

A dropped connection cannot be said in plain ASGI: `drop` (closed before any byte of the
answer) and `cut` (the status line, headers and part of the body, then closed) end with the
drop message of `lgsp.connection`, which `lgsp serve` obeys by closing the socket.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import Response
from starlette.types import Receive, Scope, Send

from lgsp.audit.chain import AuditEntry
from lgsp.audit.context import AuditContext, body_hash
from lgsp.ca.store import CertificateAuthority
from lgsp.connection import drop_message
from lgsp.errors import (
    InjectedFault,
    InvalidRequest,
    RateLimited,
    UpstreamTimeout,
    problem_response,
)
from lgsp.faults.book import FaultBook
from lgsp.faults.matcher import CallFacts, Fault, HeaderError, parse_fault_header
from lgsp.faults.schemas import FaultKind
from lgsp.logging import request_id_var
from lgsp.masking import audit_text
from lgsp.settings import Settings

Answer = Callable[[], Awaitable[Response]]

FAULT_HOP = "fault"
MALFORMED_BEFORE = b'{"status": "ok", "data": [{"id": 1, "name": "'


class DroppedConnection(Response):
    """No answer at all: the connection closes before its first byte (`drop`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(drop_message())


class CutConnection(Response):
    """The status line, the headers with the whole body's length, part of the body, then the
    connection closes (`cut`): a client that trusts the status alone takes a broken answer."""

    def __init__(self, *, status: int, media_type: str | None, whole: bytes) -> None:
        super().__init__(status_code=status, media_type=media_type)
        self.whole = whole

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [*headers, (b"content-length", str(len(self.whole)).encode())],
            }
        )
        await send(
            {"type": "http.response.body", "body": _first_half(self.whole), "more_body": True}
        )
        await send(drop_message())


async def apply_fault(
    fault: Fault,
    answer: Answer,
    *,
    request: Request,
    body: bytes,
    audit: AuditContext,
    instance: str,
    service: str,
) -> Response:
    def recorder() -> _Recorder:
        return _Recorder(
            fault, request=request, body=body, audit=audit, instance=instance, service=service
        )

    if fault.kind is FaultKind.DUPLICATE:
        recorder().done(status=0, latency_us=0)
        await answer()
        return await answer()
    upstream = await answer() if fault.when == "after" else None
    record = recorder()  # its time: when the fault begins, after the call it follows
    started = time.perf_counter_ns()

    if fault.kind in (FaultKind.LATENCY, FaultKind.TIMEOUT):
        await asyncio.sleep(fault.delay_ms / 1000)
        waited = (time.perf_counter_ns() - started) // 1000
        if fault.kind is FaultKind.TIMEOUT:
            record.done(status=UpstreamTimeout.status, latency_us=waited)
            raise UpstreamTimeout(f"System {service} did not answer in time.", fault=fault.source)
        record.done(status=0, latency_us=waited)
        return upstream if upstream is not None else await answer()

    if fault.kind is FaultKind.STATUS:
        reached = "was made, but its answer replaced" if upstream is not None else "was not made"
        response: Response = problem_response(
            request,
            status=fault.status,
            code=InjectedFault.code,
            title=InjectedFault.title,
            detail=f"Injected by fault {fault.source}: the call to {service} {reached}.",
            extensions={"fault": fault.source},
        )
    elif fault.kind is FaultKind.RATE_LIMIT:
        limited = RateLimited(
            f"Too many calls to {service}; retry after {fault.retry_after} s.",
            retry_after=fault.retry_after,
        )
        response = problem_response(
            request,
            status=limited.status,
            code=limited.code,
            title=limited.title,
            detail=limited.detail,
            extensions={**limited.extensions, "fault": fault.source},
            headers=limited.headers,
        )
    elif fault.kind is FaultKind.MALFORMED:
        response = Response(
            _malformed(bytes(upstream.body) if upstream is not None else b""),
            # An operation that answers 202 still does: only the body is broken (issue 20).
            status_code=upstream.status_code if upstream is not None else 200,
            media_type="application/json",
        )
    elif fault.kind is FaultKind.CUT:
        whole = bytes(upstream.body) if upstream is not None else b""
        if len(whole) < 2:  # nothing to cut: the fixed beginning of an answer, cut short
            whole = MALFORMED_BEFORE + b'"}]}'
        record.done(status=0, latency_us=0, response=_first_half(whole))
        return CutConnection(
            status=upstream.status_code if upstream is not None else 200,
            media_type=(upstream.headers if upstream is not None else {}).get(
                "content-type", "application/json"
            ),
            whole=whole,
        )
    elif fault.kind is FaultKind.DROP:  # even after the call, nothing of its answer leaves
        record.done(status=0, latency_us=0, response=b"")  # (issue 20)
        return DroppedConnection()
    else:  # a fault of trust changes the document before the call (`tamper_document`)
        raise ValueError(f"{fault.kind} is applied to the document, not to the answer")
    record.done(status=response.status_code, latency_us=0, response=bytes(response.body))
    return response


async def tamper_document(
    fault: Fault,
    body: bytes,
    *,
    ca: CertificateAuthority,
    request: Request,
    audit: AuditContext,
    instance: str,
    service: str,
) -> bytes:
    """The body the call carries on, after a fault of trust (`lgsp.faults.documents`, imported
    here: lxml and signxml are not imported at start-up for a fault few runs ask for)."""
    from lgsp.faults.documents import corrupt_signature, expired_certificate

    record = _Recorder(
        fault, request=request, body=body, audit=audit, instance=instance, service=service
    )
    started = time.perf_counter_ns()
    if fault.kind is FaultKind.CORRUPT_SIGNATURE:
        changed = corrupt_signature(body)
    else:  # a key and a signature: off the event loop
        changed = await asyncio.to_thread(expired_certificate, body, ca, now=datetime.now(UTC))
    sent = body if changed is None else changed
    record.done(status=0, latency_us=(time.perf_counter_ns() - started) // 1000, response=sent)
    return sent


def _first_half(whole: bytes) -> bytes:
    return whole[: max(1, len(whole) // 2)]


def _malformed(real: bytes) -> bytes:
    """The real answer cut in half (it is then never valid JSON), or a cut-off fixed one."""
    cut = real[: len(real) // 2]
    try:
        json.loads(cut)
    except ValueError:
        if cut.strip():
            return cut
    return MALFORMED_BEFORE


class _Recorder:
    def __init__(
        self,
        fault: Fault,
        *,
        request: Request,
        body: bytes,
        audit: AuditContext,
        instance: str,
        service: str,
    ) -> None:
        self.fault = fault
        self.request = request
        self.body = body
        self.audit = audit
        self.instance = instance
        self.service = service
        self.occurred_at = datetime.now(UTC)

    def done(self, *, status: int, latency_us: int, response: bytes = b"") -> None:
        """Status 0: the fault answered nothing itself (a delay, a duplicate, a drop)."""
        self.audit.upstream.append(
            AuditEntry(
                request_id=request_id_var.get() or "",
                instance=self.instance,
                hop=FAULT_HOP,
                caller=self.instance,
                target=self.fault.describe(),
                service=self.service,
                method=self.request.method,
                path=audit_text(self.request.url.path),
                status=status,
                latency_us=int(latency_us),
                request_sha256=body_hash(self.body),
                response_sha256=body_hash(response),
                occurred_at=self.occurred_at,
            )
        )


def header_enabled(settings: Settings) -> bool:
    """Unset follows the profile. Off, the header is ignored, as a real gateway ignores any
    header it does not know: the production profile behaves like the real thing, and a client
    learns nothing about the bus's settings by sending it."""
    if settings.fault_header_enabled is not None:
        return settings.fault_header_enabled
    return settings.profile == "dev"


async def fault_for_call(
    book: FaultBook,
    settings: Settings,
    *,
    instance: str,
    facts: CallFacts,
    header: str | None,
) -> Fault | None:
    """The header's fault when it is given and obeyed (rules are then not tried), else a rule's."""
    if header is not None and header_enabled(settings):
        try:
            rule = parse_fault_header(header)
        except HeaderError as error:
            raise InvalidRequest(str(error)) from None
        return book.from_header(instance, rule)
    return await book.pick(instance, facts)
