"""`{METHOD} {base}/{service}/{version}/{path}`: the gateway hop itself.

Order of checks: token (401), service in the catalog (404), operation (404/405), the client's
access right (403), the owner (404); then translate, call, translate back. An unknown service is
reported as such to any authenticated client, as API managers do, so that a typo is not mistaken
for a missing right.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from adapters.base import CanonicalRequest, SystemRequest, SystemResponse
from formats.errors import TranslationError
from kit.offload import OFF_LOOP_BYTES, off_loop_if_large
from lgsp.audit.chain import AuditEntry
from lgsp.audit.context import SAFE_METHODS
from lgsp.audit.recorder import AuditContext, body_hash
from lgsp.auth.federation import NDXP_CLIENT_ID, province_client_id
from lgsp.auth.provisioning import system_client_id
from lgsp.auth.rate_limit import RateLimit
from lgsp.catalog.loader import find_operation
from lgsp.catalog.schemas import MatchedOperation, ServiceSpec
from lgsp.deps import (
    AuditContextDep,
    BusDep,
    Caller,
    CallerDep,
    InstanceDep,
    record_pending,
    take_or_refuse,
)
from lgsp.errors import (
    ANSWERED_BY_SCOPE_KEY,
    ERROR_SOURCE_HEADER,
    AccessDenied,
    AuditUnavailable,
    InjectedFault,
    InvalidRequest,
    InvalidToken,
    LgspError,
    MethodNotAllowed,
    OrganisationMismatch,
    OrganisationRequired,
    RateLimited,
    ServiceNotFound,
    SystemCallersOnly,
    TargetNotFound,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_source,
    forwarded_source,
    problem_responses,
    source_header,
)
from lgsp.faults.apply import apply_fault, fault_for_call, tamper_document
from lgsp.faults.matcher import FAULT_HEADER, CallFacts
from lgsp.faults.schemas import DOCUMENT_FAULTS
from lgsp.json_text import compact_json
from lgsp.logging import request_id_var
from lgsp.masking import audit_text
from lgsp.outbox import handoff
from lgsp.outbox.handoff import PREFER_HEADER, prefers_respond_async
from lgsp.routing.callers import (
    ORIGIN_HEADER,
    Query,
    authorise_body,
    authorise_caller,
    authorise_central,
    authorise_target,
    origin_of,
    scoped_key,
)
from lgsp.routing.hints import add_hint
from lgsp.routing.resolver import TARGET_HEADER, Forward, Local, resolve_route
from lgsp.routing.transports import SystemTransport
from lgsp.state import BusState, InstanceState

router = APIRouter(tags=["invocation"])

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ANSWERED_METHODS = [*METHODS, "HEAD", "OPTIONS"]
"""HEAD and OPTIONS are no operation of any service, but get the same 405 naming the methods
the path does take in `Allow` (RFC 9110 §15.5.6), rather than the router's generic one."""
INVOCATION_PATH = "/{service_id}/{version}/{path:path}"
MAX_QUERY_PARAMS = 50
IDEMPOTENCY_HEADER = "Idempotency-Key"
_IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,200}$")


async def invoke_service(
    service_id: str,
    version: str,
    path: str,
    request: Request,
    caller: CallerDep,
    bus: BusDep,
    instance: InstanceDep,
    audit: AuditContextDep,
) -> Response:
    """Call an operation of a service in the catalog, through the adapter of its owner."""
    return await invoke(
        service_id, version, path, request, SentHeaders(request), caller, bus, instance, audit
    )


def _denial(caller: Caller, service: str, method: str) -> str:
    """Why `may_call` refused: a client allowed the call whose token was asked for other scopes
    learns that the token is at fault, not its rights."""
    if service not in caller.scopes and caller.may_call_with_any_scope(service, method):
        scopes = " ".join(sorted(caller.scopes)) or "none"
        return (
            f"The token's scope ({scopes}) does not include {service}: ask for a token with "
            f"scope={service}, or with no scope for every service client {caller.client_id} "
            "may call."
        )
    return f"Client {caller.client_id} may not call {method} on {service}."


async def invoke(
    service_id: str,
    version: str,
    path: str,
    request: Request,
    sent: SentHeaders,
    caller: Caller,
    bus: BusState,
    instance: InstanceState,
    audit: AuditContext,
) -> Response:
    """`invoke_service` with the request's header fields read already: the lean route
    (`lgsp.routing.dispatch`) reads them before it authenticates, once for both."""
    service = bus.catalog.get(service_id, version)
    if service is None:
        known = bus.catalog.versions(service_id)
        hint = f" Known versions: {', '.join(known)}." if known else ""
        raise ServiceNotFound(f"There is no service {service_id} {version}.{hint}")
    audit.service = service.id

    method: str = request.scope["method"]  # as `Request.method` reads it, less a property call
    matched = find_operation(service, method, "/" + path)
    if not caller.may_call(service.id, method):
        raise AccessDenied(_denial(caller, service.id, method))

    if matched.operation.verify_rate:
        _enforce_verify_rate(bus, instance.spec.name, caller.client_id)
    query = authorise_caller(
        matched.operation, caller, path_params=matched.path_params, query=_query_of(request)
    )
    target = sent.target
    authorise_target(matched.operation, caller, instance=instance.spec.name, target=target)
    authorise_central(
        matched.operation,
        caller,
        instance=instance.spec.name,
        national=instance.spec.kind == "national",
        path_params=matched.path_params,
        query=query,
    )
    later = prefers_respond_async(sent.prefer)
    try:
        route = resolve_route(service, instance, bus.topology, target)
    except UpstreamUnavailable:
        if not later:
            raise
        route = None  # no peer in this process now: the worker retries, or the message dies
    # Every hop carries the caller's request id, so that the whole path of a call (and calls a
    # system makes in turn, such as a portal checking a citizen) share one audit trail.
    passed_on = {
        "X-Request-ID": request_id_var.get() or "",
        ORIGIN_HEADER: origin_of(caller, instance=instance.spec.name, claimed=sent.origin),
    }
    if (key := sent.idempotency_key) is not None:
        passed_on[IDEMPOTENCY_HEADER] = scoped_key(caller.client_id, _checked_idempotency_key(key))
    body = await request.body()
    authorise_body(
        matched.operation,
        caller,
        body=body,
        content_type=sent.content_type,
        agencies=bus.agencies,
    )
    if later or method not in SAFE_METHODS:  # a hand-over stores even a GET
        await record_pending(bus, instance, caller.client_id, service.id, request, body)
    if later:
        target = None if target == instance.spec.name else target
        return await _hand_over(
            service, path, request, sent, query, body, passed_on, target, bus, instance, caller
        )
    assert route is not None  # noqa: S101 - only a hand-over goes on without a route

    # Faults on demand (issue 5): a rule-free instance costs a cache lookup here.
    header = sent.fault
    if header is None and bus.faults.rule_free(instance.spec.name):
        fault = None
    else:
        fault = await fault_for_call(
            bus.faults,
            bus.settings,
            instance=instance.spec.name,
            facts=CallFacts(service.id, service.version, method, "/" + path, caller.client_id),
            header=header,
        )
    if fault is not None and fault.kind in DOCUMENT_FAULTS:  # the document changes on its way
        body = await tamper_document(
            fault,
            body,
            ca=bus.ca,
            request=request,
            audit=audit,
            instance=instance.spec.name,
            service=service.id,
        )
        fault = None

    # A partial rather than a closure: a closure would make every variable it reads a cell of
    # this function, read through its cell on every call, faulted or not (issue 21).
    answer = partial(
        _answer,
        route,
        service,
        matched,
        path,
        request,
        sent,
        query,
        body,
        passed_on,
        bus,
        instance,
        audit,
        strict=caller.grant.strict,
    )
    if fault is None:
        return await answer()
    return await apply_fault(
        fault,
        answer,
        request=request,
        body=body,
        audit=audit,
        instance=instance.spec.name,
        service=service.id,
    )


async def _hand_over(
    service: ServiceSpec,
    path: str,
    request: Request,
    sent: SentHeaders,
    query: Query,
    body: bytes,
    passed_on: dict[str, str],
    target: str | None,
    bus: BusState,
    instance: InstanceState,
    caller: Caller,
) -> Response:
    """Store the call for the outbox worker to make later (`lgsp.outbox.handoff`): 202.

    What the caller controls is checked as for any call (`X-LGSP-Target` names a province);
    whether this process can reach the owner now is the delivery's affair. No fault applies
    here: faults are the owner's, and meet the call when it is delivered.
    """
    taken = await handoff.take(
        bus.session_factory,
        handoff.Handover(
            service=service.id,
            version=service.version,
            method=request.method,
            path="/" + path,
            query=query,
            body=body,
            content_type=sent.content_type,
            idempotency_key=passed_on.get(IDEMPOTENCY_HEADER),
            ordering_key=sent.get(handoff.ORDERING_HEADER),
            target_instance=target,
        ),
        instance=instance.spec.name,
        client_id=caller.client_id,
        request_id=passed_on["X-Request-ID"],
        now=datetime.now(UTC),
    )
    if bus.outbox_worker is not None and not taken.duplicate:
        bus.outbox_worker.wake()
    return JSONResponse(
        {"message_id": taken.message_id, "state": taken.state, "duplicate": taken.duplicate},
        status_code=202,
        headers={"Preference-Applied": handoff.RESPOND_ASYNC},
    )


async def _answer(
    route: Forward | Local,
    service: ServiceSpec,
    matched: MatchedOperation,
    path: str,
    request: Request,
    sent: SentHeaders,
    query: Query,
    body: bytes,
    passed_on: dict[str, str],
    bus: BusState,
    instance: InstanceState,
    audit: AuditContext,
    *,
    strict: bool = False,
) -> Response:
    """Make the upstream call (possibly twice, for a duplicate fault) and translate its answer.

    A client set to strict handling is read as if every call said `Prefer: handling=strict`
    (issue 17): its own `Prefer` cannot loosen what its operator chose."""
    if isinstance(route, Forward):
        return await _forward(
            route, service, path, request.method, sent, query, body, passed_on, instance, audit
        )

    adapter = bus.adapters[service.adapter]
    # By position, in the order of its fields: seven keywords cost 3k instructions (issue 21).
    canonical = CanonicalRequest(
        matched.operation.id,  # operation
        matched.path_params,
        query,
        body,
        sent.content_type,
        sent.accept,
        STRICT_PREFERENCE if strict else sent.prefer,  # prefer
    )
    # An edXML body is parsed (checked) by its adapter: a large one off the event loop. The
    # usual small one is translated here, without a partial and a coroutine (issue 21).
    if len(body) < OFF_LOOP_BYTES:
        translated = adapter.to_system(canonical)
    else:
        translated = await off_loop_if_large(len(body), partial(adapter.to_system, canonical))
    response = await _call_audited(
        route.transport,
        translated,
        audit,
        instance,
        service,
        hop="upstream",
        target=route.system,
        extra_headers=passed_on,
    )
    try:
        if len(response.body) < OFF_LOOP_BYTES:
            answer = adapter.to_canonical(canonical, response)
        else:
            answer = await off_loop_if_large(
                len(response.body), partial(adapter.to_canonical, canonical, response)
            )
    except TranslationError as refusal:
        request.scope[ANSWERED_BY_SCOPE_KEY] = route.system  # the system refused, not us
        add_hint(refusal, instance.spec, bus.topology)
        raise
    headers = answer.headers
    if answer.media_type != "application/json":  # the system's own bytes (a signed edXML)
        return Response(answer.content, answer.status, headers, media_type=answer.media_type)
    if isinstance(answer.content, dict):
        _note_message(audit, answer.content)
    if answer.status >= 400:  # a copy: the adapter's headers are its own
        source = error_source(instance.spec.name, route.system)
        headers = {**headers, ERROR_SOURCE_HEADER: source_header(source)}
    body = compact_json(answer.content)
    audit.answer = (answer.content, body)
    if headers:
        return Response(body, answer.status, headers, media_type="application/json")
    return JsonAnswer(body, answer.status)


_JSON_TYPE = (b"content-type", b"application/json")


class JsonAnswer(Response):
    """Starlette's `Response` of a JSON body with no header fields of its own: the same
    attributes and raw header fields (`content-length`, unless the status has no body, then
    `content-type`), set directly rather than by `Response.__init__`'s `render` and
    `init_headers`, half the answer's cost (issue 21)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        if status_code < 200 or status_code in (204, 304):
            self.raw_headers = [_JSON_TYPE]
        else:
            self.raw_headers = [(b"content-length", str(len(body)).encode("latin-1")), _JSON_TYPE]


_ERROR_SOURCE_FIELD = ERROR_SOURCE_HEADER.lower().encode("latin-1")


class ForwardedAnswer(Response):
    """Starlette's `Response` of the next hop's answer as it came (`media_type` its
    `Content-Type`, None for none), with the refusing hop's `source` (`ERROR_SOURCE_HEADER`)
    when there is one: the same attributes and raw header fields as `Response(body, status,
    {ERROR_SOURCE_HEADER: source}, media_type)`, set directly rather than by `render` and
    `init_headers` on every forwarded call (issue 21)."""

    def __init__(
        self, body: bytes, status_code: int, media_type: str | None, source: str | None = None
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = None
        self.body = body
        raw = [] if source is None else [(_ERROR_SOURCE_FIELD, source.encode("latin-1"))]
        if not (status_code < 200 or status_code in (204, 304)):
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        if media_type is not None:
            if media_type.startswith("text/") and "charset=" not in media_type.lower():
                media_type += "; charset=" + self.charset
            raw.append((b"content-type", media_type.encode("latin-1")))
        self.raw_headers = raw


STRICT_PREFERENCE = "handling=strict"
"""What a client set to strict handling is taken to prefer on every call (RFC 7240 §4.4)."""


def _note_message(audit: AuditContext, content: dict[str, object]) -> None:
    """What the audit record keeps of an edXML answer: its warnings' rule codes, and its
    signature's verdict (never the signer's name: the record is hashed for years)."""
    warnings, signature = content.get("warnings"), content.get("signature")
    if isinstance(warnings, list) and warnings:
        audit.notes["warnings"] = [w["rule"] for w in warnings if isinstance(w, dict)]
    if isinstance(signature, dict):
        audit.notes["signature"] = {
            key: signature.get(key) for key in ("present", "valid", "weak", "serial", "reason")
        }


async def _forward(
    route: Forward,
    service: ServiceSpec,
    path: str,
    method: str,
    sent: SentHeaders,
    query: Query,
    body: bytes,
    passed_on: dict[str, str],
    instance: InstanceState,
    audit: AuditContext,
) -> Response:
    """Pass the call on unchanged; the owner's gateway translates it and checks its own rights."""
    headers = dict(passed_on)
    if (content_type := sent.content_type) is not None:
        headers["Content-Type"] = content_type
    if route.target is not None:
        headers[TARGET_HEADER] = route.target
    forwarded = SystemRequest(
        method=method,
        path=f"/{service.id}/{service.version}/{path}",
        query=query,
        body=body,
        headers=headers,
    )
    response = await _call_audited(
        route.peer, forwarded, audit, instance, service, hop="forward", target=route.peer.name
    )
    source: str | None = None
    if response.status >= 400:  # the hop that refused said so in its problem: pass it on
        source = source_header(forwarded_source(response.body) or error_source(route.peer.name))
    return ForwardedAnswer(response.body, response.status, response.content_type, source)


async def _call_audited(
    transport: SystemTransport,
    system_request: SystemRequest,
    audit: AuditContext,
    instance: InstanceState,
    service: ServiceSpec,
    *,
    hop: str,
    target: str,
    extra_headers: dict[str, str] | None = None,
) -> SystemResponse:
    """Make one hop and record it, failed or not, with the status the client will see.

    `extra_headers` go with the request's own (`SystemTransport.send`)."""
    occurred_at = datetime.now(UTC)
    started = time.perf_counter_ns()
    status, response_body = 0, b""
    try:
        response = await transport.send(system_request, extra_headers)
        status, response_body = response.status, response.body
    except LgspError as error:
        status = error.status
        raise
    finally:
        name = instance.spec.name
        # By position, in the order of `AuditEntry`'s fields: thirteen keywords cost more than
        # the entry itself, 10k instructions against 4.5k (issue 21;
        # tests/unit/routing/test_upstream_entry.py names every field).
        audit.upstream.append(
            AuditEntry(
                request_id_var.get() or "",  # request_id
                name,  # instance
                hop,
                name,  # caller
                target,
                service.id,  # service
                system_request.method,  # method
                audit_text(system_request.path),  # path
                status,
                (time.perf_counter_ns() - started) // 1000,  # latency_us
                body_hash(system_request.body),  # request_sha256
                body_hash(response_body),  # response_sha256
                occurred_at,
            )
        )
    return response


VERIFY_BUCKET = "(verify)"
"""One bucket per client for every `verify_rate` operation: alternating services (dancu,
csdlqgdc) gives no more guesses. Not a service id (`ServiceSpec.id`'s pattern)."""
_BUS_CLIENT_PREFIXES = (system_client_id(""), province_client_id(""))
"""`system-<system>` and `lgsp-<province>`: generated client ids have no `-`."""


def _enforce_verify_rate(bus: BusState, instance: str, client_id: str) -> None:
    """A guess of a date of birth per call (SECURITY-PROBE F15): counted at the instance the
    client belongs to. The bus's own clients pass: the hop before checked the client who started
    the call, and its systems call for many citizens (a portal checking applicants)."""
    settings = bus.settings
    if client_id == NDXP_CLIENT_ID or client_id.startswith(_BUS_CLIENT_PREFIXES):
        return
    limit = RateLimit(settings.verify_rate_per_minute / 60, settings.verify_rate_burst)
    take_or_refuse(
        bus,
        instance,
        client_id,
        VERIFY_BUCKET,
        limit,
        allowance=f"verify at most {settings.verify_rate_per_minute:g} claims a minute",
    )


AUTHORIZATION = "Authorization"
_HOP_FIELDS = {
    name.lower().encode("latin-1"): index
    for index, name in enumerate(
        (
            AUTHORIZATION,
            "Content-Type",
            "Accept",
            PREFER_HEADER,
            TARGET_HEADER,
            ORIGIN_HEADER,
            IDEMPOTENCY_HEADER,
            FAULT_HEADER,
        )
    )
}
"""The header fields every hop reads, as ASGI names them (lower case), and their slot below."""


class SentHeaders:
    """The request's header fields the hop reads, found in one pass over the scope's list and
    decoded once; a repeated field gives its first value, as `request.headers.get` does.

    A dict of every field decoded, read by name nine times a call (most of them absent), cost
    some 25k instructions a hop; one look-up per field sent costs a fifth of that (issue 21).
    `get` reads any other field (the outbox's ordering key) from the list when asked.
    """

    __slots__ = (
        "_fields",
        "accept",
        "authorization",
        "content_type",
        "fault",
        "idempotency_key",
        "origin",
        "prefer",
        "target",
    )

    def __init__(self, request: Request) -> None:
        self._fields: list[tuple[bytes, bytes]] = request.scope["headers"]
        found: list[str | None] = [None] * 8
        for name, value in self._fields:
            index = _HOP_FIELDS.get(name)
            if index is not None and found[index] is None:
                found[index] = value.decode("latin-1")
        (
            self.authorization,
            self.content_type,
            self.accept,
            self.prefer,
            self.target,
            self.origin,
            self.idempotency_key,
            self.fault,
        ) = found

    def get(self, name: str) -> str | None:
        key = name.lower().encode("latin-1")
        for field, value in self._fields:
            if field == key:
                return str(value.decode("latin-1"))
        return None


def _query_of(request: Request) -> Query:
    """The query's pairs, in order; no parsing at all for the usual call without a query."""
    if not request.scope.get("query_string"):
        return ()
    if len(request.query_params) > MAX_QUERY_PARAMS:
        raise InvalidRequest(f"At most {MAX_QUERY_PARAMS} query parameters are accepted.")
    return tuple(request.query_params.multi_items())


def _checked_idempotency_key(key: str) -> str:
    if not _IDEMPOTENCY_KEY.match(key):
        raise InvalidRequest(
            f"{IDEMPOTENCY_HEADER} must be 1 to 200 visible ASCII characters without spaces."
        )
    return key


for _method in METHODS:  # one route per method, so each has its own operation id
    router.add_api_route(
        INVOCATION_PATH,
        invoke_service,
        methods=[_method],
        operation_id=f"invoke_service_{_method.lower()}",
        summary=f"{_method} an operation of a service",
        responses=problem_responses(
            InvalidToken,
            AccessDenied,
            SystemCallersOnly,
            OrganisationRequired,
            OrganisationMismatch,
            ServiceNotFound,
            TargetNotFound,
            MethodNotAllowed,
            InvalidRequest,
            InjectedFault,
            RateLimited,
            UpstreamUnavailable,
            UpstreamTimeout,
            AuditUnavailable,
        ),
    )
router.add_api_route(INVOCATION_PATH, invoke_service, methods=["OPTIONS"], include_in_schema=False)
