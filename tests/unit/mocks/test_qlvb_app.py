"""The document exchange mock's own API, standalone: VDXP calls, edXML bodies, its own errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from formats.edxml import (
    InvalidEdxml,
    parse_edxml,
    parse_status,
    render_edxml,
    render_status,
    validate_document,
)
from lgsp.db import make_engine, make_session_factory
from mocks.config import SystemConfig
from mocks.qlvb.app import create_app
from mocks.qlvb.store import DocumentStore
from mocks.vdxp.sdk import refuse_future_dated
from tests.fixtures.apps import serving
from tests.fixtures.documents import NOW, canonical_document, response_for

pytestmark = pytest.mark.anyio

# Kiên Giang's agencies (mocks/directory/agencies.py): 000.00.0N.H33.
UBND, STP, SXD, STC = "000.00.00.H33", "000.00.01.H33", "000.00.02.H33", "000.00.03.H33"
TIEN_GIANG_STP = "000.00.01.H58"
XML = {"Content-Type": "application/xml"}


def make_document(
    *, sender: str = STP, to: tuple[str, ...] = (STC,), number: str = "15", **changes: Any
) -> dict[str, Any]:
    document: dict[str, Any] = {
        **canonical_document(
            number,
            [{"organ_id": organ, "organ_name": "Cơ quan nhận"} for organ in to],
            sender=sender,
            notation="STP-TEST",
            subject="V/v thử nghiệm trục liên thông văn bản",
        ),
        **changes,
    }
    return document


def document_id(document: dict[str, Any]) -> str:
    value: str = validate_document(document)["document_id"]
    return value


def status_message(document: dict[str, Any], reporter: str, code: str) -> bytes:
    return render_status(
        {
            "response_for": response_for(document),
            "from": {"organ_id": reporter, "organ_name": "Cơ quan báo trạng thái"},
            "status_code": code,
            "description": f"Trạng thái {code}",
            "timestamp": "2025-06-02T09:20:00",
            "staff_info": {"department": "Văn thư", "staff": "Lê Thị Tú"},
        }
    )


def assert_ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["ErrorCode"], body["ErrorDesc"]) == ("OK", "0", "")
    return body


def assert_fail(response: httpx.Response, status: int, error_code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert (body["status"], body["ErrorCode"]) == ("FAIL", error_code)
    assert "thử nghiệm" not in body["ErrorDesc"]  # never the document's content
    return body


def config(url: str, instance: str = "kiengiang", seed: int = 7) -> SystemConfig:
    return SystemConfig(instance=instance, province_code="91", seed=seed, database_url=url)


@pytest.fixture(name="url")
def fx_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}"


@asynccontextmanager
async def running(system: SystemConfig) -> AsyncIterator[httpx.AsyncClient]:
    """QLVB on `system`, its clock stopped at `NOW`."""
    async with serving(create_app(system, now=lambda: NOW), "http://qlvb.test") as client:
        yield client


@pytest.fixture(name="client")
async def fx_client(url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(config(url)) as client:
        yield client


@pytest.fixture(name="any_client")
async def fx_any_client(database_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    """The mock on SQLite, and on PostgreSQL when LGSP_TEST_DATABASE_URL is set (wiped first)."""
    async with running(config(database_url)) as client:
        yield client


async def send(client: httpx.AsyncClient, document: dict[str, Any]) -> httpx.Response:
    return await client.post("/sendEdoc", content=render_edxml(document), headers=XML)


async def report(
    client: httpx.AsyncClient, document: dict[str, Any], reporter: str, code: str
) -> httpx.Response:
    return await client.post(
        "/updateStatus", content=status_message(document, reporter, code), headers=XML
    )


async def sent_and_reported(
    client: httpx.AsyncClient, document: dict[str, Any], *codes: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sends `document`, then has its recipient STC report each status code in turn."""
    sent = assert_ok(await send(client, document))
    for code in codes:
        assert_ok(await report(client, document, STC, code))
    return document, sent


async def inbox(
    client: httpx.AsyncClient, organ_id: str, messagetype: str = "edoc", **page: int
) -> dict[str, Any]:
    body = {"organId": organ_id, "messagetype": messagetype, **page}
    return assert_ok(await client.post("/getReceivedEdocList", json=body))


async def trace(client: httpx.AsyncClient, doc_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = assert_ok(
        await client.post("/getEdocTrace", json={"docId": doc_id})
    )["trace"]
    return found


async def count_documents(url: str, instance: str = "kiengiang") -> int:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            return await DocumentStore(session, instance).count()
    finally:
        await engine.dispose()


# --- the happy path -------------------------------------------------------------------------


async def test_sent_document_reaches_the_inbox_and_is_served_exactly_as_sent(
    client: httpx.AsyncClient,
) -> None:
    document = make_document(to=(STC, SXD))
    data = render_edxml(document)

    sent = assert_ok(await client.post("/sendEdoc", content=data, headers=XML))
    listed = await inbox(client, STC)
    fetched = await client.post("/getEdoc", json={"docId": sent["DocId"], "filePath": "xml"})

    assert sent["DocumentId"] == document_id(document)
    assert sent["Duplicate"] is False
    assert sent["Recipients"] == [
        {"OrganId": STC, "StatusCode": None},
        {"OrganId": SXD, "StatusCode": None},
    ]
    item = listed["data"][0]  # newest first
    assert (item["id"], item["messageType"], item["serviceType"]) == (sent["DocId"], "edoc", "eDoc")
    assert (item["from"], item["to"], item["statusCode"]) == (STP, STC, None)
    assert item["subject"] == document["subject"]
    assert item["fromOrganization"]["OrganId"] == STP
    assert item["createdTime"] == NOW.isoformat()
    assert item["contentLength"] == len(data)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "application/xml"
    assert fetched.content == data


async def test_get_edoc_in_json_gives_the_edxml_and_the_trace_in_one_answer(
    client: httpx.AsyncClient,
) -> None:
    document, sent = await sent_and_reported(client, make_document(), "01")

    by_document_id = assert_ok(
        await client.post("/getEdoc", json={"documentId": sent["DocumentId"], "format": "json"})
    )

    assert by_document_id["DocId"] == sent["DocId"]
    assert parse_edxml(by_document_id["edxml"].encode()) == validate_document(document)
    assert by_document_id["trace"][0]["OrganId"] == STC
    assert by_document_id["trace"][0]["StatusCode"] == "01"


async def test_recipient_takes_a_document_from_arrival_to_done_and_the_sender_sees_each_step(
    client: httpx.AsyncClient,
) -> None:
    document = make_document()
    sent = assert_ok(await send(client, document))

    for code in ("01", "03", "04", "05", "06"):
        answer = assert_ok(await report(client, document, STC, code))
        assert answer["Recipients"] == [{"OrganId": STC, "StatusCode": code}]
    [delivery] = await trace(client, sent["DocId"])
    notices = await inbox(client, STP, "status")

    assert delivery["StatusCode"] == "06"
    assert [entry["StatusCode"] for entry in delivery["History"]] == ["01", "03", "04", "05", "06"]
    first = delivery["History"][0]
    assert first["Description"] == "Trạng thái 01"
    assert first["Timestamp"] == "2025-06-02T09:20:00"
    assert first["StaffInfo"] == {
        "Department": "Văn thư",
        "Staff": "Lê Thị Tú",
        "Mobile": None,
        "Email": None,
    }
    assert first["ReportedBy"] == STC
    mine = [n for n in notices["data"] if n["docId"] == sent["DocId"]]
    assert [n["statusCode"] for n in mine] == ["06", "05", "04", "03", "01"]
    assert all((n["from"], n["to"], n["messageType"]) == (STC, STP, "status") for n in mine)


async def test_a_trace_read_while_a_report_commits_shows_the_status_of_its_history(
    any_client: httpx.AsyncClient,
) -> None:
    """The next report commits right after the trace's read of the deliveries, as a loaded
    machine lets it: read in one statement, the trace shows 01 with one entry or 03 with two,
    never 01 with two (PostgreSQL's READ COMMITTED gives each statement its own snapshot)."""
    document = make_document()
    _, sent = await sent_and_reported(any_client, document, "01")
    armed = [True]

    def report_03_meanwhile(
        _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kw: Any
    ) -> None:
        if armed[0] and "FROM qlvb_delivery" in statement and "FOR UPDATE" not in statement:
            armed[0] = False
            assert_ok(await_only(report(any_client, document, STC, "03")))  # a real commit

    event.listen(Engine, "after_cursor_execute", report_03_meanwhile)
    try:
        [delivery] = await trace(any_client, sent["DocId"])
    finally:
        event.remove(Engine, "after_cursor_execute", report_03_meanwhile)

    assert not armed[0], "the report should have committed during the trace"
    shown = (delivery["StatusCode"], len(delivery["History"]))
    assert shown in {("01", 1), ("03", 2)}, delivery


async def test_recipient_may_refuse_a_document_right_after_it_arrives(
    client: httpx.AsyncClient,
) -> None:
    document, sent = await sent_and_reported(client, make_document(), "01")

    assert_ok(await report(client, document, STC, "02"))
    after = await report(client, document, STC, "03")

    body = assert_fail(after, 409, "ILLEGAL_STATUS")
    assert (body["CurrentStatus"], body["AllowedStatusCodes"]) == ("02", [])
    assert (await trace(client, sent["DocId"]))[0]["StatusCode"] == "02"


async def test_accepted_recall_ends_the_delivery(client: httpx.AsyncClient) -> None:
    document, sent = await sent_and_reported(client, make_document(), "01", "03", "05")

    assert_ok(await report(client, document, STP, "13"))
    recall_notices = await inbox(client, STC, "status")
    assert_ok(await report(client, document, STC, "15"))

    [delivery] = await trace(client, sent["DocId"])
    assert delivery["StatusCode"] == "15"
    assert [e["ReportedBy"] for e in delivery["History"]] == [STC, STC, STC, STP, STC]
    assert recall_notices["data"][0]["statusCode"] == "13"
    assert recall_notices["data"][0]["to"] == STC


async def test_refused_recall_resumes_the_status_it_interrupted(
    client: httpx.AsyncClient,
) -> None:
    document, sent = await sent_and_reported(client, make_document(), "01", "03", "04")

    assert_ok(await report(client, document, STP, "13"))
    in_recall = (await trace(client, sent["DocId"]))[0]
    assert_ok(await report(client, document, STC, "16"))
    resumed = (await trace(client, sent["DocId"]))[0]
    assert_ok(await report(client, document, STC, "05"))

    assert (in_recall["StatusCode"], in_recall["StatusBeforeRecall"]) == ("13", "04")
    assert (resumed["StatusCode"], resumed["StatusBeforeRecall"]) == ("04", None)
    assert (await trace(client, sent["DocId"]))[0]["StatusCode"] == "05"


async def test_recall_applies_to_every_delivery_that_can_still_be_recalled(
    client: httpx.AsyncClient,
) -> None:
    document, sent = await sent_and_reported(
        client, make_document(to=(STC, SXD, UBND)), "01", "03", "05", "06"
    )
    assert_ok(await report(client, document, SXD, "01"))

    answer = assert_ok(await report(client, document, STP, "13"))

    assert answer["Recipients"] == [  # in organ id order
        {"OrganId": UBND, "StatusCode": "13"},  # not confirmed yet: recalled all the same
        {"OrganId": SXD, "StatusCode": "13"},
        {"OrganId": STC, "StatusCode": "06"},  # done: too late
    ]
    traced = await trace(client, sent["DocId"])
    assert [len(delivery["History"]) for delivery in traced] == [1, 2, 4]
    # Nothing is left to recall: refused, naming the first delivery's status.
    again = assert_fail(await report(client, document, STP, "13"), 409, "ILLEGAL_STATUS")
    assert (again["CurrentStatus"], again["AllowedStatusCodes"]) == ("13", [])


async def test_a_recall_before_the_recipient_confirmed_arrival_is_taken_and_answered(
    client: httpx.AsyncClient,
) -> None:
    """Sent by mistake, recalled at once: the recipient's 01 need not have come back first."""
    document, sent = await sent_and_reported(client, make_document())

    assert_ok(await report(client, document, STP, "13"))
    in_recall = (await trace(client, sent["DocId"]))[0]
    assert_ok(await report(client, document, STC, "16"))
    resumed = (await trace(client, sent["DocId"]))[0]
    assert_ok(await report(client, document, STC, "01"))

    assert (in_recall["StatusCode"], in_recall["StatusBeforeRecall"]) == ("13", None)
    assert resumed["StatusCode"] is None
    assert (await trace(client, sent["DocId"]))[0]["StatusCode"] == "01"


# --- illegal transitions and parties --------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "reporter", "code", "current", "allowed"),
    [
        pytest.param((), STC, "03", None, ["01"], id="accept-before-arrival"),
        pytest.param((("01",)), STC, "06", "01", ["02", "03"], id="skip-to-done"),
        pytest.param(("01",), STC, "01", "01", ["02", "03"], id="arrive-twice"),
        pytest.param(("01", "03"), STC, "13", "03", ["04", "05"], id="recipient-asks-recall"),
        pytest.param(("01",), STP, "03", "01", ["13"], id="sender-reports-acceptance"),
        pytest.param(("01", "02"), STP, "13", "02", [], id="recall-after-refusal"),
        pytest.param(("01", "03", "05", "06"), STP, "13", "06", [], id="recall-after-done"),
    ],
)
async def test_illegal_transition_is_refused_naming_the_status_and_the_allowed_codes(
    client: httpx.AsyncClient,
    steps: tuple[str, ...],
    reporter: str,
    code: str,
    current: str | None,
    allowed: list[str],
) -> None:
    document, sent = await sent_and_reported(client, make_document(), *steps)

    body = assert_fail(await report(client, document, reporter, code), 409, "ILLEGAL_STATUS")

    assert (body["CurrentStatus"], body["AllowedStatusCodes"]) == (current, allowed)
    assert len((await trace(client, sent["DocId"]))[0]["History"]) == len(steps)


async def test_an_organisation_that_neither_sent_nor_received_may_not_report(
    client: httpx.AsyncClient,
) -> None:
    document = make_document()
    sent = assert_ok(await send(client, document))

    assert_fail(await report(client, document, SXD, "01"), 403, "NOT_A_PARTY")
    assert (await trace(client, sent["DocId"]))[0]["History"] == []


async def test_only_a_status_messages_reporter_and_addressee_read_it(
    client: httpx.AsyncClient,
) -> None:
    """`readerOrganId` (mock addition) names the agency reading a status message: its reporter
    or the agency it is addressed to (the sender for a recipient's report, the recipient for
    a recall), not another recipient of the document; without it, anyone reads it."""
    document = make_document(to=(STC, SXD))
    assert_ok(await send(client, document))
    assert_ok(await report(client, document, STC, "01"))  # STC's 1: STC to STP
    assert_ok(await report(client, document, STP, "13"))  # STC's 2 and SXD's 1: STP to each

    def fetch(organ_id: str, position: int, **reader: str) -> Any:
        body = {"documentId": document_id(document), "organId": organ_id, "position": position}
        return client.post("/getStatus", json={**body, "format": "json", **reader})

    for organ_id, position, parties, others in (
        (STC, 1, (STC, STP), (SXD, UBND)),
        (STC, 2, (STP, STC), (SXD, UBND)),
        (SXD, 1, (STP, SXD), (STC, UBND)),
    ):
        for reader in parties:
            read = assert_ok(await fetch(organ_id, position, readerOrganId=reader))
            assert read["Position"] == position
        for reader in others:
            assert_fail(await fetch(organ_id, position, readerOrganId=reader), 403, "NOT_A_PARTY")
        assert_ok(await fetch(organ_id, position))
    assert_fail(await fetch(STC, 1, readerOrganId="H33"), 422, "INVALID_REQUEST")


@pytest.mark.parametrize("route", ["/getEdoc", "/getEdocTrace"])
async def test_a_recipient_reads_only_its_own_deliverys_trace(
    client: httpx.AsyncClient, route: str
) -> None:
    """Given `organId`, a recipient's trace is its own delivery: its reports to the sender and
    the sender's recall to it, never another recipient's statuses or StaffInfo; the sender (or a
    reader not named) sees every delivery's."""
    document = make_document(to=(STC, SXD))
    sent = assert_ok(await send(client, document))
    for reporter, code in ((STC, "01"), (STC, "03"), (SXD, "01"), (STP, "13")):
        assert_ok(await report(client, document, reporter, code))

    async def traced(**reader: str) -> dict[str, list[str]]:
        body = {"docId": sent["DocId"], "format": "json", **reader}
        found = assert_ok(await client.post(route, json=body))["trace"]
        return {
            item["OrganId"]: [f"{e['ReportedBy']}:{e['StatusCode']}" for e in item["History"]]
            for item in found
        }

    every = {SXD: [f"{SXD}:01", f"{STP}:13"], STC: [f"{STC}:01", f"{STC}:03", f"{STP}:13"]}
    views = {reader: await traced(organId=reader) for reader in (STP, STC, SXD)}
    assert views == {STP: every, STC: {STC: every[STC]}, SXD: {SXD: every[SXD]}}
    assert await traced() == every


async def test_a_status_for_an_unknown_document_is_not_found(client: httpx.AsyncClient) -> None:
    never_sent = make_document(number="999999")

    assert_fail(await report(client, never_sent, STC, "01"), 404, "DOCUMENT_NOT_FOUND")


async def test_concurrent_reports_on_one_delivery_apply_once(
    any_client: httpx.AsyncClient,
) -> None:
    document = make_document()
    sent = assert_ok(await send(any_client, document))

    answers = await asyncio.gather(*(report(any_client, document, STC, "01") for _ in range(10)))

    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    [delivery] = await trace(any_client, sent["DocId"])
    assert (delivery["StatusCode"], len(delivery["History"])) == ("01", 1)


# --- idempotent sending ---------------------------------------------------------------------


async def test_resending_a_document_answers_the_same_id_and_delivers_nothing_new(
    client: httpx.AsyncClient,
) -> None:
    document, first = await sent_and_reported(client, make_document(), "01")
    total = (await inbox(client, STC))["total"]

    again = assert_ok(await send(client, document))
    retyped_date = assert_ok(
        await send(client, {**document, "promulgation": {"place": "X", "date": "2025-06-01"}})
    )

    assert again["DocId"] == retyped_date["DocId"] == first["DocId"]
    assert again["Duplicate"] is retyped_date["Duplicate"] is True
    assert again["Recipients"] == [{"OrganId": STC, "StatusCode": "01"}]
    assert (await inbox(client, STC))["total"] == total


async def test_ten_concurrent_identical_sends_make_one_document(
    any_client: httpx.AsyncClient, database_url: str
) -> None:
    document = make_document(number="4242")
    before = await count_documents(database_url)

    answers = await asyncio.gather(*(send(any_client, document) for _ in range(10)))

    sent = [assert_ok(answer) for answer in answers]
    assert len({answer["DocId"] for answer in sent}) == 1
    assert sorted(answer["Duplicate"] for answer in sent) == [False] + [True] * 9
    assert await count_documents(database_url) == before + 1
    listed = await inbox(any_client, STC, size=100)
    assert [item["id"] for item in listed["data"]].count(sent[0]["DocId"]) == 1


# --- refused documents ----------------------------------------------------------------------


async def test_unknown_recipient_is_refused_and_nothing_is_delivered_to_the_others(
    client: httpx.AsyncClient, url: str
) -> None:
    before = await count_documents(url)

    response = await send(client, make_document(to=(STC, "000.00.99.H33")))

    body = assert_fail(response, 422, "UNKNOWN_ORGAN")
    assert body["OrganIds"] == ["000.00.99.H33"]
    assert await count_documents(url) == before


async def test_without_bus_access_another_provinces_agency_is_refused_naming_the_axis(
    client: httpx.AsyncClient, url: str
) -> None:
    before = await count_documents(url)

    response = await send(client, make_document(to=(STC, TIEN_GIANG_STP)))

    body = assert_fail(response, 422, "OTHER_PROVINCE")
    assert body["OrganIds"] == [TIEN_GIANG_STP]
    assert "NDXP" in body["ErrorDesc"]
    assert "no access to the bus" in body["ErrorDesc"]
    assert await count_documents(url) == before


@pytest.mark.parametrize("sender", ["000.00.99.H33", TIEN_GIANG_STP])
async def test_a_sender_that_is_not_an_agency_of_the_province_is_refused(
    client: httpx.AsyncClient, sender: str
) -> None:
    body = assert_fail(await send(client, make_document(sender=sender)), 422, "UNKNOWN_SENDER")

    assert body["OrganIds"] == [sender]


NS = b"http://www.mic.gov.vn/TBT/QCVN_102_2016"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) if i > 1 else b"&lol;"
                                               for _ in range(10)))
        for i in range(1, 10)
    )
    + b']><edXML xmlns="' + NS + b'">&lol9;</edXML>'
)  # fmt: skip
XXE = (
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><edXML xmlns="' + NS + b'">&x;</edXML>'
)


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        pytest.param(BILLION_LAUGHS, "dtd_forbidden", id="billion-laughs"),
        pytest.param(XXE, "dtd_forbidden", id="xxe"),
        pytest.param(b"<a><?php system('id'); ?></a>", "pi_forbidden", id="processing-instruction"),
        pytest.param("<a>Hà Nam</a>".encode("cp1258"), "not_utf8", id="not-utf8"),
        pytest.param(b"<edXML/>", "not_edxml", id="not-edxml"),
        pytest.param(b"", "not_well_formed", id="empty"),
    ],
)
async def test_hostile_or_broken_edxml_is_refused_with_nothing_stored(
    client: httpx.AsyncClient, url: str, data: bytes, rule: str
) -> None:
    before = await count_documents(url)

    response = await client.post("/sendEdoc", content=data, headers=XML)

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == rule
    assert await count_documents(url) == before


@pytest.mark.parametrize(
    ("changes", "rule"),
    [  # the clock stands at NOW, 2025-06-02 09:30 in Vietnam; 300 s of skew are allowed
        pytest.param({"promulgation": {"place": "Rạch Giá", "date": "2025-06-03"}},
                     "future_dated", id="dated-tomorrow"),
        pytest.param({"trace_headers": [{"organ_id": STP, "timestamp": "2025-06-02T09:36:00"}]},
                     "future_dated", id="hop-in-6-minutes"),
        pytest.param({"trace_headers": [{"organ_id": STP, "timestamp": "2025-06-02T09:34:00"}]},
                     None, id="hop-within-the-skew"),
        pytest.param({}, None, id="dated-today"),
    ],
)  # fmt: skip
async def test_a_document_dated_ahead_of_the_clock_is_refused_with_nothing_stored(
    client: httpx.AsyncClient, url: str, changes: dict[str, Any], rule: str | None
) -> None:
    before = await count_documents(url)

    response = await send(client, make_document(number="17", **changes))

    if rule is None:
        assert_ok(response)
    else:
        assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == rule
        assert await count_documents(url) == before


@pytest.mark.parametrize(
    ("timestamp", "refused"),
    [  # the clock stands at NOW, 2025-06-02 09:30 in Vietnam; 300 s of skew are allowed
        pytest.param("2025-06-02T09:36:00", True, id="reported-in-6-minutes"),
        pytest.param("2025-06-03T09:00:00", True, id="reported-tomorrow"),
        pytest.param("2025-06-02T09:34:00", False, id="within-the-skew"),
    ],
)
async def test_a_status_reported_ahead_of_the_clock_is_refused_and_the_trace_stays(
    client: httpx.AsyncClient, timestamp: str, refused: bool
) -> None:
    """A status message is dated as a document is: its Timestamp is when it was reported."""
    document = make_document(number="18")
    sent = assert_ok(await send(client, document))
    message = {**parse_status(status_message(document, STC, "01")), "timestamp": timestamp}

    response = await client.post("/updateStatus", content=render_status(message), headers=XML)

    [delivery] = await trace(client, sent["DocId"])
    if refused:
        assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == "future_dated"
        assert (delivery["StatusCode"], delivery["History"]) == (None, [])
    else:
        assert_ok(response)
        assert delivery["StatusCode"] == "01"


@pytest.mark.parametrize(
    ("date", "skew", "refused"),
    [
        ("2025-06-03", 300, False),  # 23:58 and 5 minutes of skew: tomorrow may have begun
        ("2025-06-03", 0, True),
        ("2025-06-03", 86_400, False),
        ("2025-06-04", 86_400, True),
    ],
)
def test_the_skew_allowance_is_the_systems_setting(date: str, skew: int, refused: bool) -> None:
    document = validate_document(make_document(promulgation={"place": "X", "date": date}))
    late = NOW.replace(hour=23, minute=58)
    check = partial(refuse_future_dated, document, now=late, skew_seconds=skew)

    if refused:
        with pytest.raises(InvalidEdxml) as error:
            check()
        assert error.value.rule == "future_dated"
    else:
        check()


@pytest.mark.parametrize(
    "document_id",
    [
        pytest.param("000.00.01.H33,2025/06/02,16/STP-TEST", id="other-number"),
        pytest.param("000.00.03.H33,2025/06/02,15/STP-TEST", id="other-sender"),
    ],
)
async def test_a_document_id_that_does_not_match_its_header_is_taken_with_a_warning(
    client: httpx.AsyncClient, document_id: str
) -> None:
    """As the national axis takes the SDK's own samples (FIDELITY-2026 §2); known by it."""
    response = await send(client, make_document(document_id=document_id))

    assert response.status_code == 200, response.text
    assert response.json()["DocumentId"] == document_id
    assert [w["Rule"] for w in response.json()["Warnings"]] == ["document_id_mismatch"]


async def test_a_document_whose_notation_is_too_long_is_refused(
    client: httpx.AsyncClient,
) -> None:
    changes = {"code": {"code_number": "15", "code_notation": "X" * 101}}

    response = await send(client, make_document(**changes))

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == "too_long"


# --- requests the endpoint does not take ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "size"),
    [
        ("/updateStatus", "application/xml", 256 * 1024 + 1),
        ("/getReceivedEdocList", "application/json", 4 * 1024 + 1),
    ],
)
async def test_a_body_past_the_endpoint_limit_is_refused_unread(
    client: httpx.AsyncClient, path: str, content_type: str, size: int
) -> None:
    response = await client.post(path, content=b" " * size, headers={"Content-Type": content_type})

    assert_fail(response, 413, "TOO_LARGE")


@pytest.mark.parametrize(
    "body",
    [
        {"organId": "not-an-organ"},
        {"organId": STC, "size": 101},
        {"organId": STC, "page": 0},
        {"organId": STC, "messagetype": "fax"},
        {"organId": STC, "unexpected": True},
        {"organId": STC, "size": "10"},
    ],
)
async def test_an_invalid_list_request_is_refused_with_its_errors(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    answer = assert_fail(
        await client.post("/getReceivedEdocList", json=body), 422, "INVALID_REQUEST"
    )

    assert answer["Errors"]
    assert all(set(error) == {"loc", "msg", "type"} for error in answer["Errors"])


@pytest.mark.parametrize(
    ("organ_id", "error_code"),
    [("000.00.99.H33", "UNKNOWN_ORGAN"), (TIEN_GIANG_STP, "OTHER_PROVINCE")],
)
async def test_an_inbox_is_only_served_for_an_agency_of_the_province(
    client: httpx.AsyncClient, organ_id: str, error_code: str
) -> None:
    response = await client.post("/getReceivedEdocList", json={"organId": organ_id})

    assert_fail(response, 422, error_code)


@pytest.mark.parametrize(
    "body",
    [
        {"docId": "00000000-0000-0000-0000-000000000000"},
        {"documentId": "000.00.01.H33,2025/06/02,1/NONE"},
    ],
)
@pytest.mark.parametrize("path", ["/getEdoc", "/getEdocTrace"])
async def test_an_unknown_document_is_not_found(
    client: httpx.AsyncClient, path: str, body: dict[str, str]
) -> None:
    assert_fail(await client.post(path, json=body), 404, "DOCUMENT_NOT_FOUND")


@pytest.mark.parametrize("body", [{}, {"docId": "a", "documentId": "b"}, {"docId": "a", "x": 1}])
async def test_fetching_needs_exactly_one_of_doc_id_and_document_id(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert_fail(await client.post("/getEdoc", json=body), 422, "INVALID_REQUEST")


# --- paging and seeding ---------------------------------------------------------------------


async def test_inbox_pages_are_bounded_and_cover_every_document_once(
    client: httpx.AsyncClient,
) -> None:
    for number in range(1, 6):
        assert_ok(await send(client, make_document(number=str(number))))
    total = (await inbox(client, STC))["total"]

    pages = [await inbox(client, STC, page=page, size=2) for page in range(1, total // 2 + 2)]

    ids = [item["id"] for page in pages for item in page["data"]]
    assert len(ids) == len(set(ids)) == total >= 5
    assert all(len(page["data"]) <= 2 for page in pages)
    assert (await inbox(client, STC, page=total + 1, size=1))["data"] == []


async def snapshot(url: str, seed: int = 7) -> list[Any]:
    """Every agency's inbox and status messages, and every listed document's trace."""
    app = create_app(config(url, seed=seed), now=lambda: NOW)
    seen: list[Any] = []
    async with serving(app, "http://qlvb.test") as client:
        for unit in range(8):
            organ = f"000.00.0{unit}.H33"
            for kind in ("edoc", "status"):
                seen.append(await inbox(client, organ, kind, size=100))
            for item in seen[-2]["data"]:
                seen.append(await trace(client, item["id"]))
    return seen


async def test_seeding_is_deterministic_and_covers_several_statuses(tmp_path: Path) -> None:
    first = await snapshot(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}")
    second = await snapshot(f"sqlite+aiosqlite:///{tmp_path / 'b.db'}")
    other_seed = await snapshot(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", seed=8)

    assert first == second
    assert first != other_seed  # the seed draws the code numbers
    codes = {item["statusCode"] for listing in first if isinstance(listing, dict)
             for item in listing["data"] if item["messageType"] == "edoc"}  # fmt: skip
    assert {None, "02", "06", "13"} <= codes


async def test_seeding_twice_on_one_database_adds_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}"

    first = await snapshot(url)
    count = await count_documents(url)
    second = await snapshot(url)

    assert count == 6
    assert await count_documents(url) == count
    assert second == first


async def test_each_instance_seeds_and_sees_only_its_own_documents(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}"

    await snapshot(url)
    other = create_app(config(url, instance="kiengiang-2"), now=lambda: NOW)
    async with serving(other, "http://qlvb.test"):
        pass

    assert await count_documents(url, "kiengiang") == 6
    assert await count_documents(url, "kiengiang-2") == 6


@pytest.mark.parametrize("province_code", [None, "01"])
def test_the_mock_needs_a_province_with_agencies(province_code: str | None) -> None:
    with pytest.raises(ValueError, match="province_code of a province with agencies"):
        create_app(SystemConfig(instance="ndxp", province_code=province_code))
