"""The error answers of every mock that wraps its answers in an envelope, written once.

Each mock answers errors in its system's own envelope, never in the bus's problem+json: the NGSP
envelope `{error_code, message, data}` of the citizen databases and the DVC portal, DVCQG's
`{error_code, message, result}`, and the VDXP SDK's `{status, ErrorCode, ErrorDesc}`. A mock
raises `EnvelopeError` (or a subclass) for its own refusals, lists how other exceptions are
answered (`Translation`), and `install_envelope_handlers` answers them all in its `Envelope`,
the router's 404 and 405 included (STYLE.md Part 2, trap 4).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from formats.ngsp import DATA, envelope
from kit.head import allow_header_with_head

_E = TypeVar("_E", bound=Exception)


class EnvelopeError(Exception):
    """An error answer: HTTP status, the envelope's code and message, and what else it carries
    (the NGSP payload, or the SDK's extra fields); `headers` go on the answer (`Allow`)."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        data: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message, self.data = status, error_code, message, data
        self.headers = dict(headers or {})


class Envelope(Protocol):
    """How one family of systems writes an error answer's body."""

    def error_body(self, error: EnvelopeError) -> dict[str, Any]: ...


@dataclass(frozen=True)
class NgspEnvelope:
    """`{error_code, message, <key>}` (`formats.ngsp`): `data` in a province, DVCQG's `result`."""

    key: str = DATA
    success_message: str = "OK"

    def ok(self, payload: Any, status: int = 200, **extra: Any) -> JSONResponse:
        body = envelope(payload, message=self.success_message, key=self.key)
        return JSONResponse({**body, **extra}, status_code=status)

    def error_body(self, error: EnvelopeError) -> dict[str, Any]:
        return envelope(
            error.data, error_code=error.error_code, message=error.message, key=self.key
        )


@dataclass(frozen=True)
class SdkEnvelope:
    """The VDXP SDK's `{status: OK|FAIL, ErrorCode, ErrorDesc, …}` (DOMAIN.md §2.4)."""

    def ok(self, **fields: Any) -> JSONResponse:
        return JSONResponse({"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **fields})

    def error_body(self, error: EnvelopeError) -> dict[str, Any]:
        extra: Mapping[str, Any] = error.data or {}
        return {
            "status": "FAIL",
            "ErrorCode": error.error_code,
            "ErrorDesc": error.message,
            **extra,
        }


@dataclass(frozen=True)
class Translation(Generic[_E]):
    """How a mock answers one exception class that is not an `EnvelopeError`."""

    kind: type[_E]
    to_error: Callable[[_E], EnvelopeError]


def router_errors(
    error_code: str | None = None, *, shout: bool = True
) -> Translation[StarletteHTTPException]:
    """The router's own errors (404, 405, …) with their headers (`Allow`), the path not echoed:
    it may hold a citizen's or a dossier's number. `error_code` defaults to the HTTP status;
    `shout` writes the reason as a code (`Not Found` → `NOT_FOUND`) rather than as it is."""

    def to_error(exc: StarletteHTTPException) -> EnvelopeError:
        reason = str(exc.detail)
        headers = exc.headers
        if headers is not None and "Allow" in headers:  # HEAD is served wherever GET is
            headers = {**headers, "Allow": allow_header_with_head(headers["Allow"])}
        return EnvelopeError(
            exc.status_code,
            error_code or str(exc.status_code),
            reason.upper().replace(" ", "_") if shout else reason,
            headers=headers,
        )

    return Translation(StarletteHTTPException, to_error)


def error_response(answer: Envelope, error: EnvelopeError) -> JSONResponse:
    """`error` answered in `answer`'s envelope, with its status and headers."""
    return JSONResponse(
        answer.error_body(error), status_code=error.status, headers=error.headers or None
    )


def install_envelope_handlers(
    app: FastAPI, answer: Envelope, translations: Sequence[Translation[Any]]
) -> None:
    """Answer every `EnvelopeError`, and each exception of `translations` (the first that fits),
    in `answer`'s envelope."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        error = exc if isinstance(exc, EnvelopeError) else _translate(exc, translations)
        return error_response(answer, error)

    classes: list[type[Exception]] = [EnvelopeError, *(t.kind for t in translations)]
    for exception_class in classes:
        app.add_exception_handler(exception_class, handle)


def _translate(exc: Exception, translations: Sequence[Translation[Any]]) -> EnvelopeError:
    for translation in translations:
        if isinstance(exc, translation.kind):
            error: EnvelopeError = translation.to_error(exc)
            return error
    raise exc  # pragma: no cover - only the classes registered above reach the handler
