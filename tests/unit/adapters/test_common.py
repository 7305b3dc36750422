"""The skeleton the adapters share (`adapters/_common.py`): each adapter's words, pinned.

The skeleton is written once, so these tables pin what each adapter says through it: a change
to the shared code that alters one system's status, code or detail fails here.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from adapters import ADAPTERS, CONTRACTS
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.qlvb import QlvbAdapter
from adapters.vdxp import VdxpAdapter
from formats.edxml import InvalidEdxml, render_edxml, render_status
from tests.fixtures.documents import RECIPIENT, cross_province_document, response_for
from tests.unit.adapters.calls import SECRET, assert_passed_on, catalog_entry, refused

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
    ("name", "entry"),
    [
        ("qlvb", ("qlvb", "v1", "qlvb", "province", "qlvb")),
        ("vdxp", ("vdxp", "v1", "vdxp", "national", "vdxp")),
    ],
)
def test_the_catalog_file_names_exactly_the_adapters_operations(
    name: str, entry: tuple[str, ...]
) -> None:
    service = catalog_entry(name)

    assert (service.id, service.version, service.system, service.owner, service.adapter) == entry
    assert {operation.id for operation in service.operations} == set(CONTRACTS[service.adapter])
    assert ADAPTERS[service.adapter] is {"qlvb": QlvbAdapter, "vdxp": VdxpAdapter}[name]


# --- the edXML messages qlvb and vdxp pass on as they came (`sdk_call`, `require_xml`) -------

DOCUMENT = cross_province_document("15", subject=f"V/v trao đổi {SECRET}")
EDXML_DOCUMENT = render_edxml(DOCUMENT)
EDXML_STATUS = render_status(
    {
        "response_for": response_for(DOCUMENT),
        "from": {"organ_id": RECIPIENT, "organ_name": "Sở Tư pháp tỉnh Tiền Giang"},
        "status_code": "01",
        "description": SECRET,
        "timestamp": "2025-06-02T10:00:00",
    }
)
EDXML_OPERATIONS = [
    ("qlvb", "receive_document"),
    ("qlvb", "receive_status"),
    ("vdxp", "submit_document"),
    ("vdxp", "submit_status"),
]


def edxml_call(operation: str, body: bytes, content_type: str | None) -> CanonicalRequest:
    return CanonicalRequest(operation, {}, body=body, content_type=content_type)


@pytest.mark.parametrize(
    ("adapter", "operation", "path", "data"),
    [
        ("qlvb", "receive_document", "/receiveEdoc", EDXML_DOCUMENT),
        ("qlvb", "receive_status", "/receiveStatus", EDXML_STATUS),
        ("vdxp", "submit_document", "/sendEdoc", EDXML_DOCUMENT),
        ("vdxp", "submit_status", "/sendStatus", EDXML_STATUS),
    ],
)
@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
def test_an_edxml_message_is_passed_on_byte_for_byte(
    adapter: str, operation: str, path: str, data: bytes, content_type: str
) -> None:
    translator = ADAPTERS[adapter](today=lambda: TODAY)

    assert_passed_on(translator, edxml_call(operation, data, content_type), path)


@pytest.mark.parametrize(("adapter", "operation"), EDXML_OPERATIONS)
@pytest.mark.parametrize(
    "content_type", [None, "application/json", "text/plain", "multipart/form-data"]
)
def test_an_edxml_operation_refuses_another_media_type_in_the_same_words(
    adapter: str, operation: str, content_type: str | None
) -> None:
    body = json.dumps(DOCUMENT, ensure_ascii=False).encode()  # its subject holds SECRET
    with pytest.raises(TranslationError) as caught:
        ADAPTERS[adapter](today=lambda: TODAY).to_system(edxml_call(operation, body, content_type))

    assert problem(caught.value) == (
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "Send the edXML message (application/xml).",
        {"supported": ["application/xml", "text/xml"]},
    )


@pytest.mark.parametrize(
    ("adapter", "operation", "data", "rule"),
    [
        ("qlvb", "receive_document", EDXML_STATUS, "missing_field"),  # a status is no document
        ("qlvb", "receive_document", b"<edXML/>", "not_edxml"),
        ("qlvb", "receive_status", b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "dtd_forbidden"),
        ("qlvb", "receive_status", EDXML_DOCUMENT, "missing_field"),
        ("vdxp", "submit_document", EDXML_STATUS, "missing_field"),
        ("vdxp", "submit_document", b"<a><?php x ?></a>", "pi_forbidden"),
        ("vdxp", "submit_status", b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a/>',
         "dtd_forbidden"),
        ("vdxp", "submit_status", b"", "not_well_formed"),
    ],
)  # fmt: skip
def test_an_invalid_edxml_message_is_refused_before_any_call(
    adapter: str, operation: str, data: bytes, rule: str
) -> None:
    translator = ADAPTERS[adapter](today=lambda: TODAY)
    request = edxml_call(operation, data, "application/xml")

    error = refused(lambda: translator.to_system(request), InvalidEdxml)

    assert error.extensions == {"rule": rule}
