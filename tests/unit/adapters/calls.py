"""Requests and answers the adapter tests build, written once where two systems speak alike.

`dvc` and `dvcqg` take the same dossier calls; `qlvb` and `vdxp` answer in the same VDXP
SDK-style JSON and must keep the same content (`SECRET`) out of every refusal (the tests those
two share are test_sdk_adapters.py's).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from adapters import CONTRACTS
from adapters.base import (
    Adapter,
    CanonicalRequest,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
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


class NamedAdapter(Adapter, Protocol):
    """An adapter that says its name (`adapters.ADAPTERS`' key), as every adapter class does."""

    @property
    def adapter(self) -> str: ...


SdkRefusal = tuple[int, dict[str, Any], type[TranslationError], dict[str, Any]]
"""An SDK system's refusal (HTTP status, its JSON fields), the problem it becomes and that
problem's extensions: a row of the tables test_sdk_adapters.py checks."""


async def through(adapter: NamedAdapter, mock: httpx.AsyncClient, request: CanonicalRequest) -> Any:
    """One operation as the gateway runs it: translate, call the system, translate back, and
    check the answer against the adapter's published contract."""
    contracts = CONTRACTS[adapter.adapter]
    sent: SystemRequest = adapter.to_system(request)
    response = await mock.request(sent.method, sent.path, content=sent.body, headers=sent.headers)
    result = adapter.to_canonical(
        request,
        SystemResponse(response.status_code, response.content, response.headers["content-type"]),
    )
    contracts[request.operation].response.model_validate(result.content)
    assert result.status == contracts[request.operation].status
    return result.content
