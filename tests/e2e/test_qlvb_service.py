"""The qlvb service through the whole gateway: documents between Kiên Giang's agencies.

Needs the service wired in (the `qlvb` mock in each province's topology, `QlvbAdapter` in
`adapters.ADAPTERS`); runs on SQLite and, with LGSP_TEST_DATABASE_URL set, on PostgreSQL.
"""

from __future__ import annotations

import base64
import threading
import time
from typing import Any

import httpx
import pytest

import adapters.qlvb
import mocks.vdxp.sdk
from adapters import CONTRACTS
from formats.edxml import Reading, parse_edxml, read_edxml, render_edxml, validate_document
from kit.offload import OFF_LOOP_BYTES
from mocks.directory.agencies import AGENCIES
from tests.fixtures import answers
from tests.fixtures.bus import KG, bearer
from tests.fixtures.documents import canonical_document

pytestmark = pytest.mark.anyio

DOCUMENTS = f"{KG}/qlvb/v1/documents"
TG_DOCUMENTS = "/lgsp/tiengiang/qlvb/v1/documents"
# From the organisation directory, not typed in: Ủy ban nhân dân tỉnh, Sở Tư pháp, Sở Xây dựng,
# Sở Tài chính of Kiên Giang ("91"), and Sở Tư pháp of Tiền Giang ("82").
UBND, STP, SXD, STC = (agency.organ_id for agency in AGENCIES["91"][:4])
TIEN_GIANG_STP = AGENCIES["82"][1].organ_id


def organisation(organ_id: str) -> dict[str, str]:
    names = {agency.organ_id: agency.name for agencies in AGENCIES.values() for agency in agencies}
    return {"organ_id": organ_id, "organ_name": names.get(organ_id, "Cơ quan không có thật")}


def make_document(
    *, sender: str = STP, to: tuple[str, ...] = (STC,), number: str = "101"
) -> dict[str, Any]:
    return {
        **canonical_document(
            number,
            [organisation(organ) for organ in to],
            sender=sender,
            sender_name=organisation(sender)["organ_name"],
            notation="STP-E2E",
            subject="V/v phối hợp thẩm định văn bản quy phạm pháp luật",
        ),
        "attachments": [
            {
                "content_id": "du-thao-1",
                "attachment_name": "du-thao.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4 du thao\n").decode(),
            }
        ],
    }


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    body = answers.assert_problem(response, status, code)
    assert "phối hợp" not in body["detail"]  # never the document's content
    return body


def conforms(operation: str, response: httpx.Response) -> dict[str, Any]:
    contract = CONTRACTS["qlvb"][operation]
    assert response.status_code == contract.status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    contract.response.model_validate(body)
    return body


async def send(
    client: httpx.AsyncClient, token: str, document: dict[str, Any], base: str = DOCUMENTS
) -> httpx.Response:
    return await client.post(base, json=document, headers=bearer(token))


async def post_status(
    client: httpx.AsyncClient, token: str, key: str, organ_id: str, code: str
) -> httpx.Response:
    body = {
        "organ_id": organ_id,
        "status_code": code,
        "description": f"Trạng thái {code}",
        "staff_info": {"department": "Văn phòng", "staff": "Lê Thị Tú"},
    }
    return await client.post(f"{DOCUMENTS}/{key}/status", json=body, headers=bearer(token))


async def inbox(client: httpx.AsyncClient, token: str, organ_id: str) -> dict[str, Any]:
    response = await client.get(
        f"{DOCUMENTS}/inbox", params={"organ_id": organ_id, "size": 100}, headers=bearer(token)
    )
    return conforms("get_inbox", response)


async def test_a_json_document_travels_from_sender_to_recipient_and_its_statuses_back(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    document = make_document()

    sent = conforms("send_document", await send(client, demo_token, document))
    received = await inbox(client, demo_token, STC)
    for code in ("01", "03", "04", "05", "06"):
        recorded = conforms(
            "post_status", await post_status(client, demo_token, sent["id"], STC, code)
        )
        assert recorded["recipients"] == [{"organ_id": STC, "status": code}]
    fetched = conforms(
        "get_document", await client.get(f"{DOCUMENTS}/{sent['id']}", headers=bearer(demo_token))
    )

    assert sent["document_id"] == "000.00.01.H33,2025/06/02,101/STP-E2E"
    assert (sent["recipients"], sent["duplicate"]) == ([{"organ_id": STC, "status": None}], False)
    [item] = [item for item in received["items"] if item["id"] == sent["id"]]
    assert (item["from"]["organ_id"], item["subject"], item["status"]) == (
        STP,
        document["subject"],
        None,
    )
    assert fetched["document"] == validate_document(document)
    [recipient] = fetched["recipients"]
    assert recipient["status"] == "06"
    assert [(h["status_code"], h["status_name"]) for h in recipient["history"]] == [
        ("01", "ARRIVED"),
        ("03", "ACCEPTED"),
        ("04", "ASSIGNED"),
        ("05", "PROCESSING"),
        ("06", "DONE"),
    ]
    assert recipient["history"][0]["staff_info"]["staff"] == "Lê Thị Tú"


async def test_an_edxml_document_is_delivered_as_sent(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    data = render_edxml(make_document(sender=UBND, to=(SXD, STC), number="7"))

    response = await client.post(
        DOCUMENTS, content=data, headers={**bearer(demo_token), "Content-Type": "application/xml"}
    )
    sent = conforms("send_document", response)
    fetched = conforms(
        "get_document", await client.get(f"{DOCUMENTS}/{sent['id']}", headers=bearer(demo_token))
    )

    assert fetched["document"] == parse_edxml(data)
    assert [r["organ_id"] for r in fetched["recipients"]] == [SXD, STC]
    assert sent["id"] in {item["id"] for item in (await inbox(client, demo_token, SXD))["items"]}


async def test_sending_the_same_document_again_answers_the_same_id_and_delivers_nothing(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    document = make_document(number="202")
    first = conforms("send_document", await send(client, demo_token, document))
    await post_status(client, demo_token, first["id"], STC, "01")
    before = (await inbox(client, demo_token, STC))["total"]

    again = conforms("send_document", await send(client, demo_token, document))

    assert (again["id"], again["duplicate"]) == (first["id"], True)
    assert again["recipients"] == [{"organ_id": STC, "status": "01"}]
    assert (await inbox(client, demo_token, STC))["total"] == before


async def test_an_illegal_status_is_a_conflict_naming_what_may_follow(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = conforms("send_document", await send(client, demo_token, make_document(number="303")))
    await post_status(client, demo_token, sent["id"], STC, "01")

    response = await post_status(client, demo_token, sent["id"], STC, "06")

    body = assert_problem(response, 409, "ILLEGAL_STATUS_TRANSITION")
    assert (body["current_status"], body["allowed_status_codes"]) == ("01", ["02", "03"])


async def test_the_sender_recalls_and_the_recipient_refuses_so_work_resumes(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = conforms("send_document", await send(client, demo_token, make_document(number="404")))
    for code in ("01", "03"):
        await post_status(client, demo_token, sent["id"], STC, code)

    recalled = conforms("post_status", await post_status(client, demo_token, sent["id"], STP, "13"))
    refused = conforms("post_status", await post_status(client, demo_token, sent["id"], STC, "16"))

    assert recalled["recipients"] == [{"organ_id": STC, "status": "13"}]
    assert refused["recipients"] == [{"organ_id": STC, "status": "03"}]


async def test_a_recipient_outside_every_province_directory_is_refused_clearly(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    unknown = "000.00.99.H33"
    response = await send(client, demo_token, make_document(to=(STC, unknown), number="505"))

    body = assert_problem(response, 422, "UNKNOWN_RECIPIENT")
    assert body["organ_ids"] == [unknown]
    delivered = (await inbox(client, demo_token, STC))["items"]
    assert not any(",505/" in item["document_id"] for item in delivered)


async def test_an_unknown_recipient_under_another_provinces_code_is_not_called_this_provinces(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    unknown = "000.00.99.H58"  # Tiền Giang's letter code, no agency of it: from Kiên Giang
    response = await send(client, demo_token, make_document(to=(unknown,), number="506"))

    body = assert_problem(response, 422, "UNKNOWN_RECIPIENT")
    assert body["organ_ids"] == [unknown]
    assert "of this province has" not in body["detail"]
    assert "nor of another province the bus serves" in body["detail"]


async def test_a_recipient_in_another_province_is_accepted_beside_the_local_ones(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    response = await send(client, demo_token, make_document(to=(STC, TIEN_GIANG_STP), number="515"))

    sent = conforms("send_document", response)
    assert {r["organ_id"]: r["status"] for r in sent["recipients"]} == {
        STC: None,
        TIEN_GIANG_STP: None,
    }
    delivered_here = (await inbox(client, demo_token, STC))["items"]
    assert [item["id"] for item in delivered_here].count(sent["id"]) == 1


async def test_an_organisation_outside_the_exchange_may_not_report_a_status(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = conforms("send_document", await send(client, demo_token, make_document(number="606")))

    assert_problem(await post_status(client, demo_token, sent["id"], SXD, "01"), 403, "NOT_A_PARTY")


async def test_each_province_keeps_its_own_documents(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = conforms("send_document", await send(client, demo_token, make_document(number="707")))
    tg_token = (
        await client.post(
            "/lgsp/tiengiang/token",
            data={"grant_type": "client_credentials"},
            auth=("demo", "lgsp-demo-secret"),
        )
    ).json()["access_token"]

    elsewhere = await client.get(f"{TG_DOCUMENTS}/{sent['id']}", headers=bearer(tg_token))

    assert_problem(elsewhere, 404, "DOCUMENT_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("GET", "/bm90LWEtZG9j", {}, 404, "DOCUMENT_NOT_FOUND"),
        ("POST", "", {"content": b"x", "headers": {"Content-Type": "text/plain"}}, 415,
         "UNSUPPORTED_MEDIA_TYPE"),
        ("POST", "", {"json": {"subject": "thiếu trường"}}, 422, "INVALID_EDXML"),
        ("GET", "/inbox", {"params": {"organ_id": "H33"}}, 422, "INVALID_INBOX_QUERY"),
        ("POST", "/MDAwLjAwLjAxLkgzMywyMDI1LzA2LzAyLDEwMS9TVFAtRTJF/status",
         {"json": {"organ_id": STC}}, 422, "INVALID_STATUS_REQUEST"),
    ],
)  # fmt: skip
async def test_bad_requests_are_problems_with_stable_codes(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    path: str,
    kwargs: dict[str, Any],
    status: int,
    code: str,
) -> None:
    headers = {**bearer(demo_token), **kwargs.pop("headers", {})}

    response = await client.request(method, f"{DOCUMENTS}{path}", headers=headers, **kwargs)

    assert_problem(response, status, code)


async def test_the_seeded_documents_are_there_for_a_demo(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    seeded = await inbox(client, demo_token, UBND)

    assert seeded["total"] >= 2
    assert {item["from"]["organ_id"] for item in seeded["items"]} >= {STP}


async def test_a_large_document_is_parsed_off_the_event_loop_at_the_gateway_and_the_system(
    client: httpx.AsyncClient, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every instance shares the loop: a 20 MiB document parsed on it stalls them all (F7)."""
    document = make_document(number="8")
    document["attachments"][0]["content_base64"] = base64.b64encode(b"%PDF" * 2**17).decode()
    data = render_edxml(document)
    assert len(data) >= OFF_LOOP_BYTES
    threads: dict[str, int] = {}
    for where, module in (("gateway", adapters.qlvb), ("system", mocks.vdxp.sdk)):

        def parse(body: bytes, *, where: str = where, **options: Any) -> Reading:
            threads[where] = threading.get_ident()
            return read_edxml(body, **options)

        monkeypatch.setattr(module, "read_edxml", parse)

    response = await client.post(
        DOCUMENTS, content=data, headers={**bearer(demo_token), "Content-Type": "application/xml"}
    )

    conforms("send_document", response)
    assert set(threads) == {"gateway", "system"}
    assert threading.get_ident() not in threads.values()


async def test_a_subject_of_6_mib_is_refused_422_naming_the_field(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """SECURITY-PROBE-2026-12 F12: four such documents made the agency's inbox answer 502."""
    document = make_document(number="10")
    subject = document["subject"].encode()
    data = render_edxml(document).replace(subject, b"x" * (6 * 1024 * 1024))

    response = await client.post(
        DOCUMENTS, content=data, headers={**bearer(demo_token), "Content-Type": "application/xml"}
    )

    assert_problem(response, 422, "INVALID_EDXML")
    assert response.json()["rule"] == "too_long"
    assert response.json()["detail"] == "MessageHeader/Subject is longer than 1000 characters."


async def test_a_start_tag_of_many_attributes_is_refused_422_without_stalling_the_bus(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    data = b"<edXML " + b" ".join(b'a%d="1"' % i for i in range(1_500_000)) + b"/>"
    started = time.process_time()

    response = await client.post(
        DOCUMENTS, content=data, headers={**bearer(demo_token), "Content-Type": "application/xml"}
    )

    assert_problem(response, 422, "INVALID_EDXML")
    assert response.json()["rule"] == "markup_too_long"
    assert time.process_time() - started < 2  # CPU s; 8 s on the event loop before (probe F7)


async def test_an_empty_json_document_names_every_missing_field_in_errors(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """As dvc and dancu do: one answer lists every problem, not the first one."""
    response = await send(client, demo_token, {})

    body = assert_problem(response, 422, "INVALID_EDXML")
    missing = [tuple(error["loc"]) for error in body["errors"]]
    assert missing == [
        ("body", key)
        for key in (
            "from", "to", "code", "promulgation", "document_type", "subject", "signer",
            "other_info",
        )
    ]  # fmt: skip
    assert {error["type"] for error in body["errors"]} == {"missing"}
    assert body["rule"] == "missing_field"


async def test_a_document_lacking_fields_of_its_records_names_each_of_them(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    document = make_document()
    del document["from"]["organ_name"], document["signer"]["full_name"], document["subject"]

    response = await send(client, demo_token, document)

    body = assert_problem(response, 422, "INVALID_EDXML")
    assert [error["loc"] for error in body["errors"]] == [
        ["body", "from", "organ_name"],
        ["body", "subject"],
        ["body", "signer", "full_name"],
    ]
