"""Requests and answers the adapter tests build, written once where two systems speak alike.

`dvc` and `dvcqg` take the same dossier calls; `qlvb` and `vdxp` answer in the same VDXP
SDK-style JSON and must keep the same content (`SECRET`) out of every refusal.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.base import (
    Adapter,
    CanonicalRequest,
    OperationContract,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from formats.edxml import InvalidEdxml
from lgsp.catalog.schemas import ServiceSpec

CATALOG = Path(__file__).resolve().parents[3] / "services"
DOSSIER_CODE = "000.00.07.H33-260302-0001"
SECRET = "BÍ MẬT 0912345678"  # content that must never reach an error detail


def dossier_call(
    operation: str,
    *,
    body: Any = None,
    code: str = DOSSIER_CODE,
    query: tuple[tuple[str, str], ...] = (),
    content_type: str | None = "application/json",
) -> CanonicalRequest:
    """A call on the dossier at `code`; a body that is not bytes is sent as JSON."""
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return CanonicalRequest(
        operation,
        {"code": code},
        query=query,
        body=raw if body is not None else b"",
        content_type=content_type,
    )


def catalog_entry(name: str) -> ServiceSpec:
    """The shipped catalog's `services/{name}.toml`."""
    return ServiceSpec.model_validate(tomllib.loads((CATALOG / f"{name}.toml").read_text("utf-8")))


def sdk_answer(status: int = 200, **fields: Any) -> SystemResponse:
    """A VDXP SDK-style answer: OK under HTTP 200, else FAIL; `fields` add or override."""
    body = {
        "status": "OK" if status == 200 else "FAIL",
        "ErrorCode": "0",
        "ErrorDesc": "",
        **fields,
    }
    return SystemResponse(status, json.dumps(body).encode(), "application/json")


def refused(action: Callable[[], object], error: type[TranslationError]) -> TranslationError:
    """The `error` that `action` raises, once checked to carry its code and no `SECRET`."""
    with pytest.raises(error) as caught:
        action()
    assert caught.value.code == error.code
    assert SECRET not in caught.value.detail
    assert SECRET not in json.dumps(caught.value.extensions, ensure_ascii=False)
    return caught.value


def assert_passed_on(adapter: Adapter, request: CanonicalRequest, path: str) -> None:
    """An edXML message goes to `path` byte for byte, labelled plain `application/xml`."""
    sent = adapter.to_system(request)

    assert (sent.method, sent.path, sent.body) == ("POST", path, request.body)
    assert sent.headers["Content-Type"] == "application/xml"


def assert_sdk_refusal(
    adapter: Adapter,
    request: CanonicalRequest,
    answer: tuple[int, dict[str, Any]],
    error: type[TranslationError],
    extensions: dict[str, Any],
) -> None:
    """The system's refusal (`status`, SDK `fields`) becomes `error`, its content kept out.

    Only the codec's own text (INVALID_EDXML) is ever repeated; it names elements, not values.
    """
    status, fields = answer
    desc = "MessageHeader has no Subject." if error is InvalidEdxml else f"about {SECRET}"
    response = sdk_answer(status, **{"ErrorDesc": desc, **fields})

    caught = refused(lambda: adapter.to_canonical(request, response), error)

    assert caught.status == error.status
    assert caught.extensions == extensions


def each_operation(
    table: list[tuple[list[str], SystemResponse]],
) -> list[tuple[str, SystemResponse]]:
    """(operation, answer) for each operation that a row of `table` names with its answer."""
    return [(operation, answer) for operations, answer in table for operation in operations]


def assert_bad_gateway(
    adapter: Adapter,
    request: CanonicalRequest,
    answer: SystemResponse,
    error: type[TranslationError],
) -> None:
    """An answer the adapter cannot read is `error`, a 502 that repeats none of its content."""
    caught = refused(lambda: adapter.to_canonical(request, answer), error)

    assert caught.status == 502


async def through(
    adapter: Adapter,
    contracts: Mapping[str, OperationContract],
    mock: httpx.AsyncClient,
    request: CanonicalRequest,
) -> Any:
    """One operation as the gateway runs it: translate, call the system, translate back."""
    sent: SystemRequest = adapter.to_system(request)
    response = await mock.request(sent.method, sent.path, content=sent.body, headers=sent.headers)
    result = adapter.to_canonical(
        request,
        SystemResponse(response.status_code, response.content, response.headers["content-type"]),
    )
    contracts[request.operation].response.model_validate(result.content)
    assert result.status == contracts[request.operation].status
    return result.content
