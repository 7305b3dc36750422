"""The skeleton every adapter shares, written once: read this, then each adapter's tables.

Every adapter finds the catalog operation in a table of its own (`find_operation`), refuses a
body of the wrong media type (`media_type`, `UnsupportedMediaType`), and reads its system's
answer as a JSON object or reports a 502 (`read_answer`). The systems come in two families:

- NGSP-style services (`dancu`, `dvc`, `dvcqg`) answer in the envelope `{error_code, message,
  data}` (DOMAIN.md §8.1), "0" meaning success: `NgspAdapter`. `EnvelopeAdapter` is the whole
  adapter for the ones whose every other code is a refusal in a per-operation table (`dvc`,
  `dvcqg`); `dancu` reads its codes differently and keeps its own `to_canonical`. A refusal
  whose words never change is `refused_as`; a bare "malformed" code, `refused_as_malformed`.
- VDXP SDK-style endpoints (`qlvb`, `vdxp`) answer `{status: "OK", …}` or `{status, ErrorCode,
  ErrorDesc}`. `SdkAdapter` reads those against one table of refusals per system, and the refusals
  both systems make in the same words, `idempotency_refusals` and `edxml_refusals`.

`FieldReader` checks the fields of a system's record as it reads them, naming the field, never
its value (values are personal data or content).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from adapters.base import (
    AnswerInvalid,
    CanonicalRequest,
    CanonicalResponse,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from formats.edxml import InvalidEdxml, Reading
from formats.ngsp import SUCCESS

XML_MEDIA_TYPES = ("application/xml", "text/xml")
_RULE = re.compile(r"[a-z_]{1,40}")
_MAX_HEADER = 512  # Prefer and Accept are read only this far: both are short in practice
STRICT_HANDLING = {"Preference-Applied": "handling=strict"}
"""The answer's header when `Prefer: handling=strict` was honoured (RFC 7240 §3, §4.4)."""

_Operation = TypeVar("_Operation")


class UnknownOperation(TranslationError):
    code = "OPERATION_NOT_SUPPORTED"
    status = 501
    title = "The adapter does not support this operation"


class InvalidInput(TranslationError):
    """A body or query that does not validate; `errors` lists `{loc, msg, type}`, the shape of
    the gateway's own 422s, and never repeats the input: it may be personal data."""

    status = 422

    def __init__(self, detail: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)
        self.errors = errors


class StrictInput(BaseModel):
    """A canonical body (or a part of one) as an adapter takes it from a client: exactly the
    declared fields, each of its declared type (no `"1"` for 1: strict), and unchangeable once
    checked. Refused, it becomes the adapter's `InvalidInput` (`validation_errors`)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def refused_as(
    error: type[TranslationError], detail: str, **extensions: Any
) -> Callable[[Any], TranslationError]:
    """The refusal for an envelope code that means the same whatever the payload: `error`
    with these words, written in the operation's table beside the code it answers."""
    return lambda _payload: error(detail, **extensions)


def refused_as_malformed(
    error: type[InvalidInput], system: str, where: str, *, what: str = "request"
) -> Callable[[Any], TranslationError]:
    """The refusal for a system's "malformed" code (NGSP's DATA_TYPE_INVALID and its kin),
    given the envelope's payload: the system names no field, so `errors` names only `where`
    (`body`, `query`, `path`), and the input is never repeated."""
    by = system[:1].lower() + system[1:]  # "The DVC system" → "… by the DVC system"

    def refused(_payload: Any) -> TranslationError:
        return error(
            f"{system} refused the {what} as malformed.",
            errors=[{"loc": [where], "msg": f"Refused by {by}", "type": "refused"}],
        )

    return refused


class UnsupportedMediaType(TranslationError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    status = 415
    title = "The request body must be JSON"


def find_operation(
    operations: Mapping[str, _Operation], request: CanonicalRequest, *, adapter: str
) -> _Operation:
    """The table's row for the request's operation, or UnknownOperation (501)."""
    operation = operations.get(request.operation)
    if operation is None:
        raise UnknownOperation(f"The {adapter} adapter has no operation {request.operation!r}.")
    return operation


def prefers_strict(request: CanonicalRequest) -> bool:
    """Whether `Prefer` asks for `handling=strict` (RFC 7240 §4.4: refuse what is merely
    nonconforming rather than take it with warnings). Tokens are case-insensitive, separated by
    commas, each with optional `;`-parameters; the last `handling` wins."""
    handling = None
    for token in (request.prefer or "")[:_MAX_HEADER].split(","):
        name, _, value = token.split(";", 1)[0].partition("=")
        if name.strip().lower() == "handling":
            handling = value.strip().strip('"').lower()
    return handling == "strict"


def read_as_preferred(reader: Callable[..., Reading], request: CanonicalRequest) -> Reading:
    """The body read leniently, or strictly (every nonconformity refused, with its rule) when
    the client prefers `handling=strict`, the refusal then saying so (`Preference-Applied`)."""
    strict = prefers_strict(request)
    try:
        return reader(request.body, strict=strict)
    except InvalidEdxml as error:
        if strict:
            error.headers.update(STRICT_HANDLING)
        raise


def answered_strictly(answer: Callable[[], CanonicalResponse]) -> CanonicalResponse:
    """`answer()` under an honoured `handling=strict`: it, or its refusal, says so."""
    try:
        answered = answer()
    except TranslationError as error:
        error.headers.update(STRICT_HANDLING)
        raise
    return replace(answered, headers={**answered.headers, **STRICT_HANDLING})


def answer_warnings(
    answer: Mapping[str, Any], invalid: type[AnswerInvalid], system: str
) -> list[dict[str, str]]:
    """`system`'s `Warnings` (mock addition; absent: none), each `{rule, detail}`; else its
    502 (`invalid`)."""
    items = answer.get("Warnings", [])
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise invalid(f"{system}'s answer has no list Warnings.")
    found = []
    for item in items[:50]:
        rule, detail = item.get("Rule"), item.get("Detail")
        if not isinstance(rule, str) or not _RULE.fullmatch(rule) or not isinstance(detail, str):
            raise invalid(f"{system} answered a warning without a rule.")
        found.append({"rule": rule, "detail": detail[:500]})
    return found


def accepts_xml(request: CanonicalRequest) -> bool:
    """Whether the client's `Accept` ranks an XML media type above JSON (RFC 9110 §12.5.1);
    JSON, the bus's own form, wins ties and is the default."""
    best: dict[str, float] = {"json": 0.0, "xml": 0.0}
    for item in (request.accept or "")[:_MAX_HEADER].split(","):
        kind, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        side = "xml" if kind in XML_MEDIA_TYPES else "json" if kind == "application/json" else None
        if side is not None:
            best[side] = max(best[side], quality)
    return best["xml"] > best["json"]


def media_type(request: CanonicalRequest) -> str:
    """The request's media type without parameters, lower case; "" when none was sent."""
    return (request.content_type or "").partition(";")[0].strip().lower()


def validation_errors(error: ValidationError, where: str = "body") -> list[dict[str, Any]]:
    """pydantic's errors as `{loc, msg, type}` under `where` (`body`, `query`), the shape of the
    gateway's own 422s: no input value (it may be personal data or content), no URL."""
    return [
        {"loc": [where, *detail["loc"]], "msg": detail["msg"], "type": detail["type"]}
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def read_answer(
    response: SystemResponse, *, system: str, shape: str, invalid: type[AnswerInvalid]
) -> Mapping[str, Any]:
    """The system's answer as a JSON object, or `invalid` saying that `system` sent no `shape`."""
    answer = response.document
    if answer is None:
        try:
            answer = json.loads(response.body)
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
            answer = None
    if not isinstance(answer, dict):
        raise invalid(f"{system} answered HTTP {response.status} without {shape}.")
    return answer


@dataclass(frozen=True)
class FieldReader:
    """Typed reads of a system's record; each failure is `invalid` naming the field, never its
    value. `owner` starts every detail: "The portal's" gives "The portal's MaHoSo is …"."""

    owner: str
    invalid: type[AnswerInvalid]

    def mapping(self, value: Any, name: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.invalid(f"{self.owner} {name} is not an object.")
        return value

    def text(self, record: Mapping[str, Any], key: str) -> str:
        value = record.get(key)
        if not isinstance(value, str):
            raise self.invalid(f"{self.owner} {key} is missing or not a string.")
        return value

    def optional_text(self, record: Mapping[str, Any], key: str) -> str | None:
        return None if record.get(key) is None else self.text(record, key)

    def count(self, record: Mapping[str, Any], key: str, *, low: int = 0) -> int:
        value = record.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise self.invalid(f"{self.owner} {key} is not a whole number.")
        return value


# --- NGSP-style services: {error_code, message, data} ------------------------------------------


class _DatedOperation(Protocol):
    @property
    def to_system(self) -> Callable[[CanonicalRequest, date], SystemRequest]: ...


_Dated = TypeVar("_Dated", bound=_DatedOperation)


class NgspAdapter(Generic[_Dated]):
    """An adapter of an NGSP-style service: requests depend on the date (CCCD birth years),
    read once per call, and answers come in the envelope `{error_code, message, <payload>}`.

    A subclass names itself (`adapter`, for UnknownOperation), its `system` as details start
    ("The DVC system"), its envelope's `payload` key, its `invalid` error (502) and its
    `operations` table.
    """

    adapter: ClassVar[str]
    system: ClassVar[str]
    payload: ClassVar[str]
    invalid: ClassVar[type[AnswerInvalid]]
    operations: Mapping[str, _Dated]

    def __init__(self, *, today: Callable[[], date]) -> None:
        self._today = today
        # What a refusal of the envelope says it lacks, written once rather than on each answer.
        self._shape = f"the JSON envelope {{error_code, message, {self.payload}}}"

    def to_system(self, request: CanonicalRequest) -> SystemRequest:
        return self._operation(request).to_system(request, self._today())

    def _operation(self, request: CanonicalRequest) -> _Dated:
        # The table read here, `find_operation` called only to refuse: a frame less, twice a
        # call (issue 21).
        operation = self.operations.get(request.operation)
        if operation is None:
            return find_operation(self.operations, request, adapter=self.adapter)
        return operation

    def _answer(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> tuple[_Dated, Mapping[str, Any], Any]:
        """The request's operation, the system's envelope, and the envelope's `error_code`."""
        operation = self._operation(request)  # an unknown operation is 501 whatever the answer
        envelope = response.document  # handed over built: `read_answer` only for anything else
        if type(envelope) is not dict:
            envelope = read_answer(
                response, system=self.system, shape=self._shape, invalid=self.invalid
            )
        return operation, envelope, envelope.get("error_code")

    def _unexpected(
        self, response: SystemResponse, error_code: Any, *, when: str = ""
    ) -> TranslationError:
        """The 502 for a code this adapter does not read (`when` narrows the sentence)."""
        shown = str(error_code)[:16]  # bounded: the value comes from outside
        return self.invalid(
            f"{self.system} answered HTTP {response.status} with error_code {shown!r}, "
            f"which this adapter does not expect{when}."
        )


@dataclass(frozen=True)
class EnvelopeOperation:
    """One operation of an `EnvelopeAdapter`: its request, its success, and its refusals."""

    to_system: Callable[[CanonicalRequest, date], SystemRequest]
    read: Callable[[Mapping[str, Any]], Any]  # the success envelope → canonical content
    # (HTTP status, error_code) → the error, given the envelope's payload (`data`, `result`).
    errors: Mapping[tuple[int, str], Callable[[Any], TranslationError]] = field(
        default_factory=dict
    )
    success: int = 200  # the system's HTTP status for success, and ours


class EnvelopeAdapter(NgspAdapter[EnvelopeOperation]):
    """An `NgspAdapter` whose every code but "0" is a refusal: "0" with the operation's
    success status is the answer, a known (status, code) the operation's error, else a 502."""

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse:
        operation, envelope, error_code = self._answer(request, response)
        if response.status == operation.success and error_code == SUCCESS:
            return CanonicalResponse(operation.success, operation.read(envelope))
        error = operation.errors.get((response.status, str(error_code)))
        if error is not None:
            raise error(envelope.get(self.payload))
        raise self._unexpected(response, error_code, when=" for this operation")


# --- VDXP SDK-style endpoints: {status, ErrorCode, ErrorDesc} --------------------------------

Refusal = Callable[[str, Mapping[str, Any]], TranslationError]
"""The error for a refusal, given the operation and the system's answer."""


class _ReadOperation(Protocol):
    @property
    def read(self) -> Callable[[Mapping[str, Any]], CanonicalResponse]: ...


_Read = TypeVar("_Read", bound=_ReadOperation)


class SdkAdapter(Generic[_Read]):
    """An endpoint answering `{status: "OK", …}` or `{status, ErrorCode, ErrorDesc}`: OK under
    HTTP 200 is the answer, a known (status, ErrorCode) in `refusals` (or among those every
    such endpoint makes: `idempotency_refusals`, `edxml_refusals`) an error, else a 502.

    A subclass names itself (`adapter`), its `system` as details start, its `invalid` error,
    its `operations`, its `refusals` and its `strict_operations`, and builds requests with
    whatever clock it needs.
    """

    adapter: ClassVar[str]
    system: ClassVar[str]
    invalid: ClassVar[type[AnswerInvalid]]
    operations: Mapping[str, _Read]
    refusals: ClassVar[Mapping[tuple[int, str], Refusal]]
    strict_operations: ClassVar[frozenset[str]] = frozenset()
    """The operations that take a client's edXML, and so honour `Prefer: handling=strict`."""

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse:
        """The answer, or its refusal; under an honoured `handling=strict` either says so."""
        if request.operation in self.strict_operations and prefers_strict(request):
            return answered_strictly(lambda: self._read(request, response))
        return self._read(request, response)

    def _read(self, request: CanonicalRequest, response: SystemResponse) -> CanonicalResponse:
        operation = self._operation(request)
        answer = read_answer(
            response,
            system=self.system,
            shape="its JSON answer {status, ErrorCode, ErrorDesc}",
            invalid=self.invalid,
        )
        if response.status == 200 and answer.get("status") == "OK":
            return operation.read(answer)
        refusals = {**idempotency_refusals(), **edxml_refusals(self.system), **self.refusals}
        refusal = refusals.get((response.status, str(answer.get("ErrorCode"))))
        if refusal is None:
            shown = str(answer.get("ErrorCode"))[:32]  # bounded: the value comes from outside
            raise self.invalid(
                f"{self.system} answered HTTP {response.status} with ErrorCode {shown!r}, "
                "which this adapter does not expect."
            )
        raise refusal(request.operation, answer)

    def _operation(self, request: CanonicalRequest) -> _Read:
        return find_operation(self.operations, request, adapter=self.adapter)


def sdk_call(path: str, body: bytes, content_type: str) -> SystemRequest:
    """A POST of `body` to the endpoint's `path`, asking for its JSON answer."""
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    return SystemRequest(method="POST", path=path, body=body, headers=headers)


def require_xml(request: CanonicalRequest) -> None:
    """Refuse (415) a body that is not declared as an edXML message."""
    if media_type(request) not in XML_MEDIA_TYPES:
        raise UnsupportedMediaType(
            "Send the edXML message (application/xml).", supported=list(XML_MEDIA_TYPES)
        )


def idempotency_refusals() -> dict[tuple[int, str], Refusal]:
    """What both endpoints answer about the `Idempotency-Key` the gateway passes on."""
    return {
        (422, "IDEMPOTENCY_KEY_REUSED"): lambda _o, _a: IdempotencyKeyReused(
            "The Idempotency-Key was used before for another message."
        ),
        (400, "INVALID_IDEMPOTENCY_KEY"): lambda _o, _a: InvalidIdempotencyKey(
            "The Idempotency-Key must be 1 to 200 visible ASCII characters."
        ),
    }


def edxml_refusals(system: str) -> dict[tuple[int, str], Refusal]:
    """An edXML message `system` refused: its codec's rule, or its size."""
    return {
        # The codec's own message names elements, never values; bounded all the same.
        (422, "INVALID_EDXML"): lambda _o, a: InvalidEdxml(
            f"{system} refused the message: {str(a.get('ErrorDesc'))[:300]}",
            rule=r if isinstance(r := a.get("Rule"), str) and _RULE.fullmatch(r) else "refused",
        ),
        (413, "TOO_LARGE"): lambda _o, _a: InvalidEdxml(
            f"{system} refused the message as too large.", rule="too_large"
        ),
    }
