"""The vdxp adapter: canonical edXML in, the national axis's SDK calls, and its refusals mapped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters._qlvb_contracts import (
    IllegalStatusTransition,
    InvalidInboxQuery,
    NotARecipientOfDocument,
)
from adapters.base import CanonicalRequest, SystemResponse
from adapters.qlvb import (
    DocumentNotFound,
    document_key,
)
from adapters.vdxp import (
    AxisCannotForward,
    DocumentIdConflict,
    DocumentIdOfAnotherAgency,
    NoRemoteRecipient,
    RecipientNotServed,
    SenderNotServed,
    VdxpAdapter,
    VdxpAnswerInvalid,
)
from formats.edxml import render_edxml, render_status
from tests.fixtures.documents import cross_province_document, response_for
from tests.fixtures.handovers import with_bus_access
from tests.unit.adapters.calls import SECRET, SdkRefusal, catalog_entry, refused, through
from tests.unit.adapters.calls import sdk_answer as answer

pytestmark = pytest.mark.anyio

STP, TG_STP = "000.00.01.H33", "000.00.01.H58"
DOCUMENT_ID = "000.00.01.H33,2025/06/02,15/STP-VP"
KEY = document_key(DOCUMENT_ID)
XML = "application/xml"


def make_document(**changes: Any) -> dict[str, Any]:
    return {**cross_province_document("15", subject=f"V/v trao đổi {SECRET}"), **changes}


def make_status(reporter: str = TG_STP, code: str = "01") -> bytes:
    return render_status(
        {
            "response_for": response_for(make_document()),
            "from": {"organ_id": reporter, "organ_name": "Sở Tư pháp"},
            "status_code": code,
            "description": SECRET,
            "timestamp": "2025-06-02T09:20:00",
        }
    )


@pytest.fixture(name="adapter")
def fx_adapter() -> VdxpAdapter:
    return VdxpAdapter(today=lambda: date(2025, 6, 2))


def call(
    operation: str, body: bytes = b"", content_type: str | None = XML, **path: str
) -> CanonicalRequest:
    return CanonicalRequest(operation, path, (), body, content_type)


DESTINATIONS = [{"Instance": "tiengiang", "ProvinceCode": "82", "OrganIds": [TG_STP]}]
DOCUMENT_ANSWER = {
    "DocumentId": DOCUMENT_ID,
    "From": STP,
    "ContentSha256": "ab" * 32,
    "ContentLength": 2048,
    "Destinations": DESTINATIONS,
}
STATUS_ANSWER = {
    "DocumentId": DOCUMENT_ID,
    "From": TG_STP,
    "StatusCode": "01",
    "Timestamp": "2025-06-02T10:00:00",
    "ReceivedTime": "2025-06-02T10:00:05+07:00",
    "Destinations": ["kiengiang"],
}


# --- requests ---------------------------------------------------------------------------------


def test_a_trail_is_asked_for_by_the_document_id_its_key_names(adapter: VdxpAdapter) -> None:
    sent = adapter.to_system(call("get_trail", id=KEY))

    assert (sent.method, sent.path) == ("POST", "/getEdocTrail")
    assert json.loads(sent.body) == {"documentId": DOCUMENT_ID}


@pytest.mark.parametrize("key", ["", "not base64!", KEY + "=", document_key("a,b,c,d")])
def test_a_key_that_names_no_document_is_not_found_without_a_call(
    adapter: VdxpAdapter, key: str
) -> None:
    refused(lambda: adapter.to_system(call("get_trail", id=key)), DocumentNotFound)


# --- answers ----------------------------------------------------------------------------------


def test_a_submitted_document_is_202_with_where_it_goes(adapter: VdxpAdapter) -> None:
    result = adapter.to_canonical(
        call("submit_document"), answer(**DOCUMENT_ANSWER, Duplicate=True)
    )

    assert (result.status, result.content) == (
        202,
        {
            "id": KEY,
            "document_id": DOCUMENT_ID,
            "sender": STP,
            "content_sha256": "ab" * 32,
            "content_length": 2048,
            "destinations": [
                {"instance": "tiengiang", "province_code": "82", "organ_ids": [TG_STP]}
            ],
            "central_recipients": [],
            "duplicate": True,
            "warnings": [],
        },
    )


def test_a_submitted_status_is_202_with_its_name_and_destinations(adapter: VdxpAdapter) -> None:
    result = adapter.to_canonical(call("submit_status"), answer(**STATUS_ANSWER, Duplicate=False))

    assert (result.status, result.content) == (
        202,
        {
            "id": KEY,
            "document_id": DOCUMENT_ID,
            "reporter": TG_STP,
            "status_code": "01",
            "status_name": "ARRIVED",
            "timestamp": "2025-06-02T10:00:00",
            "received_at": "2025-06-02T10:00:05+07:00",
            "destinations": ["kiengiang"],
            "duplicate": False,
            "warnings": [],
        },
    )


def test_a_submitted_document_names_its_central_recipients_and_the_axiss_warnings(
    adapter: VdxpAdapter,
) -> None:
    warned = [{"Rule": "document_id_mismatch", "Detail": "DocumentId names another number"}]
    response = answer(
        **DOCUMENT_ANSWER, Central=["000.00.00.G22"], Duplicate=False, Warnings=warned
    )

    result = adapter.to_canonical(call("send_central_document"), response)

    assert result.content["central_recipients"] == ["000.00.00.G22"]
    assert result.content["warnings"] == [
        {"rule": "document_id_mismatch", "detail": "DocumentId names another number"}
    ]


def test_a_trail_lists_the_document_and_its_statuses_in_order(adapter: VdxpAdapter) -> None:
    later = {**STATUS_ANSWER, "StatusCode": "03", "Timestamp": "2025-06-02T11:00:00"}
    dead = {"State": "dead", "LastStatus": 422, "LastError": "SIGNATURE_INVALID: untrusted"}
    response = answer(
        **{**DOCUMENT_ANSWER, "Destinations": [{**d, "Delivery": dead} for d in DESTINATIONS]},
        To=[TG_STP],
        ReceivedTime="2025-06-02T09:30:00+07:00",
        Statuses=[STATUS_ANSWER, later],
    )

    result = adapter.to_canonical(call("get_trail", id=KEY), response)

    assert result.status == 200
    assert (result.content["recipients"], result.content["received_at"]) == (
        [TG_STP],
        "2025-06-02T09:30:00+07:00",
    )
    assert [(s["status_code"], s["status_name"]) for s in result.content["statuses"]] == [
        ("01", "ARRIVED"),
        ("03", "ACCEPTED"),
    ]
    assert "duplicate" not in result.content
    assert result.content["destinations"][0]["delivery"] == {
        "state": "dead",
        "reason": "HTTP 422: SIGNATURE_INVALID: untrusted",
    }


def test_a_trail_lists_its_business_messages_each_with_its_forwarding(
    adapter: VdxpAdapter,
) -> None:
    dead = {"State": "dead", "LastStatus": 422, "LastError": "NO_RECIPIENT_HERE"}
    revocation = {
        "DocId": "0b5c0f5e-3f1a-5c8e-9d2b-6a1e4c7d8f90", "BusinessType": 1,
        "ContentSha256": "cd" * 32, "ContentLength": 2100, "To": [TG_STP],
        "ReceivedTime": "2025-06-02T10:30:00+07:00",
        "Destinations": [{**d, "Delivery": dead} for d in DESTINATIONS],
    }  # fmt: skip
    delivered = {"State": "delivered", "LastStatus": 200, "LastError": None}
    response = answer(
        **{**DOCUMENT_ANSWER, "Destinations": [{**d, "Delivery": delivered}
                                               for d in DESTINATIONS]},
        To=[TG_STP], ReceivedTime="2025-06-02T09:30:00+07:00", Statuses=[],
        Business=[revocation],
    )  # fmt: skip

    result = adapter.to_canonical(call("get_trail", id=KEY), response)

    (business,) = result.content["business"]
    assert (business["id"], business["business_type"]) == (revocation["DocId"], 1)
    assert business["destinations"] == [
        {"instance": "tiengiang", "province_code": "82", "organ_ids": [TG_STP],
         "delivery": {"state": "dead", "reason": "HTTP 422: NO_RECIPIENT_HERE"}}
    ]  # fmt: skip


def test_a_trail_without_a_readable_forwarding_state_is_the_axis_fault(
    adapter: VdxpAdapter,
) -> None:
    response = answer(
        **{**DOCUMENT_ANSWER, "Destinations": [{**d, "Delivery": {"State": "lost"}}
                                               for d in DESTINATIONS]},
        To=[TG_STP], ReceivedTime="2025-06-02T09:30:00+07:00", Statuses=[],
    )  # fmt: skip

    with pytest.raises(VdxpAnswerInvalid):
        adapter.to_canonical(call("get_trail", id=KEY), response)


# --- refusals and unreadable answers ----------------------------------------------------------

OPERATIONS = ["submit_document", "submit_status", "get_trail"]

# The axis's own refusals; test_sdk_adapters.py checks each, and those both SDK systems make.
REFUSALS: list[SdkRefusal] = [
    (422, {"ErrorCode": "UNKNOWN_SENDER", "OrganIds": ["000.00.01.H30", SECRET]},
     SenderNotServed, {"organ_ids": ["000.00.01.H30"]}),
    (422, {"ErrorCode": "UNKNOWN_RECIPIENT", "OrganIds": ["000.00.99.H58"]},
     RecipientNotServed, {"organ_ids": ["000.00.99.H58"]}),
    (422, {"ErrorCode": "UNKNOWN_RECIPIENT", "OrganIds": "not a list"}, RecipientNotServed,
     {"organ_ids": []}),
    (422, {"ErrorCode": "NO_REMOTE_RECIPIENT"}, NoRemoteRecipient, {}),
    (422, {"ErrorCode": "INVALID_REQUEST"}, InvalidInboxQuery, {"errors": []}),  # a central inbox
    (409, {"ErrorCode": "DOCUMENT_CONFLICT"}, DocumentIdConflict, {}),
    (403, {"ErrorCode": "DOCUMENT_ID_OF_ANOTHER_AGENCY", "OrganIds": ["000.00.01.H33"]},
     DocumentIdOfAnotherAgency, {"organ_ids": ["000.00.01.H33"]}),
    (422, {"ErrorCode": "NOT_A_RECIPIENT_OF_DOCUMENT", "OrganIds": ["000.00.01.H11", SECRET]},
     NotARecipientOfDocument, {"organ_ids": ["000.00.01.H11"]}),
    (503, {"ErrorCode": "NOT_CONNECTED"}, AxisCannotForward, {}),
    (409, {"ErrorCode": "ILLEGAL_STATUS", "CurrentStatus": "01",  # a central body's status
           "AllowedStatusCodes": ["02", "03"]}, IllegalStatusTransition,
     {"current_status": "01", "allowed_status_codes": ["02", "03"]}),
]  # fmt: skip


# Answers of the axis's the adapter cannot read (test_sdk_adapters.py), besides any system's.
UNREADABLE: list[tuple[list[str], SystemResponse]] = [
    (OPERATIONS, answer(422, ErrorCode="NOT_A_CODE_OF_THE_AXIS")),  # no code the axis gives
    (["submit_document"], answer(**DOCUMENT_ANSWER)),  # no Duplicate
    (["submit_document"], answer(**{**DOCUMENT_ANSWER, "DocumentId": 7}, Duplicate=False)),
    (["submit_document"], answer(**{**DOCUMENT_ANSWER, "From": SECRET}, Duplicate=False)),
    (["submit_document"], answer(**{**DOCUMENT_ANSWER, "Destinations": {}}, Duplicate=False)),
    (["submit_document"],
     answer(**{**DOCUMENT_ANSWER, "Destinations": [{"Instance": "x", "ProvinceCode": "9"}]},
            Duplicate=False)),
    (["submit_status"], answer(**{**STATUS_ANSWER, "StatusCode": "99"}, Duplicate=False)),
    (["submit_status"], answer(**STATUS_ANSWER, Duplicate=False, Warnings=[{"Rule": "Bad!"}])),
    (["submit_document"], answer(**DOCUMENT_ANSWER, Duplicate=False, Warnings="bad_date")),
    (["submit_status"], answer(**{**STATUS_ANSWER, "ReceivedTime": "yesterday"}, Duplicate=False)),
    (["get_trail"], answer(**DOCUMENT_ANSWER, To=[TG_STP], ReceivedTime=None, Statuses=[])),
    (["get_trail"], answer(**DOCUMENT_ANSWER, To=[TG_STP], ReceivedTime="2025-06-02T09:30:00",
                           Statuses=[{"StatusCode": "01"}])),
]  # fmt: skip


# --- the catalog entry ------------------------------------------------------------------------


def test_the_paths_the_provinces_enqueue_are_the_catalogs() -> None:
    from mocks.qlvb import axis

    service = catalog_entry("vdxp")
    paths = {operation.path: operation.method for operation in service.operations}

    assert (axis.VDXP_SERVICE, axis.VDXP_VERSION) == (service.id, service.version)
    assert paths[axis.VDXP_DOCUMENTS] == paths[axis.VDXP_STATUSES] == "POST"


# --- both sides together: the adapter against the real mock, no gateway -----------------------


@pytest.fixture(name="mock")
async def fx_mock(database_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with with_bus_access("vdxp", "ndxp", database_url) as client:
        yield client


async def test_adapter_and_mock_agree_on_every_operation(
    adapter: VdxpAdapter, mock: httpx.AsyncClient
) -> None:
    data = render_edxml(make_document())

    document = await through(adapter, mock, call("submit_document", data))
    again = await through(adapter, mock, call("submit_document", data))
    status = await through(adapter, mock, call("submit_status", make_status()))
    trail = await through(adapter, mock, call("get_trail", id=KEY))

    assert (document["id"], document["duplicate"], again["duplicate"]) == (KEY, False, True)
    assert document["destinations"] == [
        {"instance": "tiengiang", "province_code": "82", "organ_ids": [TG_STP]}
    ]
    assert (status["reporter"], status["destinations"]) == (TG_STP, ["kiengiang"])
    assert [s["status_code"] for s in trail["statuses"]] == ["01"]
    assert trail["content_length"] == len(data)


async def test_adapter_and_mock_agree_on_refusals(
    adapter: VdxpAdapter, mock: httpx.AsyncClient
) -> None:
    local_only = make_document(to=[{"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính"}])

    with pytest.raises(NoRemoteRecipient):
        await through(adapter, mock, call("submit_document", render_edxml(local_only)))
    with pytest.raises(DocumentNotFound):
        await through(adapter, mock, call("submit_status", make_status()))
    with pytest.raises(DocumentNotFound):
        await through(adapter, mock, call("get_trail", id=KEY))
