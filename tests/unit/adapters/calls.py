"""Requests and answers the adapter tests build, written once where two systems speak alike.

`dvc` and `dvcqg` take the same dossier calls; `qlvb` and `vdxp` answer in the same VDXP
SDK-style JSON and must keep the same content (`SECRET`) out of every refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from adapters.base import CanonicalRequest, SystemResponse, TranslationError

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
