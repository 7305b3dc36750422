"""The canonical API's view of revocations, updates and replacements (BussinessDocType 1/2/3):
each has an id of its own (the DocId the document system gave it) and names the document it is
about (`refers_to`); the inbox shows every entry's business type and signature check."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters._qlvb_contracts import DocumentConflict, InboxItem, QlvbAnswerInvalid
from adapters.dialects import vdxpsdk as sdk
from adapters.qlvb import CONTRACTS, QlvbAdapter, document_key
from tests.unit.adapters.calls import refused
from tests.unit.adapters.calls import sdk_answer as answer
from tests.unit.adapters.test_qlvb_adapter import DOCUMENT_ID, KEY, STC, STP, call, fx_adapter

__all__ = ["fx_adapter"]  # the fixture `adapter`, used by name

DOC_ID = "0b7c3a52-8d0e-5f43-9a1e-3c2d1b0a9f88"
ORGANISATION = dict.fromkeys(
    ["OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax", "Website"]
)
CHECK = {"Present": True, "Valid": False, "Algorithm": None, "Weak": False, "Subject": None,
         "Issuer": None, "Serial": None, "NotAfter": None, "Reason": "malformed"}  # fmt: skip


def knobstick(**changes: Any) -> dict[str, Any]:
    return {
        "id": "uuid-of-the-document",
        "documentId": DOCUMENT_ID,
        "to": STC,
        "subject": "V/v thu hồi",
        "fromOrganization": {**ORGANISATION, "OrganId": STP},
        "createdTime": "2025-06-02T09:30:00+07:00",
        "statusCode": None,
        **changes,
    }


def test_an_inbox_revocation_has_its_own_id_and_names_its_document(
    adapter: QlvbAdapter,
) -> None:
    data = [
        knobstick(id=DOC_ID, businessType=1, refersTo="uuid-of-the-document",
                  refersToDocumentId=DOCUMENT_ID, signature=CHECK),
        knobstick(businessType=0, refersTo=None, refersToDocumentId=None, signature=None),
    ]  # fmt: skip

    result = adapter.to_canonical(call("get_inbox"), answer(total=2, page=1, size=20, data=data))

    items = result.content["items"]
    assert [(i["id"], i["business_type"], i["refers_to"]) for i in items] == [
        (DOC_ID, 1, KEY),
        (KEY, 0, None),
    ]
    assert items[0]["signature"]["reason"] == "malformed"
    assert items[1]["signature"] is None
    for item in items:
        InboxItem.model_validate(item)  # the published contract holds them


def test_a_replacement_that_named_no_document_is_a_document_of_its_own(
    adapter: QlvbAdapter,
) -> None:
    data = [knobstick(businessType=3, refersTo=None, refersToDocumentId=None)]

    result = adapter.to_canonical(call("get_inbox"), answer(total=1, page=1, size=20, data=data))

    (item,) = result.content["items"]
    assert (item["id"], item["business_type"], item["refers_to"]) == (KEY, 3, None)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"businessType": 7}, id="type-out-of-range"),
        pytest.param({"businessType": "1"}, id="type-not-a-number"),
        pytest.param(
            {"businessType": 1, "id": "not-a-uuid", "refersToDocumentId": DOCUMENT_ID},
            id="no-uuid-docid",
        ),
    ],
)
def test_a_business_entry_the_system_garbled_is_its_fault(
    adapter: QlvbAdapter, changes: dict[str, Any]
) -> None:
    data = [knobstick(**changes)]

    with pytest.raises(QlvbAnswerInvalid):
        adapter.to_canonical(call("get_inbox"), answer(total=1, page=1, size=20, data=data))


def test_a_revocation_is_fetched_by_its_docid(adapter: QlvbAdapter) -> None:
    sent = adapter.to_system(call("get_document", id=DOC_ID))

    assert (sent.method, sent.path) == ("POST", "/getEdoc")
    assert json.loads(sent.body) == {"docId": DOC_ID, "format": "json"}


def test_a_sent_revocation_answers_its_own_id_and_its_document(adapter: QlvbAdapter) -> None:
    response = answer(
        DocId=DOC_ID,
        DocumentId=DOCUMENT_ID,
        Duplicate=False,
        Warnings=[],
        BusinessType=2,
        RefersTo="uuid-of-the-document",
        RefersToDocumentId=DOCUMENT_ID,
        Recipients=[{"OrganId": STP, "StatusCode": None}],
    )

    result = adapter.to_canonical(call("send_document"), response)

    assert result.status == 202
    assert (result.content["id"], result.content["document_id"]) == (DOC_ID, DOCUMENT_ID)
    assert (result.content["business_type"], result.content["refers_to"]) == (2, KEY)


def test_a_document_conflict_is_the_contracts_own_refusal(adapter: QlvbAdapter) -> None:
    refusal = answer(status=409, ErrorCode="DOCUMENT_CONFLICT", ErrorDesc="x")

    error = refused(lambda: adapter.to_canonical(call("send_document"), refusal), DocumentConflict)

    assert error.status == 409
    assert DocumentConflict in CONTRACTS["send_document"].errors
    assert document_key(DOCUMENT_ID) == KEY


def test_the_sdk_doors_knobstick_shows_the_business_type_link_and_signature() -> None:
    check = {"present": True, "valid": False, "reason": "malformed", "serial": None}
    item = {"id": DOC_ID, "document_id": DOCUMENT_ID, "from": {"organ_id": STP},
            "subject": "V/v thu hồi", "received_at": "2026-12-06T20:00", "status": None,
            "business_type": 1, "refers_to": KEY, "signature": check}  # fmt: skip
    seeded = {**item, "id": KEY, "business_type": 0, "refers_to": None, "signature": None}

    stick, plain = (sdk.knobstick(i, messagetype="edoc") for i in (item, seeded))

    assert (stick["docId"], stick["businessType"], stick["refersTo"]) == (DOC_ID, "1", KEY)
    assert stick["signature"] == check  # an object the jar does not read
    assert (plain["businessType"], "refersTo" in plain, "signature" in plain) == ("0", False, False)
