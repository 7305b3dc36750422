"""Central bodies on the national document axis: VPCP (`000.00.00.G22`, the VDXP SDK samples'
sender, DOMAIN.md §6.2) sends to a province's agency and receives from one, through a client
bound to it on the national instance, its national inbox holding what reaches it."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest

from lgsp.state import BusState
from tests.e2e.test_sdk_documents import (
    DOCUMENTS,
    SDK_DOCUMENT_ID,
    STP,
    XML,
    as_sent,
    sample,
    status_as_sent,
)
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, fetch_token, registered_client
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

VPCP = "000.00.00.G22"
NDXP_CENTRAL = "/ndxp/vdxp/v1/central"


async def central_token(
    client: httpx.AsyncClient, bus: BusState, organisation: str, name: str, *, at: str = "ndxp"
) -> dict[str, str]:
    """The bearer header of a client of instance `at` (the national one) bound to
    `organisation`, as `lgsp clients create --instance ndxp --organisation …` makes one."""
    new = await registered_client(
        bus, {"vdxp": "*"}, name=name, organisation=organisation, instance=at
    )
    prefix = "/ndxp" if at == "ndxp" else f"/lgsp/{at}"
    token = await fetch_token(client, prefix, client_id=new.client_id, secret=new.client_secret)
    return bearer(token)


@pytest.fixture
async def vpcp(client: httpx.AsyncClient, bus: BusState) -> dict[str, str]:
    """The bearer header of VPCP's own client on the national instance."""
    return await central_token(client, bus, VPCP, "vpcp")


async def sent_to_vpcp(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str], number: str
) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    """A Kiên Giang document to VPCP: its bytes, the answer to its sending and its item in
    VPCP's national inbox once there (VPCP's own client reads it)."""
    data = as_sent("edoc_new.bak.edxml", number, recipient=VPCP)
    sent = await client.post(DOCUMENTS, content=data, headers={**bearer(demo_token), **XML})
    assert sent.status_code == 202, sent.text
    document_id = sent.json()["document_id"]
    inbox = await eventually(
        lambda: client.get(f"{NDXP_CENTRAL}/inbox", params={"organ_id": VPCP}, headers=vpcp),
        lambda r: (
            r.status_code == 200 and any(i["document_id"] == document_id for i in r.json()["items"])
        ),
    )
    (item,) = [i for i in inbox.json()["items"] if i["document_id"] == document_id]
    return data, sent.json(), item


def from_central(number: str, *, sender: str = VPCP, recipient: str = STP) -> bytes:
    """The SDK's own document, from `sender` (VPCP in the sample) to `recipient`."""
    text = sample("edoc_new.bak.edxml")
    text = re.sub(r"(<edXML:From>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{sender}", text)
    text = re.sub(r"(<edXML:To>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{recipient}", text)
    text = re.sub(r"(<edXML:CodeNumber>)[^<]*", rf"\g<1>{number}", text)
    return text.replace(SDK_DOCUMENT_ID, f"{sender},2015/09/30,{number}/VPCP-TTĐT").encode()


async def test_a_province_document_to_vpcp_reaches_its_national_inbox_and_its_status_comes_back(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:

    data, sent, item = await sent_to_vpcp(client, demo_token, vpcp, "18001")

    document_id = sent["document_id"]
    assert (item["sender"], item["recipient"], item["kind"]) == (STP, VPCP, "edoc")
    fetched = await client.get(
        f"{NDXP_CENTRAL}/inbox/{item['id']}", params={"organ_id": VPCP}, headers=vpcp
    )
    assert fetched.status_code == 200, fetched.text
    assert base64.b64decode(fetched.json()["edxml"]) == data  # the sender's bytes
    # What the sender's trace says of it meanwhile (README "Central bodies on the axis")
    waiting = await client.get(f"{DOCUMENTS}/{sent['id']}", headers=bearer(demo_token))
    (recipient,) = waiting.json()["recipients"]
    assert (recipient["organ_id"], recipient["status"]) == (VPCP, None)
    assert recipient["delivery"] == {"state": "in_transit", "reason": None}

    arrived = status_as_sent("status_inbox_01.edxml", document_id, reporter=VPCP)
    reported = await client.post(
        f"{NDXP_CENTRAL}/statuses", content=arrived, headers={**vpcp, **XML}
    )
    assert reported.status_code == 202, reported.text
    assert reported.json()["destinations"] == ["kiengiang"]  # the sender's province
    trace = await eventually(
        lambda: client.get(f"{DOCUMENTS}/{sent['id']}", headers=bearer(demo_token)),
        lambda r: r.json()["recipients"][0]["status"] is not None,
    )
    (recipient,) = trace.json()["recipients"]
    assert (recipient["organ_id"], recipient["status"]) == (VPCP, "01")


async def test_vpcp_sends_to_a_province_agency_and_its_status_comes_back(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:

    sent = await client.post(
        f"{NDXP_CENTRAL}/documents", content=from_central("18002"), headers={**vpcp, **XML}
    )

    assert sent.status_code == 202, sent.text
    key = sent.json()["id"]
    kg = bearer(demo_token)
    await eventually(
        lambda: client.get(
            f"{KG}/qlvb/v1/documents/inbox", params={"organ_id": STP, "size": 100}, headers=kg
        ),
        lambda r: any(i["id"] == key for i in r.json()["items"]),
    )
    reported = await client.post(
        f"{DOCUMENTS}/{key}/status", json={"organ_id": STP, "status_code": "01"}, headers=kg
    )
    assert reported.status_code in (200, 202), reported.text
    statuses = await eventually(
        lambda: client.get(
            f"{NDXP_CENTRAL}/inbox", params={"organ_id": VPCP, "kind": "status"}, headers=vpcp
        ),
        lambda r: (
            r.status_code == 200
            and any(i["document_id"] == sent.json()["document_id"] for i in r.json()["items"])
        ),
    )
    (status,) = [
        i for i in statuses.json()["items"] if i["document_id"] == sent.json()["document_id"]
    ]
    assert (status["sender"], status["status_code"], status["kind"]) == (STP, "01", "status")


async def test_a_client_of_another_agency_can_neither_read_nor_send_as_vpcp(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    other = await central_token(client, bus, "000.00.00.G14", "not-vpcp")

    read = await client.get(f"{NDXP_CENTRAL}/inbox", params={"organ_id": VPCP}, headers=other)
    sent = await client.post(
        f"{NDXP_CENTRAL}/documents", content=from_central("18003"), headers={**other, **XML}
    )

    assert (read.status_code, sent.status_code) == (403, 403), (read.text, sent.text)


async def test_a_province_client_bound_to_vpcp_cannot_read_its_national_inbox(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    posing = await central_token(client, bus, VPCP, "vpcp-at-a-province", at="kiengiang")

    read = await client.get(
        f"{KG}/vdxp/v1/central/inbox", params={"organ_id": VPCP}, headers=posing
    )

    assert_problem(read, 403, "ORGANISATION_MISMATCH")


async def test_a_province_admin_cannot_fetch_a_message_of_vpcps_inbox_which_vpcp_reads(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:
    data, _, item = await sent_to_vpcp(client, demo_token, vpcp, "18006")
    message = {"organ_id": VPCP}

    own = await client.get(f"{NDXP_CENTRAL}/inbox/{item['id']}", params=message, headers=vpcp)
    admin = await client.get(
        f"{KG}/vdxp/v1/central/inbox/{item['id']}", params=message, headers=bearer(demo_token)
    )
    listed = await client.get(
        f"{KG}/vdxp/v1/central/inbox", params=message, headers=bearer(demo_token)
    )

    assert base64.b64decode(own.json()["edxml"]) == data
    for refused in (admin, listed):
        assert_problem(refused, 403, "ORGANISATION_MISMATCH")


async def test_a_central_code_the_axis_serves_no_body_under_is_refused_with_its_code(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    unknown = await central_token(client, bus, "000.00.00.G14", "unknown-central")

    sent = await client.post(
        f"{NDXP_CENTRAL}/documents",
        content=from_central("18004", sender="000.00.00.G14"),
        headers={**unknown, **XML},
    )

    assert_problem(sent, 422, "CENTRAL_AGENCY_UNKNOWN")
    assert sent.json()["organ_ids"] == ["000.00.00.G14"]


async def test_a_revocation_for_vpcp_reaches_its_inbox_and_shows_delivered_to_its_sender(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:
    kg = {**bearer(demo_token), **XML}
    first = await client.post(
        DOCUMENTS, content=as_sent("edoc_new.bak.edxml", "18005", recipient=VPCP), headers=kg
    )
    assert first.status_code == 202, first.text

    revocation = await client.post(
        DOCUMENTS, content=as_sent("edoc_revocation.edxml", "18005", recipient=VPCP), headers=kg
    )

    assert revocation.status_code == 202, revocation.text
    view = await eventually(
        lambda: client.get(f"{DOCUMENTS}/{revocation.json()['id']}", headers=bearer(demo_token)),
        lambda r: r.json()["recipients"][0]["delivery"]["state"] == "delivered",
    )
    assert view.json()["recipients"][0]["organ_id"] == VPCP
    inbox = await client.get(f"{NDXP_CENTRAL}/inbox", params={"organ_id": VPCP}, headers=vpcp)
    mine = [i for i in inbox.json()["items"] if i["document_id"] == first.json()["document_id"]]
    assert sorted(i["business_type"] for i in mine) == [0, 1]


async def test_a_province_lists_vpcp_among_the_agencies_it_can_address(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    listed = await client.get(f"{KG}/qlvb/v1/organisations", headers=bearer(demo_token))

    assert listed.status_code == 200, listed.text
    central = [i for i in listed.json()["items"] if i["organ_id"] == VPCP]
    assert [(i["organ_name"], i["in_province"], i["province_code"]) for i in central] == [
        ("Văn phòng Chính phủ", False, None)
    ]


async def test_vpcp_cannot_report_a_status_that_may_not_follow_its_deliverys_as_a_province(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:
    _, sent, _ = await sent_to_vpcp(client, demo_token, vpcp, "18007")
    document_id = sent["document_id"]

    def report(name: str) -> Any:
        data = status_as_sent(name, document_id, reporter=VPCP)
        return client.post(f"{NDXP_CENTRAL}/statuses", content=data, headers={**vpcp, **XML})

    too_soon = await report("status_acceptance_03.edxml")  # nothing arrived yet: 01 first
    arrived = await report("status_inbox_01.edxml")
    finished = await report("status_finish_06.edxml")  # 01 → 06 skips 03 and 05

    assert too_soon.status_code == 409, too_soon.text
    assert (too_soon.json()["current_status"], too_soon.json()["allowed_status_codes"]) == (
        None,
        ["01"],
    )
    assert arrived.status_code == 202, arrived.text
    assert finished.status_code == 409, finished.text
    assert finished.headers["content-type"].startswith("application/problem+json")
    problem = finished.json()
    assert problem["code"] == "ILLEGAL_STATUS_TRANSITION"  # the code a province's agency gets
    assert (problem["current_status"], problem["allowed_status_codes"]) == ("01", ["02", "03"])
    trail = await client.get(f"/ndxp/vdxp/v1/documents/{sent['id']}", headers=vpcp)
    assert [s["status_code"] for s in trail.json()["statuses"]] == ["01"]  # nothing recorded
    assert (trail.json()["destinations"], trail.json()["central_recipients"]) == ([], [VPCP])


async def test_a_central_bodys_nonconforming_message_is_taken_with_warnings_or_refused_if_strict(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:
    document = from_central("18008").replace(
        b",18008/VPCP-TT\xc4\x90T</edXML:DocumentId>", b",18099/VPCP-TT\xc4\x90T</edXML:DocumentId>"
    )  # a DocumentId that names another number than the header's
    _, sent, _ = await sent_to_vpcp(client, demo_token, vpcp, "18009")
    status = status_as_sent("status_inbox_01.edxml", sent["document_id"], reporter=VPCP)
    status = re.sub(rb"<edXML:Timestamp>[^<]*", b"<edXML:Timestamp>20/09/2015 11:08:36", status)
    strict = {**vpcp, **XML, "Prefer": "handling=strict"}

    def post(path: str, data: bytes, headers: dict[str, str]) -> Any:
        return client.post(f"{NDXP_CENTRAL}/{path}", content=data, headers=headers)

    refused = [await post("documents", document, strict), await post("statuses", status, strict)]
    taken = [await post("documents", document, {**vpcp, **XML}),
             await post("statuses", status, {**vpcp, **XML})]  # fmt: skip

    for answer, rule in zip(refused, ("document_id_mismatch", "bad_date"), strict=True):
        assert answer.status_code == 422, answer.text
        assert (answer.json()["code"], answer.json()["rule"]) == ("INVALID_EDXML", rule)
        assert answer.headers["preference-applied"] == "handling=strict"
    for answer, rule in zip(taken, ("document_id_mismatch", "bad_date"), strict=True):
        assert answer.status_code == 202, answer.text
        assert rule in [w["rule"] for w in answer.json()["warnings"]]
        assert "preference-applied" not in answer.headers


async def test_a_replacement_under_its_own_number_shows_it_in_vpcps_inbox_linked_to_the_replaced(
    client: httpx.AsyncClient, demo_token: str, vpcp: dict[str, str]
) -> None:
    _, first, _ = await sent_to_vpcp(client, demo_token, vpcp, "18010")
    named = as_sent("edoc_replacement.edxml", "18011", recipient=VPCP).replace(
        "000.00.00.G22,2014/01/30,7806/VPCP-TTĐT".encode(), first["document_id"].encode()
    )  # its ReplacementInfo names the first

    replacement = await client.post(DOCUMENTS, content=named, headers={**bearer(demo_token), **XML})

    assert replacement.status_code == 202, replacement.text
    inbox = await eventually(
        lambda: client.get(f"{NDXP_CENTRAL}/inbox", params={"organ_id": VPCP}, headers=vpcp),
        lambda r: any(i["business_type"] == 3 for i in r.json()["items"]),
    )
    (entry,) = [i for i in inbox.json()["items"] if i["business_type"] == 3]
    assert entry["refers_to"] == first["id"]
    assert entry["document_id"].endswith(",18011/VPCP-TTĐT")  # its own number, not 18010's
    (document,) = [i for i in inbox.json()["items"] if i["document_id"] == first["document_id"]]
    assert (document["business_type"], document["refers_to"]) == (0, None)
