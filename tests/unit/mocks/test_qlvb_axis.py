"""The document endpoint between provinces: what it hands to the bus, and what arrives.

Each test runs on SQLite and on PostgreSQL (the `engine` fixture empties the database). The
bus is `HandoverBus` (tests/fixtures/handovers.py): it records each hand-over as the bus's
store-and-forward would store it.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from formats.edxml import parse_status, render_edxml, render_status
from mocks.config import SystemConfig
from mocks.qlvb.app import create_app
from tests.fixtures.handovers import HandoverBus, bus_access, handing_over
from tests.unit.mocks.test_qlvb_app import (
    assert_fail,
    assert_ok,
    count_documents,
    document_id,
    make_document,
    status_message,
)

pytestmark = pytest.mark.anyio

# Three provinces of the topology; Hậu Giang (93, organs H30) has agencies but is not in it.
PROVINCES = {"91": "kiengiang", "82": "tiengiang", "60": "binhthuan"}
STP, STC, SXD = "000.00.01.H33", "000.00.03.H33", "000.00.02.H33"  # Kiên Giang
TG_STP, TG_STC, TG_SXD = "000.00.01.H58", "000.00.03.H58", "000.00.02.H58"  # Tiền Giang
BT_STP = "000.00.01.H11"  # Bình Thuận
HG_STP = "000.00.01.H30"  # Hậu Giang: outside the topology
XML = {"Content-Type": "application/xml"}


def config(url: str, instance: str, province_code: str, *, bus: bool = True) -> SystemConfig:
    return SystemConfig(
        instance=instance,
        province_code=province_code,
        provinces=PROVINCES,
        seed=7,
        database_url=url,
        **(bus_access(instance, "qlvb") if bus else {}),
    )


@asynccontextmanager
async def running(
    url: str,
    instance: str = "kiengiang",
    province_code: str = "91",
    *,
    bus: bool = True,
    handovers: HandoverBus | None = None,
) -> AsyncIterator[httpx.AsyncClient]:
    async with handing_over(
        create_app,
        config(url, instance, province_code, bus=bus),
        "http://qlvb.test",
        handovers=handovers,
        raise_app_exceptions=False,
    ) as client:
        yield client


@pytest.fixture(name="kg")
async def fx_kg(db_url: str, handovers: HandoverBus) -> AsyncIterator[httpx.AsyncClient]:
    """Kiên Giang's endpoint, with access to the bus."""
    async with running(db_url, handovers=handovers) as client:
        yield client


@pytest.fixture(name="tg_lite")
async def fx_tg_lite(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """Tiền Giang's endpoint on SQLite alone: for messages refused before any SQL."""
    async with running(sqlite_url, "tiengiang", "82") as client:
        yield client


@pytest.fixture(name="tg")
async def fx_tg(db_url: str, handovers: HandoverBus) -> AsyncIterator[httpx.AsyncClient]:
    """Tiền Giang's endpoint, with access to the bus."""
    async with running(db_url, "tiengiang", "82", handovers=handovers) as client:
        yield client


async def send(
    client: httpx.AsyncClient, document: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        "/sendEdoc", content=render_edxml(document), headers={**XML, **headers}
    )


async def report(
    client: httpx.AsyncClient, document: dict[str, Any], reporter: str, code: str
) -> httpx.Response:
    message = status_message(document, reporter, code)
    return await client.post("/updateStatus", content=message, headers=XML)


def remote_status(
    document: dict[str, Any], reporter: str, code: str, at: str = "2025-06-02T10:00:00"
) -> bytes:
    """A status message as another province's endpoint builds it (mocks/qlvb/axis.py)."""
    return render_status(
        {**parse_status(status_message(document, reporter, code)), "timestamp": at}
    )


async def receive_status(
    client: httpx.AsyncClient, message: bytes, key: str | None = None
) -> httpx.Response:
    headers = {**XML, **({"Idempotency-Key": key} if key is not None else {})}
    return await client.post("/receiveStatus", content=message, headers=headers)


async def trace(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    body = assert_ok(await client.post("/getEdocTrace", json={"documentId": document_id(document)}))
    return {delivery["OrganId"]: delivery for delivery in body["trace"]}


async def inbox_ids(client: httpx.AsyncClient, organ_id: str) -> list[str]:
    body = assert_ok(
        await client.post("/getReceivedEdocList", json={"organId": organ_id, "size": 100})
    )
    return [item["documentId"] for item in body["data"]]


# --- the sender's province: documents leave through the outbox ----------------------------------


async def test_a_remote_recipient_is_taken_and_the_document_left_once_for_the_national_axis(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC, TG_STP, BT_STP), number="101")

    sent = assert_ok(await send(kg, document, **{"X-Request-ID": "req-101"}))

    assert sent["Duplicate"] is False
    assert sent["Recipients"] == [
        {"OrganId": organ, "StatusCode": None} for organ in (STC, TG_STP, BT_STP)
    ]
    delivered = await trace(kg, document)
    assert {organ: d["RemoteInstance"] for organ, d in delivered.items()} == {
        STC: None,
        TG_STP: "tiengiang",
        BT_STP: "binhthuan",
    }
    [message] = handovers.handed  # one message, however many provinces: the axis splits
    assert (message.instance, message.client_id, message.request_id) == (
        "kiengiang",
        "system-qlvb",
        "req-101",
    )
    assert (message.service, message.version, message.method, message.path) == (
        "vdxp",
        "v1",
        "POST",
        "/documents",
    )
    assert (message.body, message.content_type) == (render_edxml(document), "application/xml")
    assert message.idempotency_key == f"edoc:kiengiang:{sent['DocId']}"
    assert message.ordering_key == f"edoc:{sent['DocumentId']}"
    assert message.target_instance is None


async def test_a_document_in_transit_is_in_no_inbox_here_but_the_local_ones(
    kg: httpx.AsyncClient,
) -> None:
    document = make_document(to=(STC, TG_STP), number="102")

    assert_ok(await send(kg, document))

    assert document_id(document) in await inbox_ids(kg, STC)
    assert_fail(
        await kg.post("/getReceivedEdocList", json={"organId": TG_STP}), 422, "OTHER_PROVINCE"
    )


async def test_a_send_without_a_request_id_gets_a_fresh_one(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    assert_ok(await send(kg, make_document(to=(TG_STP,), number="103")))

    [message] = handovers.handed
    assert re.fullmatch(r"[0-9a-f]{32}", message.request_id)


async def test_a_document_for_this_province_only_leaves_nothing_in_the_outbox(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    assert_ok(await send(kg, make_document(to=(STC, SXD), number="104")))

    assert handovers.handed == []


async def test_a_resend_leaves_nothing_new_in_the_outbox(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="105")
    first = assert_ok(await send(kg, document))

    again = assert_ok(await send(kg, document))
    retyped = assert_ok(
        await send(kg, {**document, "promulgation": {"place": "X", "date": "2025-06-01"}})
    )

    assert again["Duplicate"] is retyped["Duplicate"] is True
    assert again["DocId"] == retyped["DocId"] == first["DocId"]
    assert len(handovers.handed) == 1


async def test_ten_concurrent_identical_sends_leave_one_message(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="106")

    answers = await asyncio.gather(*(send(kg, document) for _ in range(10)))

    assert sorted(assert_ok(answer)["Duplicate"] for answer in answers) == [False] + [True] * 9
    assert len(handovers.handed) == 1


@pytest.mark.parametrize(
    ("refusal", "status"),
    [pytest.param(503, 502, id="bus-answers-503"), pytest.param(403, 502, id="no-right")],
)
async def test_a_send_the_bus_did_not_take_is_not_stored(
    kg: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    database_url: str,
    refusal: int,
    status: int,
) -> None:
    """The hand-over is inside the send's transaction: no 202 from the bus, no document."""
    handovers.refuse_with = refusal
    before = await count_documents(database_url)

    body = assert_fail(
        await send(kg, make_document(to=(TG_STP,), number="107")), status, "BUS_UNAVAILABLE"
    )

    assert "Nothing was changed" in body["ErrorDesc"]
    assert await count_documents(database_url) == before
    assert handovers.handed == []


@pytest.mark.parametrize(
    ("to", "error_code", "hint"),
    [
        pytest.param((STC, HG_STP), "OTHER_PROVINCE", "topology", id="province-outside-topology"),
        pytest.param((TG_STP, "000.00.99.H58"), "UNKNOWN_ORGAN", "No agency", id="unknown-organ"),
    ],
)
async def test_a_recipient_the_axis_cannot_reach_is_refused_and_nothing_leaves(
    kg: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    database_url: str,
    to: tuple[str, ...],
    error_code: str,
    hint: str,
) -> None:
    before = await count_documents(database_url)

    body = assert_fail(await send(kg, make_document(to=to, number="108")), 422, error_code)

    assert body["OrganIds"] == [to[-1]]
    assert hint in body["ErrorDesc"]
    assert await count_documents(database_url) == before
    assert handovers.handed == []


async def test_without_bus_access_a_remote_recipient_is_refused_as_before(
    database_url: str, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    async with running(database_url, bus=False) as kg:
        before = await count_documents(database_url)
        body = assert_fail(
            await send(kg, make_document(to=(STC, TG_STP), number="109")), 422, "OTHER_PROVINCE"
        )

    assert body["OrganIds"] == [TG_STP]
    assert "no access to the bus" in body["ErrorDesc"]
    assert await count_documents(database_url) == before
    assert handovers.handed == []


# --- the sender's province: statuses come back ----------------------------------------------


async def test_a_remote_recipients_statuses_move_its_trace_on_with_the_messages_time(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC, TG_STP), number="201")
    assert_ok(await send(kg, document))

    for step, code in enumerate(("01", "03", "05", "06")):
        message = remote_status(document, TG_STP, code, at=f"2025-06-02T1{step}:00:00")
        answer = assert_ok(await receive_status(kg, message, key=f"k-201-{code}"))
        assert answer["Duplicate"] is False

    delivered = (await trace(kg, document))[TG_STP]
    notices = assert_ok(
        await kg.post("/getReceivedEdocList", json={"organId": STP, "messagetype": "status"})
    )
    assert delivered["StatusCode"] == "06"
    assert [(h["StatusCode"], h["Timestamp"]) for h in delivered["History"]] == [
        ("01", "2025-06-02T10:00:00"),
        ("03", "2025-06-02T11:00:00"),
        ("05", "2025-06-02T12:00:00"),
        ("06", "2025-06-02T13:00:00"),
    ]
    assert {h["ReportedBy"] for h in delivered["History"]} == {TG_STP}
    assert [n["statusCode"] for n in notices["data"] if n["recipient"] == TG_STP][:1] == ["06"]
    assert [m.path for m in handovers.handed] == ["/documents"]  # statuses do not echo


@pytest.mark.parametrize(
    "second_key",
    [pytest.param("k-1", id="same-key"), pytest.param("k-2", id="new-key-same-message")],
)
async def test_a_redelivered_status_answers_duplicate_and_changes_nothing(
    kg: httpx.AsyncClient, second_key: str
) -> None:
    document = make_document(to=(TG_STP,), number="202")
    assert_ok(await send(kg, document))
    message = remote_status(document, TG_STP, "01")
    assert_ok(await receive_status(kg, message, key="k-1"))

    again = await receive_status(kg, message, key=second_key)

    assert assert_ok(again)["Duplicate"] is True  # not a 409: the worker must not give up
    assert again.json()["Recipients"] == [{"OrganId": TG_STP, "StatusCode": "01"}]
    assert len((await trace(kg, document))[TG_STP]["History"]) == 1


async def test_a_status_without_a_key_is_recognised_by_its_content(
    kg: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP,), number="203")
    assert_ok(await send(kg, document))
    message = remote_status(document, TG_STP, "01")

    first = assert_ok(await receive_status(kg, message))
    second = assert_ok(await receive_status(kg, message))

    assert (first["Duplicate"], second["Duplicate"]) == (False, True)


@pytest.mark.parametrize("key", [None, "k-same"])
async def test_concurrent_deliveries_of_one_status_apply_it_once_and_answer_2xx(
    kg: httpx.AsyncClient, key: str | None
) -> None:
    document = make_document(to=(TG_STP,), number="210")
    assert_ok(await send(kg, document))
    message = remote_status(document, TG_STP, "01")

    answers = await asyncio.gather(*(receive_status(kg, message, key=key) for _ in range(6)))

    assert sorted(assert_ok(answer)["Duplicate"] for answer in answers) == [False] + [True] * 5
    assert len((await trace(kg, document))[TG_STP]["History"]) == 1


async def test_a_key_reused_for_another_message_is_refused(kg: httpx.AsyncClient) -> None:
    document = make_document(to=(TG_STP,), number="204")
    assert_ok(await send(kg, document))
    assert_ok(await receive_status(kg, remote_status(document, TG_STP, "01"), key="k-204"))

    response = await receive_status(kg, remote_status(document, TG_STP, "03"), key="k-204")

    assert_fail(response, 422, "IDEMPOTENCY_KEY_REUSED")
    assert (await trace(kg, document))[TG_STP]["StatusCode"] == "01"


async def test_an_illegal_remote_status_is_refused_and_leaves_its_key_unused(
    kg: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP,), number="205")
    assert_ok(await send(kg, document))
    early = remote_status(document, TG_STP, "03", at="2025-06-02T11:00:00")

    refused = assert_fail(await receive_status(kg, early, key="k-205"), 409, "ILLEGAL_STATUS")
    assert_ok(await receive_status(kg, remote_status(document, TG_STP, "01"), key="k-205a"))
    retried = assert_ok(await receive_status(kg, early, key="k-205"))

    assert (refused["CurrentStatus"], refused["AllowedStatusCodes"]) == (None, ["01"])
    assert retried["Duplicate"] is False
    assert (await trace(kg, document))[TG_STP]["StatusCode"] == "03"


async def test_a_sender_recall_reaching_a_remote_delivery_is_left_for_the_axis(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC, TG_STP), number="206")
    sent = assert_ok(await send(kg, document))
    assert_ok(await receive_status(kg, remote_status(document, TG_STP, "01")))
    assert_ok(await report(kg, document, STC, "01"))

    answer = assert_ok(await report(kg, document, STP, "13"))

    assert answer["Recipients"] == [
        {"OrganId": TG_STP, "StatusCode": "13"},
        {"OrganId": STC, "StatusCode": "13"},
    ]
    _document, message = handovers.handed  # one message, for the remote delivery
    status = parse_status(message.body)
    assert (message.service, message.path, message.content_type) == (
        "vdxp",
        "/statuses",
        "application/xml",
    )
    assert (status["from"]["organ_id"], status["status_code"]) == (STP, "13")
    assert status["response_for"]["document_id"] == sent["DocumentId"]
    assert message.idempotency_key == f"status:kiengiang:{sent['DocId']}:{TG_STP}:13:2"
    assert message.ordering_key == f"edoc:{sent['DocumentId']}"


async def test_a_status_between_agencies_of_this_province_stays_here(
    kg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC,), number="207")
    assert_ok(await send(kg, document))

    for code in ("01", "03"):
        assert_ok(await report(kg, document, STC, code))
    assert_ok(await report(kg, document, STP, "13"))

    assert handovers.handed == []


@pytest.mark.parametrize(
    ("reporter", "status", "error_code"),
    [
        pytest.param(STC, 422, "LOCAL_REPORTER", id="reporter-of-this-province"),
        pytest.param("000.00.99.H58", 422, "UNKNOWN_ORGAN", id="unknown-reporter"),
        pytest.param(TG_STC, 403, "NOT_A_PARTY", id="remote-organ-not-a-recipient"),
    ],
)
async def test_a_status_from_no_remote_party_is_refused(
    kg: httpx.AsyncClient, reporter: str, status: int, error_code: str
) -> None:
    document = make_document(to=(STC, TG_STP), number="208")
    assert_ok(await send(kg, document))

    assert_fail(
        await receive_status(kg, remote_status(document, reporter, "01")), status, error_code
    )
    assert all(d["History"] == [] for d in (await trace(kg, document)).values())


async def test_a_status_for_a_document_never_sent_is_not_found(kg: httpx.AsyncClient) -> None:
    never_sent = make_document(to=(TG_STP,), number="209")

    assert_fail(
        await receive_status(kg, remote_status(never_sent, TG_STP, "01")), 404, "DOCUMENT_NOT_FOUND"
    )


async def test_another_provinces_agency_cannot_report_through_update_status(
    kg: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP,), number="210")
    assert_ok(await send(kg, document))

    body = assert_fail(await report(kg, document, TG_STP, "01"), 422, "OTHER_PROVINCE")

    assert body["OrganIds"] == [TG_STP]
    assert (await trace(kg, document))[TG_STP]["History"] == []


# --- the recipient's province: documents arrive ------------------------------------------------


async def receive(client: httpx.AsyncClient, document: dict[str, Any]) -> httpx.Response:
    return await client.post("/receiveEdoc", content=render_edxml(document), headers=XML)


async def test_a_document_from_another_province_reaches_each_of_our_recipients(
    tg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC, TG_STP, TG_SXD, BT_STP), number="301")

    answer = assert_ok(await receive(tg, document))
    fetched = await tg.post("/getEdoc", json={"docId": answer["DocId"]})

    assert answer["Duplicate"] is False
    assert answer["Recipients"] == [  # ours only: the others get their own copy
        {"OrganId": TG_STP, "StatusCode": None},
        {"OrganId": TG_SXD, "StatusCode": None},
    ]
    assert answer["DocumentId"] == document_id(document)
    assert document_id(document) in await inbox_ids(tg, TG_STP)
    assert document_id(document) in await inbox_ids(tg, TG_SXD)
    assert fetched.content == render_edxml(document)
    assert handovers.handed == []  # taking a document sends nothing on


async def test_a_redelivered_document_never_makes_a_second_inbox_entry(
    tg: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP,), number="302")

    answers = [assert_ok(await receive(tg, document)) for _ in range(3)]
    concurrent = await asyncio.gather(*(receive(tg, document) for _ in range(5)))

    assert [a["Duplicate"] for a in answers] == [False, True, True]
    assert all(assert_ok(a)["Duplicate"] is True for a in concurrent)
    assert len({a["DocId"] for a in answers}) == 1
    assert (await inbox_ids(tg, TG_STP)).count(document_id(document)) == 1


@pytest.mark.parametrize(
    ("sender", "to", "error_code"),
    [
        pytest.param(TG_STC, (TG_STP,), "LOCAL_SENDER", id="sender-of-this-province"),
        pytest.param("000.00.99.H33", (TG_STP,), "UNKNOWN_SENDER", id="unknown-sender"),
        pytest.param(STP, (STC, BT_STP), "NO_RECIPIENT_HERE", id="no-recipient-here"),
    ],
)
async def test_a_document_this_province_should_not_take_is_refused(
    tg: httpx.AsyncClient, database_url: str, sender: str, to: tuple[str, ...], error_code: str
) -> None:
    before = await count_documents(database_url, "tiengiang")

    response = await receive(tg, make_document(sender=sender, to=to, number="303"))

    assert_fail(response, 422, error_code)
    assert await count_documents(database_url, "tiengiang") == before


async def test_without_bus_access_nothing_is_taken_from_another_province(
    database_url: str, engine: AsyncEngine
) -> None:
    async with running(database_url, "tiengiang", "82", bus=False) as tg:
        response = await receive(tg, make_document(to=(TG_STP,), number="304"))

    assert_fail(response, 503, "NOT_CONNECTED")


# --- the recipient's province: statuses go back ---------------------------------------------


async def test_each_status_reported_here_on_another_provinces_document_is_left_for_the_axis(
    tg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP, TG_SXD), number="401")
    received = assert_ok(await receive(tg, document))

    for code in ("01", "03"):
        assert_ok(await report(tg, document, TG_STP, code))
    assert_ok(await report(tg, document, TG_SXD, "01"))

    messages = handovers.handed
    keys = [m.idempotency_key for m in messages]
    assert keys == [
        f"status:tiengiang:{received['DocId']}:{TG_STP}:01:1",
        f"status:tiengiang:{received['DocId']}:{TG_STP}:03:2",
        f"status:tiengiang:{received['DocId']}:{TG_SXD}:01:1",
    ]
    assert {(m.service, m.version, m.method, m.path) for m in messages} == {
        ("vdxp", "v1", "POST", "/statuses")
    }
    assert {m.ordering_key for m in messages} == {f"edoc:{document_id(document)}"}
    first = parse_status(messages[0].body)
    assert first["response_for"] == {
        "organ_id": STP,
        "code": "401/STP-TEST",
        "promulgation_date": "2025-06-02",
        "document_id": document_id(document),
    }
    assert (first["from"]["organ_id"], first["status_code"], first["timestamp"]) == (
        TG_STP,
        "01",
        "2025-06-02T09:20:00",
    )
    assert first["staff_info"]["staff"] == "Lê Thị Tú"


async def test_a_refused_status_leaves_nothing_in_the_outbox(
    tg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="402")
    assert_ok(await receive(tg, document))

    assert_fail(await report(tg, document, TG_STP, "03"), 409, "ILLEGAL_STATUS")

    assert handovers.handed == []


async def test_a_recall_from_the_remote_sender_applies_and_the_answer_goes_back(
    tg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="403")
    assert_ok(await receive(tg, document))
    assert_ok(await report(tg, document, TG_STP, "01"))

    recalled = assert_ok(await receive_status(tg, remote_status(document, STP, "13"), key="r-1"))
    refused_recall = assert_ok(await report(tg, document, TG_STP, "16"))

    assert recalled["Recipients"] == [{"OrganId": TG_STP, "StatusCode": "13"}]
    assert refused_recall["Recipients"] == [{"OrganId": TG_STP, "StatusCode": "01"}]
    assert [parse_status(m.body)["status_code"] for m in handovers.handed] == ["01", "16"]


async def test_a_status_on_a_document_of_this_province_stays_here(
    tg: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(sender=TG_STC, to=(TG_STP,), number="404")
    assert_ok(await send(tg, document))

    assert_ok(await report(tg, document, TG_STP, "01"))

    assert handovers.handed == []


# --- malformed and oversized messages -------------------------------------------------------


@pytest.mark.parametrize("path", ["/receiveEdoc", "/receiveStatus"])
@pytest.mark.parametrize(
    ("data", "rule"),
    [
        pytest.param(b"<edXML/>", "not_edxml", id="not-edxml"),
        pytest.param(b"<a>", "not_well_formed", id="not-well-formed"),
        pytest.param(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "dtd_forbidden", id="dtd"),
    ],
)
async def test_malformed_xml_from_another_province_is_refused(
    tg_lite: httpx.AsyncClient, path: str, data: bytes, rule: str
) -> None:
    response = await tg_lite.post(path, content=data, headers=XML)

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == rule


@pytest.mark.parametrize(
    ("path", "size"),
    [("/receiveEdoc", 20 * 1024 * 1024 + 1), ("/receiveStatus", 256 * 1024 + 1)],
)
async def test_an_oversized_message_is_refused_unread(
    tg_lite: httpx.AsyncClient, path: str, size: int
) -> None:
    response = await tg_lite.post(path, content=b" " * size, headers=XML)

    assert_fail(response, 413, "TOO_LARGE")


@pytest.mark.parametrize("path", ["/receiveEdoc", "/receiveStatus"])
async def test_a_message_of_another_media_type_is_refused(
    tg_lite: httpx.AsyncClient, path: str
) -> None:
    response = await tg_lite.post(path, content=b"{}", headers={"Content-Type": "application/json"})

    assert_fail(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize("key", ["", "a b", "k" * 201, "ký"])
async def test_an_invalid_idempotency_key_is_refused(tg_lite: httpx.AsyncClient, key: str) -> None:
    document = make_document(to=(TG_STP,), number="501")
    message = remote_status(document, STP, "13")

    response = await tg_lite.post(
        "/receiveStatus",
        content=message,
        headers={**XML, "Idempotency-Key": key.encode()},
    )

    assert_fail(response, 400, "INVALID_IDEMPOTENCY_KEY")
