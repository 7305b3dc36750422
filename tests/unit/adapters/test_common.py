"""The skeleton the adapters share (`adapters/_common.py`): each adapter's words, pinned.

The skeleton is written once, so these tables pin what each adapter says through it: a change
to the shared code that alters one system's status, code or detail fails here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from adapters import ADAPTERS
from adapters.base import CanonicalRequest, SystemResponse, TranslationError

TODAY = date(2026, 3, 2)
LONG_CODE = "X" * 40  # longer than any detail may repeat
FIRST_OPERATION = {
    "dancu": "get_citizen",
    "dvc": "get_dossier",
    "dvcqg": "get_dossier",
    "qlvb": "get_document",
    "vdxp": "get_trail",
}
NGSP = {"dancu": "data", "dvc": "data", "dvcqg": "result"}


def translate(adapter: str, status: int, body: bytes) -> TranslationError:
    request = CanonicalRequest(FIRST_OPERATION[adapter], {})
    with pytest.raises(TranslationError) as caught:
        ADAPTERS[adapter](today=lambda: TODAY).to_canonical(request, SystemResponse(status, body))
    return caught.value


def problem(error: TranslationError) -> tuple[str, int, str, dict[str, Any]]:
    return error.code, error.status, error.detail, error.extensions


@pytest.mark.parametrize(
    ("adapter", "code", "detail"),
    [
        ("dancu", "UPSTREAM_INVALID_RESPONSE", "The citizen database answered HTTP 200 without "
         "the JSON envelope {error_code, message, data}."),
        ("dvc", "DVC_INVALID_RESPONSE", "The DVC system answered HTTP 200 without the JSON "
         "envelope {error_code, message, data}."),
        ("dvcqg", "DVCQG_INVALID_RESPONSE", "The national portal answered HTTP 200 without the "
         "JSON envelope {error_code, message, result}."),
        ("qlvb", "QLVB_INVALID_RESPONSE", "The document system answered HTTP 200 without its "
         "JSON answer {status, ErrorCode, ErrorDesc}."),
        ("vdxp", "VDXP_INVALID_RESPONSE", "The national axis answered HTTP 200 without its JSON "
         "answer {status, ErrorCode, ErrorDesc}."),
    ],
)  # fmt: skip
@pytest.mark.parametrize("body", [b"[]", b"\xff", b"[" * 100_000])
def test_an_answer_that_is_no_json_object_is_a_bad_gateway_naming_the_system(
    adapter: str, code: str, detail: str, body: bytes
) -> None:
    assert problem(translate(adapter, 200, body)) == (code, 502, detail, {})


@pytest.mark.parametrize(
    ("adapter", "detail"),
    [
        ("dancu", "The citizen database answered HTTP 418 with error_code 'XXXXXXXXXXXXXXXX', "
         "which this adapter does not expect."),
        ("dvc", "The DVC system answered HTTP 418 with error_code 'XXXXXXXXXXXXXXXX', which "
         "this adapter does not expect for this operation."),
        ("dvcqg", "The national portal answered HTTP 418 with error_code 'XXXXXXXXXXXXXXXX', "
         "which this adapter does not expect for this operation."),
        ("qlvb", "The document system answered HTTP 418 with ErrorCode "
         f"'{'X' * 32}', which this adapter does not expect."),
        ("vdxp", "The national axis answered HTTP 418 with ErrorCode "
         f"'{'X' * 32}', which this adapter does not expect."),
    ],
)  # fmt: skip
def test_an_unexpected_code_is_a_bad_gateway_repeating_a_bounded_part_of_it(
    adapter: str, detail: str
) -> None:
    body = f'{{"error_code": "{LONG_CODE}", "status": "FAIL", "ErrorCode": "{LONG_CODE}"}}'

    assert translate(adapter, 418, body.encode()).detail == detail


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_an_unknown_operation_is_501_naming_the_adapter(adapter: str) -> None:
    with pytest.raises(TranslationError) as caught:
        ADAPTERS[adapter](today=lambda: TODAY).to_system(CanonicalRequest("delete_all", {}))

    assert problem(caught.value) == (
        "OPERATION_NOT_SUPPORTED",
        501,
        f"The {adapter} adapter has no operation 'delete_all'.",
        {},
    )


@pytest.mark.parametrize(
    ("adapter", "system"), [("qlvb", "document system"), ("vdxp", "national axis")]
)
@pytest.mark.parametrize(
    ("status", "answer", "expected"),
    [
        (413, {"ErrorCode": "TOO_LARGE"}, ("INVALID_EDXML", 422,
         "The {system} refused the message as too large.", {"rule": "too_large"})),
        (422, {"ErrorCode": "INVALID_EDXML", "ErrorDesc": "D" * 400, "Rule": "Not A Rule"},
         ("INVALID_EDXML", 422, "The {system} refused the message: " + "D" * 300,
          {"rule": "refused"})),
        (422, {"ErrorCode": "INVALID_EDXML", "ErrorDesc": "No To", "Rule": "missing_field"},
         ("INVALID_EDXML", 422, "The {system} refused the message: No To",
          {"rule": "missing_field"})),
        (422, {"ErrorCode": "IDEMPOTENCY_KEY_REUSED"}, ("IDEMPOTENCY_KEY_REUSED", 422,
         "The Idempotency-Key was used before for another message.", {})),
        (400, {"ErrorCode": "INVALID_IDEMPOTENCY_KEY"}, ("INVALID_IDEMPOTENCY_KEY", 400,
         "The Idempotency-Key must be 1 to 200 visible ASCII characters.", {})),
    ],
)  # fmt: skip
def test_both_document_endpoints_refuse_edxml_and_keys_in_the_same_words(
    adapter: str, system: str, status: int, answer: dict[str, str], expected: tuple[Any, ...]
) -> None:
    code, http, detail, extensions = expected
    body = {"status": "FAIL", **answer}
    error = translate(adapter, status, json.dumps(body).encode())

    assert problem(error) == (code, http, detail.format(system=system), extensions)


@pytest.mark.parametrize(
    ("adapter", "operation"), [("qlvb", "receive_document"), ("vdxp", "submit_document")]
)
@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_an_edxml_operation_refuses_another_media_type_in_the_same_words(
    adapter: str, operation: str, content_type: str | None
) -> None:
    request = CanonicalRequest(operation, {}, body=b"<a/>", content_type=content_type)
    with pytest.raises(TranslationError) as caught:
        ADAPTERS[adapter](today=lambda: TODAY).to_system(request)

    assert problem(caught.value) == (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "Send the edXML message (application/xml).",
        {"supported": ["application/xml", "text/xml"]},
    )
