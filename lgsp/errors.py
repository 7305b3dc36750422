"""Every error the gateway can answer, and the one place that renders them (RFC 9457).

Domain code raises an `LgspError` subclass (or an adapter's `TranslationError`); the handlers
installed by `install_error_handlers` turn it into `application/problem+json` with a stable
`code` and the request id, and never leak internals. The OAuth2 token endpoint is the one
exception: it answers in RFC 6749 §5.2 form through `OAuthError`.
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Protocol, TypedDict, Unpack

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.base import TranslationError
from lgsp.connection import ConnectionDropped
from lgsp.head import allow_header_with_head, allowed_with_head
from lgsp.logging import request_id_var

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://lgsp-mock-bus.local/problems/"

# "Which hop refused me" (issue 19), as X-Road's `X-Road-Error` names the failing side: every
# error answer says whether the gateway or the system behind it produced it, and at which
# instance, in this header and in the problem's `error_source` member.
ERROR_SOURCE_HEADER = "X-LGSP-Error-Source"
INSTANCE_SCOPE_KEY = "lgsp.instance"
"""Set by the audit recorder around each instance's app: the instance answering."""
ANSWERED_BY_SCOPE_KEY = "lgsp.answered_by"
"""Set by the invocation route when the owning system refused: the system's name."""
PROCESS = "bus"
"""The instance named for refusals made before any instance saw the request (the guard)."""
MAX_FORWARDED_PROBLEM = 64 * 1024


class LgspError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions

    def response_headers(self) -> dict[str, str]:
        """Headers the answer carries besides the problem document's own."""
        return dict(self.headers)


class InvalidToken(LgspError):
    code = "INVALID_TOKEN"
    status = 401
    title = "Missing, invalid or expired access token"
    # RFC 6750 §3: a 401 from a bearer-protected resource names the scheme.
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class AccessDenied(LgspError):
    code = "ACCESS_DENIED"
    status = 403
    title = "The client has no access right for this"


class SystemCallersOnly(LgspError):
    code = "SYSTEM_CALLERS_ONLY"
    status = 403
    title = "Only the bus's own systems and federation peers may call this operation"


class OrganisationRequired(LgspError):
    code = "ORGANISATION_REQUIRED"
    status = 403
    title = "This operation is bound to an organisation, and the client to none"


class OrganisationMismatch(LgspError):
    code = "ORGANISATION_MISMATCH"
    status = 403
    title = "The request names an organisation other than the client's"


class BusAdminRequired(LgspError):
    code = "BUS_ADMIN_REQUIRED"
    status = 403
    title = "Only the bus-wide admin may act on every instance of the process"


class UnknownOrganisation(LgspError):
    code = "UNKNOWN_ORGANISATION"
    status = 422
    title = "No system of the bus knows this organisation"


class CentralAgencyAtProvince(LgspError):
    code = "CENTRAL_AGENCY_AT_PROVINCE"
    status = 422
    title = "A central body's clients are the national instance's"


class AgencyOfOtherProvince(LgspError):
    code = "AGENCY_OF_OTHER_PROVINCE"
    status = 422
    title = "An agency's clients are its own province's instance's"


class BadPassword(LgspError):
    code = "BAD_PASSWORD"
    status = 422
    title = "The password cannot protect a key"


class BadCertificate(LgspError):
    code = "BAD_CERTIFICATE"
    status = 422
    title = "Not a root certificate the bus can trust"


class CertificateNotFound(LgspError):
    code = "CERTIFICATE_NOT_FOUND"
    status = 404
    title = "The test CA issued no certificate with this serial"


class ServiceNotFound(LgspError):
    code = "SERVICE_NOT_FOUND"
    status = 404
    title = "No such service"


class OperationNotFound(LgspError):
    code = "OPERATION_NOT_FOUND"
    status = 404
    title = "The service has no such operation"


class MethodNotAllowed(LgspError):
    code = "METHOD_NOT_ALLOWED"
    status = 405
    title = "Method not allowed"

    def response_headers(self) -> dict[str, str]:
        """RFC 9110 §15.5.6: a 405 lists the methods the resource does take in `Allow`, HEAD
        wherever GET is (the bus serves it as the GET, `lgsp.head`)."""
        allowed = self.extensions.get("allowed") or []
        return {**self.headers, "Allow": ", ".join(allowed_with_head(allowed))}


class NotFound(LgspError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"


class DialectNotSpoken(LgspError):
    code = "DIALECT_NOT_SPOKEN"
    status = 404
    title = "This instance does not speak that dialect"


class RequestTooLarge(LgspError):
    code = "REQUEST_TOO_LARGE"
    status = 413
    title = "Request body too large"


class RequestHeadersTooLarge(LgspError):
    code = "REQUEST_HEADERS_TOO_LARGE"
    status = 431  # RFC 6585 §5
    title = "Request header fields too large"


class RequestHeaderTimeout(LgspError):
    code = "REQUEST_HEADER_TIMEOUT"
    status = 408  # RFC 9110 §15.5.9
    title = "The request line and header fields did not arrive in time"


class ServerBusy(LgspError):
    code = "SERVER_BUSY"
    status = 503
    title = "The server holds as many connections as it may"


# A request `lgsp serve` held while it opened the bus (`lgsp.cli._starting`): held for longer
# than it may be, or the bus failed to open.
class BusStarting(LgspError):
    code = "STARTING"
    status = 503
    title = "The bus is still starting"


class BusNotStarted(LgspError):
    code = "NOT_STARTED"
    status = 503
    title = "The bus failed to start"


class InvalidPath(LgspError):
    code = "INVALID_PATH"
    status = 400
    title = "The request path has dot segments, encoded separators or control characters"


class InvalidRequest(LgspError):
    code = "INVALID_REQUEST"
    status = 422
    title = "The request is not valid"


class UpstreamUnavailable(LgspError):
    code = "UPSTREAM_UNAVAILABLE"
    status = 502
    title = "The system that owns the service could not be reached"


class UpstreamTimeout(LgspError):
    code = "UPSTREAM_TIMEOUT"
    status = 504
    title = "The system that owns the service did not answer in time"


class TargetNotFound(LgspError):
    code = "TARGET_NOT_FOUND"
    status = 404
    title = "The province named in X-LGSP-Target is not part of this bus"


class AuditUnavailable(LgspError):
    code = "AUDIT_UNAVAILABLE"
    status = 503
    title = "The call could not be recorded in the audit log, so it was not completed"


class DatabaseUnavailable(LgspError):
    code = "DATABASE_UNAVAILABLE"
    status = 503
    title = "The bus's database is unavailable; nothing was done"
    headers = {"Retry-After": "1"}


DATABASE_FAILURES = (OperationalError, InterfaceError, PoolTimeout)
"""The database away, locked or out of connections: a 503 to retry, not a bug (probe F17)."""


class OutboxConflict(LgspError):
    code = "OUTBOX_CONFLICT"
    status = 409
    title = "The outbox message is not in a state that allows this"


class ClientProtected(LgspError):
    code = "CLIENT_PROTECTED"
    status = 409
    title = "The bus's own clients, and the admin client making the call, are not changed here"


class RateLimited(LgspError):
    code = "RATE_LIMITED"
    status = 429
    title = "Too many calls: the client's rate limit is exhausted"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        # RFC 9110 §10.2.3: whole seconds; per instance, so not the class-level `headers`.
        vars(self)["headers"] = {"Retry-After": str(max(1, retry_after))}


class InjectedFault(LgspError):
    code = "INJECTED_FAULT"
    status = 503
    title = "A fault injected for testing answered instead of the owning system"


class JournalMismatch(LgspError):
    code = "JOURNAL_VERIFICATION_FAILED"
    status = 409
    title = "The journal does not hold the expected number of matching exchanges"


class WaitTimedOut(LgspError):
    code = "WAIT_TIMED_OUT"
    status = 408
    title = "What the wait expected did not happen before its timeout"


class JournalDisabled(LgspError):
    code = "JOURNAL_DISABLED"
    status = 409
    title = "This bus keeps no journal (LGSP_JOURNAL_ENABLED is off)"


class OAuthError(Exception):
    """An RFC 6749 §5.2 error from the token endpoint: `{"error", "error_description"}`."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, as every error of the bus is answered (for the contracts)."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str
    code: str
    request_id: str | None


def problem_responses(*codes: type[LgspError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each status it may answer, documented as problem+json."""
    by_status: dict[int, list[str]] = {}
    for error in codes:
        by_status.setdefault(error.status, []).append(error.code)
    return {
        status: {
            "model": ProblemDetails,
            "description": " or ".join(names),
            "content": {PROBLEM_MEDIA_TYPE: {}},
        }
        for status, names in sorted(by_status.items())
    }


class _Problem(Protocol):
    code: ClassVar[str]
    status: ClassVar[int]
    title: ClassVar[str]
    detail: str
    extensions: dict[str, Any]


class ProblemFields(TypedDict):
    """What an error states in every problem document; the caller adds where and by whom."""

    status: int
    code: str
    title: str
    detail: str


def problem_fields(error: _Problem) -> ProblemFields:
    """The members an error's class and detail give every problem document it is shown in."""
    return {
        "status": error.status,
        "code": error.code,
        "title": error.title,
        "detail": error.detail,
    }


def error_source(instance: str, system: str | None = None) -> dict[str, str]:
    """Who produced an error: the gateway of `instance`, or `system` behind it."""
    if system is None:
        return {"by": "gateway", "instance": instance}
    return {"by": "system", "instance": instance, "system": system}


def source_header(source: dict[str, str]) -> str:
    """`gateway; instance=angiang` or `system; instance=angiang; system=dancu`."""
    by = source.get("by", "gateway")
    return "; ".join(
        [by, *(f"{key}={source[key]}" for key in ("instance", "system") if key in source)]
    )


def forwarded_source(body: bytes) -> dict[str, str] | None:
    """The `error_source` of a problem another instance answered, if it is one."""
    if len(body) > MAX_FORWARDED_PROBLEM:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    source = document.get("error_source") if isinstance(document, dict) else None
    if not isinstance(source, dict):
        return None
    shown = {
        key: value[:64]
        for key in ("by", "instance", "system")
        if isinstance(value := source.get(key), str) and value.replace("-", "").isalnum()
    }
    return shown if shown.get("by") in ("gateway", "system") and "instance" in shown else None


def source_of(scope: Any) -> dict[str, str]:
    """The source of an error answered in `scope` (a request's ASGI scope)."""
    return error_source(scope.get(INSTANCE_SCOPE_KEY, PROCESS), scope.get(ANSWERED_BY_SCOPE_KEY))


def problem_document(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    extensions: dict[str, Any] | None = None,
    source: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The RFC 9457 body; extension members never override the standard ones."""
    return {
        **(extensions or {}),
        **({} if source is None else {"error_source": source}),
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "request_id": request_id_var.get(),
    }


def problem_body(error: LgspError, *, instance: str, source: dict[str, str] | None = None) -> bytes:
    """An error's problem document as a body, for an answer sent from below the error handlers
    (by default the process's own refusal, before any instance)."""
    return json.dumps(
        problem_document(
            **problem_fields(error), instance=instance, source=source or error_source(PROCESS)
        )
    ).encode()


def problem_head(body: bytes, *, source: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    """The raw headers that describe a problem `body` sent from below the error handlers."""
    return [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        (
            ERROR_SOURCE_HEADER.lower().encode(),
            source_header(source or error_source(PROCESS)).encode(),
        ),
    ]


def problem_response(
    request: Request,
    *,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    **fields: Unpack[ProblemFields],
) -> JSONResponse:
    source = source_of(request.scope)
    body = problem_document(
        **fields, instance=request.url.path, extensions=extensions, source=source
    )
    all_headers = dict(headers or {})
    all_headers[ERROR_SOURCE_HEADER] = source_header(source)
    request_id = request_id_var.get()
    if request_id:
        all_headers["X-Request-ID"] = request_id
    return JSONResponse(
        body, status_code=fields["status"], headers=all_headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _render(
    request: Request, error: _Problem, headers: dict[str, str] | None = None
) -> JSONResponse:
    return problem_response(
        request, **problem_fields(error), extensions=error.extensions, headers=headers
    )


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    """The one mapping from exceptions to answers; registered for each class it knows."""
    if isinstance(exc, LgspError):
        return _render(request, exc, exc.response_headers())
    if isinstance(exc, TranslationError):
        return _render(request, exc, exc.headers)
    if isinstance(exc, OAuthError):
        return _oauth_response(exc, source_of(request.scope))
    if isinstance(exc, RequestValidationError):
        errors = [
            {
                "loc": list(error.get("loc", ())),
                "msg": error.get("msg", ""),
                "type": error.get("type"),
            }
            for error in exc.errors()
        ]
        return problem_response(
            request,
            status=422,
            code=InvalidRequest.code,
            title=InvalidRequest.title,
            detail="The request does not match the operation's contract; see `errors`.",
            extensions={"errors": errors},
        )
    if isinstance(exc, StarletteHTTPException):  # the router's own 404s and 405s
        return _http_exception(request, exc)
    if isinstance(exc, DATABASE_FAILURES):
        # Handled here rather than by the handler for `Exception`: that one answers 500, and
        # the error it leaves raised makes the server drop the client's connection.
        reason = getattr(exc, "orig", None) or type(exc).__name__  # the driver's words, no SQL
        logger.warning(
            "database unavailable on %s %s: %s", request.method, request.url.path, reason
        )
        failure = DatabaseUnavailable("The bus's database did not answer; retry shortly.")
        return _render(request, failure, failure.response_headers())
    if isinstance(exc, ConnectionDropped):  # a fault, to an in-process client: no bug to log
        logger.info("dropped the connection of %s %s", request.method, request.url.path)
        return _render(request, LgspError("The gateway closed the connection."))
    # Runs in ServerErrorMiddleware, outside our middleware: the body carries the request id
    # and `problem_response` sets the header itself.
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _render(request, LgspError("The gateway failed to handle the request."))


def _oauth_response(exc: OAuthError, source: dict[str, str]) -> JSONResponse:
    headers = {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        ERROR_SOURCE_HEADER: source_header(source),
        **exc.headers,
    }
    if exc.status == 401:
        # RFC 6749 §5.2: invalid_client with 401 names the scheme the client may use.
        headers["WWW-Authenticate"] = 'Basic realm="lgsp"'
    request_id = request_id_var.get()
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


def _http_exception(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        return _render(request, NotFound(f"Nothing is served at {request.url.path}."))
    if exc.status_code == 405:  # the router's `Allow` names GET alone where HEAD is served too
        headers = dict(exc.headers or {})
        if "Allow" in headers:
            headers["Allow"] = allow_header_with_head(headers["Allow"])
        return _render(
            request,
            MethodNotAllowed(f"{request.method} is not allowed on {request.url.path}."),
            headers,
        )
    return problem_response(
        request,
        status=exc.status_code,
        code=f"HTTP_{exc.status_code}",
        title=str(exc.detail),
        detail=str(exc.detail),
        headers=dict(exc.headers or {}),
    )


def install_error_handlers(app: FastAPI) -> None:
    for exception_class in (
        LgspError,
        TranslationError,
        OAuthError,
        RequestValidationError,
        StarletteHTTPException,
        *DATABASE_FAILURES,
        Exception,
    ):
        app.add_exception_handler(exception_class, _handle)
