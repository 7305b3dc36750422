"""The qlvb adapter: canonical JSON ⇄ VDXP calls with edXML, and every refusal's mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters import UnsupportedMediaType
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.qlvb import (
    CONTRACTS,
    AxisNotConnected,
    DocumentNotFound,
    IllegalStatusTransition,
    InvalidDocumentQuery,
    InvalidInboxQuery,
    InvalidStatusRequest,
    NoRecipientInProvince,
    NotAParty,
    NotARecipientOfDocument,
    QlvbAdapter,
    QlvbAnswerInvalid,
    RecipientInOtherProvince,
    ReporterInThisProvince,
    SenderInThisProvince,
    UnknownRecipient,
    UnknownReporter,
    UnknownSender,
    document_id_from_key,
    document_key,
)
from formats.edxml import (
    InvalidEdxml,
    parse_edxml,
    parse_status,
    render_edxml,
    render_status,
    validate_document,
)
from lgsp.catalog.loader import match_operation
from mocks.config import SystemConfig
from mocks.qlvb.app import create_app
from tests.fixtures.apps import serving
from tests.fixtures.documents import NOW, cross_province_document, response_for
from tests.fixtures.handovers import with_bus_access
from tests.unit.adapters.calls import SECRET, SdkRefusal, catalog_entry, refused, through
from tests.unit.adapters.calls import sdk_answer as answer

pytestmark = pytest.mark.anyio

STP, STC, SXD = "000.00.01.H33", "000.00.03.H33", "000.00.02.H33"


def make_document(**changes: Any) -> dict[str, Any]:
    """To the finance department of the sender's own province."""
    return {
        **cross_province_document("15", subject=f"V/v trao đổi {SECRET}"),
        "to": [{"organ_id": STC, "organ_name": "Sở Tài chính tỉnh Kiên Giang"}],
        **changes,
    }


DOCUMENT_ID = "000.00.01.H33,2025/06/02,15/STP-VP"
KEY = document_key(DOCUMENT_ID)


@pytest.fixture(name="adapter")
def fx_adapter() -> QlvbAdapter:
    return QlvbAdapter(today=lambda: date(2025, 6, 2), now=lambda: NOW)


def call(
    operation: str,
    body: Any = b"",
    content_type: str | None = "application/json",
    query: tuple[tuple[str, str], ...] = (),
    **path: str,
) -> CanonicalRequest:
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False).encode()
    return CanonicalRequest(operation, path, query, body, content_type)


# --- ids --------------------------------------------------------------------------------------


def test_a_document_id_is_the_edxml_document_id_in_url_safe_base64() -> None:
    assert KEY == "MDAwLjAwLjAxLkgzMywyMDI1LzA2LzAyLDE1L1NUUC1WUA"
    assert document_id_from_key(KEY) == DOCUMENT_ID


@given(
    number=st.integers(min_value=0, max_value=10**9),
    notation=st.text(
        st.sampled_from("ABCĐƠƯ-/.()_ abcdđơư0123456789"), min_size=1, max_size=40
    ).filter(lambda text: text.strip() == text),
)
def test_every_document_id_survives_its_key(number: int, notation: str) -> None:
    document_id = f"000.00.01.H33,2025/06/02,{number}/{notation}"

    key = document_key(document_id)

    assert "/" not in key
    assert "=" not in key
    assert document_id_from_key(key) == document_id


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not base64!",
        KEY + "=",  # padded: another spelling of the same id
        KEY[:-1],  # truncated
        document_key("just some text"),
        document_key("a,b,c,d"),
        "A" * 401,
        "_-_-",
    ],
)
def test_a_key_that_names_no_document_id_is_not_found_without_a_call(key: str) -> None:
    adapter = QlvbAdapter(today=date.today)

    refused(lambda: adapter.to_system(call("get_document", id=key)), DocumentNotFound)
    refused(
        lambda: adapter.to_system(call("post_status", {"organ_id": STC}, id=key)),
        DocumentNotFound,
    )


# --- send_document ----------------------------------------------------------------------------


def test_canonical_json_is_sent_as_its_edxml(adapter: QlvbAdapter) -> None:
    document = make_document()

    sent = adapter.to_system(call("send_document", document))

    assert (sent.method, sent.path) == ("POST", "/sendEdoc")
    assert sent.headers["Content-Type"] == "application/xml"
    assert sent.body == render_edxml(document)
    assert parse_edxml(sent.body) == validate_document(document)


@pytest.mark.parametrize("content_type", ["application/xml", "text/xml; charset=utf-8"])
def test_edxml_is_passed_on_byte_for_byte(adapter: QlvbAdapter, content_type: str) -> None:
    data = render_edxml(make_document()).replace(b"<edXML:Subject>", b"<edXML:Subject>  ")

    sent = adapter.to_system(call("send_document", data, content_type))

    assert sent.body == data


@pytest.mark.parametrize("content_type", [None, "text/plain", "multipart/form-data", "json"])
def test_a_document_of_another_media_type_is_refused(
    adapter: QlvbAdapter, content_type: str | None
) -> None:
    error = refused(
        lambda: adapter.to_system(call("send_document", make_document(), content_type)),
        UnsupportedMediaType,
    )

    assert error.extensions["supported"] == ["application/json", "application/xml", "text/xml"]


@pytest.mark.parametrize(
    ("body", "content_type", "rule"),
    [
        (b"{not json", "application/json", "not_json"),
        (b"\xff\xfe", "application/json", "not_json"),
        (make_document(subject=None), "application/json", "missing_field"),
        (make_document(to=[{"organ_id": "H33", "organ_name": "x"}]), "application/json",
         "bad_organ_id"),
        (make_document(secret=SECRET), "application/json", "unknown_field"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "application/xml", "dtd_forbidden"),
        (b"<edXML/>", "text/xml", "not_edxml"),
    ],
)  # fmt: skip
def test_an_invalid_document_is_refused_before_any_call(
    adapter: QlvbAdapter, body: Any, content_type: str, rule: str
) -> None:
    error = refused(
        lambda: adapter.to_system(call("send_document", body, content_type)), InvalidEdxml
    )

    assert error.extensions["rule"] == rule
    assert set(error.extensions) <= {"rule", "errors"}  # `errors`: every missing field


def test_the_sent_answer_becomes_202_with_the_documents_id(adapter: QlvbAdapter) -> None:
    response = answer(
        DocId="7b1d…",
        DocumentId=DOCUMENT_ID,
        Duplicate=False,
        Recipients=[{"OrganId": STC, "StatusCode": None}],
    )

    result = adapter.to_canonical(call("send_document"), response)

    assert result.status == 202
    assert result.content == {
        "id": KEY,
        "document_id": DOCUMENT_ID,
        "recipients": [{"organ_id": STC, "status": None}],
        "duplicate": False,
        "warnings": [],
    }


# --- get_inbox --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "page", "size"),
    [((), 1, 20), ((("page", "3"), ("size", "100")), 3, 100), ((("size", "1"),), 1, 1)],
)
def test_the_inbox_query_becomes_a_received_list_request(
    adapter: QlvbAdapter, query: tuple[tuple[str, str], ...], page: int, size: int
) -> None:
    sent = adapter.to_system(call("get_inbox", query=(("organ_id", STC), *query)))

    assert (sent.method, sent.path) == ("POST", "/getReceivedEdocList")
    assert json.loads(sent.body) == {
        "organId": STC,
        "messagetype": "edoc",
        "page": page,
        "size": size,
    }


@pytest.mark.parametrize(
    "query",
    [
        (),
        (("organ_id", "H33"),),
        (("organ_id", STC), ("size", "101")),
        (("organ_id", STC), ("size", "0")),
        (("organ_id", STC), ("page", "0")),
        (("organ_id", STC), ("page", "two")),
        (("_", "1"),),  # an ignored parameter is no organ_id
    ],
)
def test_an_invalid_inbox_query_is_refused_with_its_errors(
    adapter: QlvbAdapter, query: tuple[tuple[str, str], ...]
) -> None:
    error = refused(lambda: adapter.to_system(call("get_inbox", query=query)), InvalidInboxQuery)

    assert error.extensions["errors"]
    assert all(e["loc"][0] == "query" for e in error.extensions["errors"])


def test_an_inbox_parameter_the_operation_does_not_take_is_ignored(adapter: QlvbAdapter) -> None:
    """As every REST service of the bus does (a cache-busting `_=` from a browser included)."""
    query = (("organ_id", STC), ("_", "1733562000000"), ("status", "01"))

    sent = adapter.to_system(call("get_inbox", query=query))

    assert json.loads(sent.body) == {"organId": STC, "messagetype": "edoc", "page": 1, "size": 20}


def inbox_knobstick(**changes: object) -> dict[str, object]:
    """A document in the system's inbox, as its knobstick lists it; `to` the organ id it was
    addressed to (a closed body's, in its successor's inbox)."""
    organisation = dict.fromkeys(
        ["OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone",
         "Fax", "Website"], None)  # fmt: skip
    return {
        "id": "uuid",
        "documentId": DOCUMENT_ID,
        "to": STC,
        "subject": "V/v trao đổi",
        "fromOrganization": {**organisation, "OrganId": STP, "OrganName": "Sở Tư pháp"},
        "createdTime": "2025-06-02T09:30:00+07:00",
        "statusCode": "03",
        **changes,
    }


def test_inbox_items_are_translated_to_canonical_keys(adapter: QlvbAdapter) -> None:
    response = answer(total=41, page=2, size=20, data=[inbox_knobstick()])

    result = adapter.to_canonical(call("get_inbox"), response)

    assert result.status == 200
    assert result.content["items"] == [
        {
            "id": KEY,
            "document_id": DOCUMENT_ID,
            "organ_id": STC,  # the recipient it was addressed to
            "from": {
                "organ_id": STP,
                "organization_in_charge": None,
                "organ_name": "Sở Tư pháp",
                "organ_add": None,
                "email": None,
                "telephone": None,
                "fax": None,
                "website": None,
            },
            "subject": "V/v trao đổi",
            "received_at": "2025-06-02T09:30:00+07:00",
            "status": "03",
            "signature": None,  # the system kept no check of it
        }
    ]
    assert (result.content["page"], result.content["size"], result.content["total"]) == (2, 20, 41)


@pytest.mark.parametrize("to", [pytest.param(None, id="missing"), pytest.param(7, id="no-text")])
def test_an_inbox_item_that_names_no_addressee_is_no_answer(
    adapter: QlvbAdapter, to: object
) -> None:
    """Its `to` is the recipient it was addressed to, which the canonical item must say (a
    successor's inbox lists its predecessors' documents under their codes)."""
    stick = {key: value for key, value in inbox_knobstick(to=to).items() if value is not None}
    response = answer(total=1, page=1, size=20, data=[stick])

    with pytest.raises(QlvbAnswerInvalid):
        adapter.to_canonical(call("get_inbox"), response)


# --- get_document -----------------------------------------------------------------------------


def test_a_document_is_fetched_by_its_document_id_with_its_trace(adapter: QlvbAdapter) -> None:
    sent = adapter.to_system(call("get_document", id=KEY))

    assert (sent.method, sent.path) == ("POST", "/getEdoc")
    assert json.loads(sent.body) == {"documentId": DOCUMENT_ID, "format": "json"}


@pytest.mark.parametrize(
    ("query", "reader"), [((), {}), ((("organ_id", SXD),), {"readerOrganId": SXD})]
)
def test_a_status_message_is_fetched_by_its_place_and_its_reader(
    adapter: QlvbAdapter, query: tuple[tuple[str, str], ...], reader: dict[str, str]
) -> None:
    """The agency reading (a bound client's own, which the bus adds) goes to the system, which
    answers only the message's reporter and addressee."""
    sent = adapter.to_system(call("get_status", query=query, id=KEY, organ_id=STC, n="2"))

    assert (sent.method, sent.path) == ("POST", "/getStatus")
    assert json.loads(sent.body) == {
        "documentId": DOCUMENT_ID, "organId": STC, "position": 2, "format": "json", **reader,
    }  # fmt: skip


@pytest.mark.parametrize("operation", ["get_document", "get_status"])
def test_a_reader_that_is_no_organ_id_is_refused_before_any_call(
    adapter: QlvbAdapter, operation: str
) -> None:
    request = call(operation, query=(("organ_id", "H33"),), id=KEY, organ_id=STC, n="1")

    error = refused(lambda: adapter.to_system(request), InvalidDocumentQuery)

    assert [e["loc"] for e in error.extensions["errors"]] == [["query", "organ_id"]]


def test_the_fetched_document_is_canonical_with_each_recipients_history(
    adapter: QlvbAdapter,
) -> None:
    document = make_document()
    entry = {
        "StatusCode": "01",
        "Description": "Đã đến",
        "Timestamp": "2025-06-02T10:00:00",
        "StaffInfo": {"Department": "Văn thư", "Staff": "Tú", "Mobile": None, "Email": None},
        "ReportedBy": STC,
        "ReceivedTime": "2025-06-02T10:00:01+07:00",
    }
    response = answer(
        DocId="uuid",
        DocumentId=DOCUMENT_ID,
        edxml=render_edxml(document).decode(),
        trace=[
            {"OrganId": STC, "StatusCode": "01", "History": [entry]},
            {"OrganId": SXD, "StatusCode": None, "History": []},
        ],
    )

    result = adapter.to_canonical(call("get_document", id=KEY), response)

    assert result.content == {
        "id": KEY,
        "document": validate_document(document),
        "recipients": [
            {
                "organ_id": STC,
                "status": "01",
                "history": [
                    {
                        "status_code": "01",
                        "status_name": "ARRIVED",
                        "description": "Đã đến",
                        "timestamp": "2025-06-02T10:00:00",
                        "staff_info": {
                            "department": "Văn thư",
                            "staff": "Tú",
                            "mobile": None,
                            "email": None,
                        },
                    }
                ],
            },
            {"organ_id": SXD, "status": None, "history": []},
        ],
    }


@pytest.mark.parametrize(
    ("transport", "shown"),
    [
        ({"State": "undeliverable", "Reason": "HTTP 422"}, {"state": "undeliverable",
                                                           "reason": "HTTP 422"}),
        ({"State": "in_transit", "Reason": None}, {"state": "in_transit", "reason": None}),
        ({"State": "lost", "Reason": None}, QlvbAnswerInvalid),
        ({"State": "delivered", "Reason": 7}, QlvbAnswerInvalid),
        ("delivered", QlvbAnswerInvalid),
    ],
)  # fmt: skip
def test_a_deliverys_transport_is_shown_as_its_delivery_state(
    adapter: QlvbAdapter, transport: object, shown: object
) -> None:
    document = make_document()
    response = answer(
        DocId="uuid",
        DocumentId=DOCUMENT_ID,
        edxml=render_edxml(document).decode(),
        trace=[{"OrganId": STC, "StatusCode": None, "Transport": transport, "History": []}],
    )

    if shown is QlvbAnswerInvalid:
        with pytest.raises(QlvbAnswerInvalid):
            adapter.to_canonical(call("get_document", id=KEY), response)
        return
    result = adapter.to_canonical(call("get_document", id=KEY), response)
    assert result.content["recipients"][0]["delivery"] == shown


# --- list_organisations -----------------------------------------------------------------------


def test_the_agency_list_is_the_sdks_call_read_as_directory_entries(adapter: QlvbAdapter) -> None:
    asked = adapter.to_system(call("list_organisations"))
    listed = adapter.to_canonical(
        call("list_organisations"),
        answer(data=[{"id": STC, "code": STC, "name": "Sở Tài chính", "mail": "",
                      "pid": "000.00.00.H33", "province": "91", "inProvince": True}]),
    )  # fmt: skip

    assert (asked.method, asked.path) == ("POST", "/getAgenciesList")
    assert listed.content == {"items": [{
        "organ_id": STC, "organ_name": "Sở Tài chính", "parent_id": "000.00.00.H33",
        "email": None, "province_code": "91", "in_province": True}]}  # fmt: skip


def test_an_agency_list_without_the_mocks_additions_is_read_as_a_real_system_sends_it(
    adapter: QlvbAdapter,
) -> None:
    """A real document system's getAgenciesList has no `province` or `inProvince`."""
    listed = adapter.to_canonical(
        call("list_organisations"),
        answer(data=[{"id": STC, "code": STC, "name": "Sở Tài chính", "mail": "stc@x.vn",
                      "pid": "000.00.00.H33"}]),
    )  # fmt: skip

    assert listed.content == {"items": [{
        "organ_id": STC, "organ_name": "Sở Tài chính", "parent_id": "000.00.00.H33",
        "email": "stc@x.vn", "province_code": None, "in_province": None}]}  # fmt: skip
    CONTRACTS["list_organisations"].response.model_validate(listed.content)


@pytest.mark.parametrize("entry", [{"name": "Sở Tài chính", "province": "91"},
                                   {"code": STC, "name": 7, "province": "91"}])  # fmt: skip
def test_an_agency_without_its_code_or_name_is_the_systems_fault(
    adapter: QlvbAdapter, entry: dict[str, Any]
) -> None:
    with pytest.raises(QlvbAnswerInvalid):
        adapter.to_canonical(call("list_organisations"), answer(data=[entry]))


# --- post_status ------------------------------------------------------------------------------


def test_a_json_status_becomes_a_status_message_about_the_document_in_the_path(
    adapter: QlvbAdapter,
) -> None:
    body = {
        "organ_id": STC,
        "status_code": "03",
        "description": "Đã tiếp nhận",
        "staff_info": {"department": "Văn thư", "staff": "Tú"},
    }

    sent = adapter.to_system(call("post_status", body, id=KEY))

    assert (sent.method, sent.path) == ("POST", "/updateStatus")
    assert sent.headers["Content-Type"] == "application/xml"
    assert parse_status(sent.body) == {
        "response_for": {
            "organ_id": STP,
            "code": "15/STP-VP",
            "promulgation_date": "2025-06-02",
            "document_id": DOCUMENT_ID,
        },
        "from": {**dict.fromkeys(validate_document(make_document())["from"]), "organ_id": STC,
                 "organ_name": STC},
        "status_code": "03",
        "description": "Đã tiếp nhận",
        "timestamp": "2025-06-02T09:30:00",
        "staff_info": {"department": "Văn thư", "staff": "Tú", "mobile": None, "email": None},
        "trace_headers": [],
    }  # fmt: skip


def test_a_status_keeps_its_own_timestamp_and_organisation_name(adapter: QlvbAdapter) -> None:
    body = {
        "organ_id": STC,
        "status_code": "01",
        "organ_name": "Sở Tài chính",
        "timestamp": "2025-06-01T23:59:59",
    }

    status = parse_status(adapter.to_system(call("post_status", body, id=KEY)).body)

    assert (status["timestamp"], status["from"]["organ_name"]) == (
        "2025-06-01T23:59:59",
        "Sở Tài chính",
    )


def test_the_default_timestamp_is_vietnam_time_whatever_the_clocks_zone() -> None:
    utc_evening = datetime(2025, 6, 2, 20, 0, tzinfo=UTC)
    adapter = QlvbAdapter(today=date.today, now=lambda: utc_evening)

    sent = adapter.to_system(call("post_status", {"organ_id": STC, "status_code": "01"}, id=KEY))

    assert parse_status(sent.body)["timestamp"] == "2025-06-03T03:00:00"


def status_message(document_id: str = DOCUMENT_ID) -> bytes:
    """Sở Tài chính's 01 about the document, named by `document_id` (the document's own unless
    told)."""
    return render_status(
        {
            "response_for": {**response_for(make_document()), "document_id": document_id},
            "from": {"organ_id": STC, "organ_name": "Sở Tài chính"},
            "status_code": "01",
            "timestamp": "2025-06-02T10:00:00",
        }
    )


def test_an_edxml_status_message_is_passed_on(adapter: QlvbAdapter) -> None:
    data = status_message()

    sent = adapter.to_system(call("post_status", data, "application/xml", id=KEY))

    assert sent.body == data


def test_an_edxml_status_about_another_document_is_refused(adapter: QlvbAdapter) -> None:
    data = status_message("000.00.01.H33,2025/06/02,16/STP-VP")

    error = refused(
        lambda: adapter.to_system(call("post_status", data, "text/xml", id=KEY)),
        InvalidStatusRequest,
    )

    assert error.extensions["errors"][0]["type"] == "mismatch"


@pytest.mark.parametrize(
    "body",
    [
        {"status_code": "01"},
        {"organ_id": STC},
        {"organ_id": STC, "status_code": "07"},
        {"organ_id": STC, "status_code": 1},
        {"organ_id": "H33", "status_code": "01"},
        {"organ_id": STC, "status_code": "01", "secret": SECRET},
        {"organ_id": STC, "status_code": "01", "description": "x" * 2001},
        {"organ_id": STC, "status_code": "01", "timestamp": "02/06/2025 10:00"},
        {"organ_id": STC, "status_code": "01", "staff_info": {"staff": SECRET, "x": 1}},
        [SECRET],
    ],
)
def test_an_invalid_status_report_is_refused_with_errors_and_no_values(
    adapter: QlvbAdapter, body: Any
) -> None:
    error = refused(
        lambda: adapter.to_system(call("post_status", body, id=KEY)), InvalidStatusRequest
    )

    assert error.extensions["errors"]
    assert all(set(e) == {"loc", "msg", "type"} for e in error.extensions["errors"])


def test_a_status_that_is_not_json_is_refused(adapter: QlvbAdapter) -> None:
    refused(lambda: adapter.to_system(call("post_status", b"{", id=KEY)), InvalidStatusRequest)


@pytest.mark.parametrize("content_type", ["text/plain", None])
def test_a_status_of_another_media_type_is_refused(
    adapter: QlvbAdapter, content_type: str | None
) -> None:
    refused(
        lambda: adapter.to_system(call("post_status", b"{}", content_type, id=KEY)),
        UnsupportedMediaType,
    )


def test_the_recorded_status_answer_lists_each_recipients_status(adapter: QlvbAdapter) -> None:
    response = answer(
        DocId="uuid",
        DocumentId=DOCUMENT_ID,
        Recipients=[{"OrganId": STC, "StatusCode": "01"}],
    )

    result = adapter.to_canonical(call("post_status", id=KEY), response)

    assert (result.status, result.content) == (
        200,
        {
            "id": KEY,
            "document_id": DOCUMENT_ID,
            "recipients": [{"organ_id": STC, "status": "01"}],
            "warnings": [],
        },
    )


# --- receive_document, receive_status: from other provinces --------------------------------


@pytest.mark.parametrize(
    ("operation", "status", "duplicate"),
    [("receive_document", 202, True), ("receive_status", 200, False)],
)
def test_an_inbound_answer_says_whether_it_was_a_duplicate(
    adapter: QlvbAdapter, operation: str, status: int, duplicate: bool
) -> None:
    response = answer(
        DocId="uuid",
        DocumentId=DOCUMENT_ID,
        Duplicate=duplicate,
        Recipients=[{"OrganId": STC, "StatusCode": "01"}],
    )

    result = adapter.to_canonical(call(operation), response)

    assert (result.status, result.content) == (
        status,
        {
            "id": KEY,
            "document_id": DOCUMENT_ID,
            "recipients": [{"organ_id": STC, "status": "01"}],
            "duplicate": duplicate,
            "warnings": [],
        },
    )
    CONTRACTS[operation].response.model_validate(result.content)


# --- refusals and unreadable answers ----------------------------------------------------------

OPERATIONS = [
    "send_document",
    "get_inbox",
    "get_document",
    "post_status",
    "receive_document",
    "receive_status",
]


# This system's own refusals; test_sdk_adapters.py checks each, and those both SDK systems make.
REFUSALS: list[SdkRefusal] = [
    (422, {"ErrorCode": "UNKNOWN_ORGAN", "OrganIds": ["000.00.99.H33"]}, UnknownRecipient,
     {"organ_ids": ["000.00.99.H33"]}),
    (422, {"ErrorCode": "UNKNOWN_SENDER", "OrganIds": [STP]}, UnknownSender,
     {"organ_ids": [STP]}),
    (422, {"ErrorCode": "OTHER_PROVINCE", "OrganIds": ["000.00.01.H58", SECRET]},
     RecipientInOtherProvince, {"organ_ids": ["000.00.01.H58"]}),
    (409, {"ErrorCode": "ILLEGAL_STATUS", "CurrentStatus": "01",
           "AllowedStatusCodes": ["02", "03"]}, IllegalStatusTransition,
     {"current_status": "01", "allowed_status_codes": ["02", "03"]}),
    (409, {"ErrorCode": "ILLEGAL_STATUS", "CurrentStatus": None, "AllowedStatusCodes": []},
     IllegalStatusTransition, {"current_status": None, "allowed_status_codes": []}),
    (422, {"ErrorCode": "LOCAL_SENDER", "OrganIds": ["000.00.01.H58"]},
     SenderInThisProvince, {"organ_ids": ["000.00.01.H58"]}),
    (422, {"ErrorCode": "NO_RECIPIENT_HERE", "OrganIds": [STC]}, NoRecipientInProvince,
     {"organ_ids": [STC]}),
    (422, {"ErrorCode": "LOCAL_REPORTER", "OrganIds": [STC]}, ReporterInThisProvince,
     {"organ_ids": [STC]}),
    (422, {"ErrorCode": "NOT_A_RECIPIENT_OF_DOCUMENT", "OrganIds": [SXD, SECRET]},
     NotARecipientOfDocument, {"organ_ids": [SXD]}),
    (503, {"ErrorCode": "NOT_CONNECTED"}, AxisNotConnected, {}),
]  # fmt: skip


def test_the_illegal_transition_detail_names_the_status_and_the_allowed_codes(
    adapter: QlvbAdapter,
) -> None:
    response = answer(409, ErrorCode="ILLEGAL_STATUS", CurrentStatus="03",
                      AllowedStatusCodes=["04", "05"])  # fmt: skip

    error = refused(lambda: adapter.to_canonical(call("post_status", id=KEY), response),
                    IllegalStatusTransition)  # fmt: skip

    assert (
        error.detail
        == "The delivery is in status 03 (ACCEPTED); this organisation may report 04, 05."
    )


@pytest.mark.parametrize(
    ("current", "way_out"),
    [
        ("02", "send a corrected document as a new one"),
        ("06", "send a document that replaces it (edXML ReplacementInfoList)"),
        ("13", "until the recipient answers the recall with 15 or 16"),
        ("15", "the status is final"),
    ],
)
def test_when_nothing_may_follow_the_detail_says_what_the_sender_can_do(
    adapter: QlvbAdapter, current: str, way_out: str
) -> None:
    response = answer(409, ErrorCode="ILLEGAL_STATUS", CurrentStatus=current,
                      AllowedStatusCodes=[])  # fmt: skip

    error = refused(lambda: adapter.to_canonical(call("post_status", id=KEY), response),
                    IllegalStatusTransition)  # fmt: skip

    assert error.detail.startswith(f"The delivery is in status {current} (")
    assert error.detail.endswith(f"{way_out}.")


# An inbound status names its reporter, not a recipient, when no agency has the organ id.
PER_OPERATION: dict[tuple[str, type[TranslationError]], type[TranslationError]] = {
    ("receive_status", UnknownRecipient): UnknownReporter
}


@pytest.mark.parametrize(
    ("operation", "fields", "hint"),
    [
        ("send_document", {"ErrorCode": "OTHER_PROVINCE"}, "no access to the bus"),
        ("get_inbox", {"ErrorCode": "OTHER_PROVINCE"}, "inbox is its own province's"),
        ("post_status", {"ErrorCode": "OTHER_PROVINCE"}, "arrive over NDXP's document axis"),
        ("send_document", {"ErrorCode": "UNKNOWN_SENDER"}, "must be an agency of this province"),
        ("receive_document", {"ErrorCode": "UNKNOWN_SENDER"}, "No agency of a province"),
    ],
)
def test_a_refusal_says_why_in_the_terms_of_the_operation(
    adapter: QlvbAdapter, operation: str, fields: dict[str, Any], hint: str
) -> None:
    response = answer(422, ErrorDesc=f"about {SECRET}", OrganIds=["000.00.01.H58"], **fields)

    with pytest.raises(TranslationError) as caught:
        adapter.to_canonical(call(operation, id=KEY), response)

    assert hint in caught.value.detail
    assert caught.value.extensions == {"organ_ids": ["000.00.01.H58"]}


# Answers of this system's the adapter cannot read (test_sdk_adapters.py), besides any system's.
ANY = OPERATIONS
UNREADABLE: list[tuple[list[str], SystemResponse]] = [
    (ANY, answer(409, ErrorCode="ILLEGAL_STATUS", CurrentStatus="99", AllowedStatusCodes=[])),
    (ANY, answer(409, ErrorCode="ILLEGAL_STATUS", CurrentStatus="01")),
    (ANY, answer(409, ErrorCode="ILLEGAL_STATUS", CurrentStatus=1, AllowedStatusCodes=[])),
    (["send_document", "post_status", "receive_document", "receive_status"],
     answer(DocumentId=DOCUMENT_ID, Recipients=[{"OrganId": STC, "StatusCode": "9"}],
            Duplicate=False)),
    (["send_document", "receive_document", "receive_status"],
     answer(DocumentId=DOCUMENT_ID, Recipients=[])),
    (["send_document", "post_status", "receive_document", "receive_status"],
     answer(DocumentId=7, Recipients=[], Duplicate=True)),
    (["get_inbox"], answer(data=[], page=1, size=20)),
    (["get_inbox"], answer(data=[{"documentId": DOCUMENT_ID}], page=1, size=20, total=1)),
    (["get_inbox"], answer(data={}, page=1, size=20, total=1)),
    (["get_document"], answer(DocumentId=DOCUMENT_ID, trace=[], edxml=None)),
    (["get_document"], answer(DocumentId=DOCUMENT_ID, trace=[], edxml="<edXML/>")),
    (["get_document"], answer(DocumentId=None, trace=[],
                              edxml=render_edxml(make_document()).decode())),
    (["get_document"], answer(DocumentId=DOCUMENT_ID,
                              trace=[{"OrganId": STC, "History": [{"StatusCode": "01"}]}],
                              edxml=render_edxml(make_document()).decode())),
    (["get_document"], answer(DocumentId=DOCUMENT_ID,
                              trace=[{"OrganId": STC, "StatusCode": "01",
                                      "History": [{"StatusCode": "01", "Timestamp": "t",
                                                   "StaffInfo": "Tú"}]}],
                              edxml=render_edxml(make_document()).decode())),
]  # fmt: skip


# --- the catalog entry and the published contract ---------------------------------------------


def test_inbox_is_a_path_of_its_own_not_a_document_id() -> None:
    service = catalog_entry("qlvb")

    matched, _ = match_operation(service, "GET", "/documents/inbox")

    assert matched is not None
    assert matched.operation.id == "get_inbox"


# --- both sides together: the adapter against the real mock, no gateway -----------------------


@pytest.fixture(name="mock")
async def fx_mock(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = SystemConfig(
        instance="kiengiang",
        province_code="91",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}",
    )
    app = create_app(config, now=lambda: NOW)
    async with serving(app, "http://qlvb.test") as client:
        yield client


async def test_the_inbox_of_status_messages_lists_each_with_its_place(
    adapter: QlvbAdapter, mock: httpx.AsyncClient
) -> None:
    """`kind=status`: the status messages an agency received (the SDK's `messagetype:
    status`), each named so that get_status reads it."""
    sent = await through(adapter, mock, call("send_document", make_document()))
    await through(
        adapter, mock, call("post_status", {"organ_id": STC, "status_code": "01"}, id=sent["id"])
    )

    statuses = await through(
        adapter, mock, call("get_inbox", query=(("organ_id", STP), ("kind", "status")))
    )
    documents = await through(adapter, mock, call("get_inbox", query=(("organ_id", STP),)))

    (item,) = [item for item in statuses["items"] if item["id"] == sent["id"]]
    assert {key: item[key] for key in ("id", "organ_id", "position", "status_code",
                                       "reported_by", "addressee")} == {
        "id": sent["id"], "organ_id": STC, "position": 1, "status_code": "01",
        "reported_by": STC, "addressee": STP,  # the recipient's report is for the sender
    }  # fmt: skip
    assert all(item["id"] != sent["id"] for item in documents["items"])  # STP sent it


async def test_adapter_and_mock_agree_on_every_operation(
    adapter: QlvbAdapter, mock: httpx.AsyncClient
) -> None:
    document = make_document()

    sent = await through(adapter, mock, call("send_document", document))
    inbox = await through(adapter, mock, call("get_inbox", query=(("organ_id", STC),)))
    status = await through(
        adapter, mock, call("post_status", {"organ_id": STC, "status_code": "01"}, id=sent["id"])
    )
    fetched = await through(adapter, mock, call("get_document", id=sent["id"]))

    assert sent.pop("signature")["reason"] == "missing"  # rendered from JSON: unsigned
    assert sent == {
        "id": KEY,
        "document_id": DOCUMENT_ID,
        "recipients": [{"organ_id": STC, "status": None}],
        "duplicate": False,
        "warnings": [],
    }
    assert inbox["items"][0]["id"] == KEY
    assert inbox["items"][0]["from"]["organ_id"] == STP
    assert status["recipients"] == [{"organ_id": STC, "status": "01"}]
    assert fetched["document"] == validate_document(document)
    assert fetched["recipients"][0]["history"][0]["status_name"] == "ARRIVED"


async def test_adapter_and_mock_agree_on_refusals(
    adapter: QlvbAdapter, mock: httpx.AsyncClient
) -> None:
    await through(adapter, mock, call("send_document", make_document()))
    outsider = make_document(to=[{"organ_id": "000.00.01.H58", "organ_name": "Sở Tư pháp"}])

    with pytest.raises(RecipientInOtherProvince):
        await through(adapter, mock, call("send_document", outsider))
    with pytest.raises(IllegalStatusTransition) as illegal:
        await through(
            adapter, mock, call("post_status", {"organ_id": STC, "status_code": "06"}, id=KEY)
        )
    with pytest.raises(NotAParty):
        await through(
            adapter, mock, call("post_status", {"organ_id": SXD, "status_code": "01"}, id=KEY)
        )
    with pytest.raises(DocumentNotFound):
        await through(adapter, mock, call("get_document", id=document_key(DOCUMENT_ID + "X")))
    await through(
        adapter, mock, call("post_status", {"organ_id": STC, "status_code": "01"}, id=KEY)
    )
    with pytest.raises(NotAParty):  # STC's report is STP's and its own to read
        await through(
            adapter, mock, call("get_status", query=(("organ_id", SXD),), id=KEY, organ_id=STC,
                                n="1"),
        )  # fmt: skip
    assert illegal.value.extensions == {"current_status": None, "allowed_status_codes": ["01"]}


@pytest.fixture(name="tg_mock")
async def fx_tg_mock(database_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """Tiền Giang's endpoint with access to the bus (a stand-in that takes its hand-overs)."""
    async with with_bus_access("qlvb", "tiengiang", database_url, province_code="82") as client:
        yield client


async def test_adapter_and_mock_agree_on_what_arrives_from_another_province(
    adapter: QlvbAdapter, tg_mock: httpx.AsyncClient
) -> None:
    tg_stp = "000.00.01.H58"
    data = render_edxml(make_document(to=[{"organ_id": tg_stp, "organ_name": "Sở Tư pháp"}]))
    recall = render_status(
        {**parse_status(status_message()), "from": {"organ_id": STP, "organ_name": "Sở"},
         "status_code": "13"}
    )  # fmt: skip

    first = await through(adapter, tg_mock, call("receive_document", data, "application/xml"))
    again = await through(adapter, tg_mock, call("receive_document", data, "application/xml"))
    await through(
        adapter, tg_mock, call("post_status", {"organ_id": tg_stp, "status_code": "01"}, id=KEY)
    )
    recalled = await through(adapter, tg_mock, call("receive_status", recall, "application/xml"))
    local = make_document(
        **{"from": {"organ_id": tg_stp, "organ_name": "Sở Tư pháp"}},
        to=[{"organ_id": "000.00.03.H58", "organ_name": "Sở Tài chính"}],
    )
    with pytest.raises(SenderInThisProvince):
        await through(adapter, tg_mock, call("receive_document", render_edxml(local), "text/xml"))

    assert (first["duplicate"], again["duplicate"], first["id"]) == (False, True, KEY)
    assert first["recipients"] == [{"organ_id": tg_stp, "status": None}]
    assert recalled.pop("signature")["reason"] == "missing"  # checked as a document's is
    assert recalled == {
        "id": KEY,
        "document_id": DOCUMENT_ID,
        "recipients": [{"organ_id": tg_stp, "status": "13"}],
        "duplicate": False,
        "warnings": [],
    }
