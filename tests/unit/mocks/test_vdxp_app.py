"""The national axis mock's own API: the ledger, the split per province, deduplication, errors.

Tests that reach the database run on SQLite and PostgreSQL (the `engine` fixture empties it).
NDXP's store-and-forward is `HandoverBus` (tests/fixtures/handovers.py), which records each
hand-over as the bus would store it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from formats.dates import VIETNAM_TIME
from formats.edxml import parse_status, render_edxml, render_status
from mocks.bus import ORIGIN_HEADER
from mocks.config import SystemConfig
from mocks.vdxp.app import create_app
from tests.fixtures.documents import NOW
from tests.fixtures.handovers import HandoverBus, bus_access, handing_over
from tests.unit.mocks.test_qlvb_app import (
    assert_fail,
    assert_ok,
    document_id,
    make_document,
    status_message,
)
from tests.unit.mocks.test_qlvb_business import business

pytestmark = pytest.mark.anyio

PROVINCES = {"91": "kiengiang", "82": "tiengiang", "60": "binhthuan"}  # not Hậu Giang (93)
STP, STC = "000.00.01.H33", "000.00.03.H33"  # Kiên Giang
TG_STP, TG_STC = "000.00.01.H58", "000.00.03.H58"  # Tiền Giang
BT_STP = "000.00.01.H11"  # Bình Thuận
HG_STP = "000.00.01.H30"  # Hậu Giang: outside the topology
VPCP = "000.00.00.G22"  # the central Government Office, the SDK samples' sender
XML = {"Content-Type": "application/xml"}


@asynccontextmanager
async def running(
    url: str,
    *,
    bus: bool = True,
    handovers: HandoverBus | None = None,
    central: dict[str, str] | None = None,
    era: Literal["2026", "2024"] = "2024",
    now: datetime = NOW,
) -> AsyncIterator[httpx.AsyncClient]:
    """The axis of `ndxp`, `central` its assigned central bodies beside VPCP, in `era`, its
    clock stopped at `now`."""
    config = SystemConfig(
        instance="ndxp",
        provinces=PROVINCES,
        era=era,
        database_url=url,
        central_agencies=central or {},
        **(bus_access("ndxp", "vdxp") if bus else {}),
    )
    async with handing_over(
        create_app,
        config,
        "http://vdxp.test",
        handovers=handovers,
        raise_app_exceptions=False,
        now=now,
    ) as client:
        yield client


@pytest.fixture(name="axis")
async def fx_axis(db_url: str, handovers: HandoverBus) -> AsyncIterator[httpx.AsyncClient]:
    async with running(db_url, handovers=handovers) as client:
        yield client


@pytest.fixture(name="axis_lite")
async def fx_axis_lite(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """On SQLite alone: for messages refused before any SQL."""
    async with running(sqlite_url) as client:
        yield client


async def submit(
    client: httpx.AsyncClient,
    data: bytes,
    key: str | None = None,
    path: str = "/sendEdoc",
    *,
    origin: str | None = None,
) -> httpx.Response:
    """`data` to the axis; `origin` is the province NDXP says the call came from."""
    headers = {**XML, "X-Request-ID": "req-axis"}
    if key is not None:
        headers["Idempotency-Key"] = key
    if origin is not None:
        headers[ORIGIN_HEADER] = origin
    return await client.post(path, content=data, headers=headers)


def status(
    document: dict[str, Any], reporter: str, code: str, at: str = "2025-06-02T09:20:00"
) -> bytes:
    return render_status(
        {**parse_status(status_message(document, reporter, code)), "timestamp": at}
    )


async def trail(client: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    return assert_ok(await client.post("/getEdocTrail", json={"documentId": document_id(document)}))


# --- documents --------------------------------------------------------------------------------


async def test_a_document_is_forwarded_once_to_each_province_of_its_recipients(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(STC, TG_STP, BT_STP, TG_STC), number="11")
    data = render_edxml(document)

    answer = assert_ok(await submit(axis, data, key="edoc:kiengiang:1"))

    assert answer["Duplicate"] is False
    assert answer["Destinations"] == [  # by province code; the sender's own left to it
        {"Instance": "binhthuan", "ProvinceCode": "60", "OrganIds": [BT_STP]},
        {"Instance": "tiengiang", "ProvinceCode": "82", "OrganIds": [TG_STP, TG_STC]},
    ]
    doc_id = document_id(document)
    messages = handovers.handed
    assert [(m.target_instance, m.idempotency_key, m.ordering_key) for m in messages] == [
        ("binhthuan", f"edoc:{doc_id}:binhthuan", f"edoc:{doc_id}:binhthuan"),
        ("tiengiang", f"edoc:{doc_id}:tiengiang", f"edoc:{doc_id}:tiengiang"),
    ]
    for message in messages:
        assert (message.service, message.version, message.method, message.path) == (
            "qlvb",
            "v1",
            "POST",
            "/inbound/documents",
        )
        assert (message.body, message.content_type) == (data, "application/xml")
        assert (message.instance, message.client_id, message.request_id) == (
            "ndxp",
            "system-vdxp",
            "req-axis",
        )


async def test_the_ledger_keeps_the_message_its_destinations_and_its_statuses_in_order(
    axis: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP, TG_STC), number="12")
    data = render_edxml(document)
    assert_ok(await submit(axis, data))
    for reporter, code in ((TG_STP, "01"), (TG_STC, "01"), (TG_STP, "03")):
        assert_ok(await submit(axis, status(document, reporter, code), path="/sendStatus"))

    found = await trail(axis, document)

    assert (found["DocumentId"], found["From"], found["To"]) == (
        document_id(document),
        STP,
        [TG_STP, TG_STC],
    )
    assert (found["ContentLength"], found["ReceivedTime"]) == (len(data), NOW.isoformat())
    assert [d["Instance"] for d in found["Destinations"]] == ["tiengiang"]
    assert [(s["From"], s["StatusCode"], s["Destinations"]) for s in found["Statuses"]] == [
        (TG_STP, "01", ["kiengiang"]),
        (TG_STC, "01", ["kiengiang"]),
        (TG_STP, "03", ["kiengiang"]),
    ]


@pytest.mark.parametrize(
    "second_key",
    [
        pytest.param("k-1", id="same-key"),
        pytest.param("k-2", id="new-key-same-document"),
        pytest.param(None, id="no-key-same-document"),
    ],
)
async def test_a_document_received_again_is_a_duplicate_and_forwarded_no_more(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, second_key: str | None
) -> None:
    data = render_edxml(make_document(to=(TG_STP, BT_STP), number="13"))
    first = assert_ok(await submit(axis, data, key="k-1"))

    again = assert_ok(await submit(axis, data, key=second_key))

    assert again["Duplicate"] is True
    assert {k: v for k, v in again.items() if k != "Duplicate"} == {
        k: v for k, v in first.items() if k != "Duplicate"
    }
    assert len(handovers.handed) == 2


@pytest.mark.parametrize("key", ["k-14", None])
async def test_concurrent_deliveries_of_one_message_forward_it_once(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, key: str | None
) -> None:
    document = make_document(to=(TG_STP,), number="14")
    data = render_edxml(document)

    documents = await asyncio.gather(*(submit(axis, data, key=key) for _ in range(8)))
    message = status(document, TG_STP, "01")
    statuses = await asyncio.gather(
        *(submit(axis, message, key=key and f"{key}-s", path="/sendStatus") for _ in range(8))
    )

    for answers in (documents, statuses):
        assert sorted(assert_ok(answer)["Duplicate"] for answer in answers) == [False] + [True] * 7
    assert [m.path for m in handovers.handed] == ["/inbound/documents", "/inbound/statuses"]


async def test_a_document_id_seen_with_other_content_is_a_conflict(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="15")
    assert_ok(await submit(axis, render_edxml(document)))

    changed = render_edxml({**document, "subject": "V/v nội dung khác"})
    assert_fail(await submit(axis, changed), 409, "DOCUMENT_CONFLICT")

    assert len(handovers.handed) == 1


@pytest.mark.parametrize("kind", [pytest.param(0, id="document"), pytest.param(1, id="revocation")])
async def test_a_document_id_naming_another_provinces_agency_is_refused_so_its_own_crosses(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, kind: int
) -> None:
    """Tiền Giang's LGSP (a real one at a `url` need not check) passes on its agency's message
    under the DocumentId Kiên Giang's STP gives its next document: taken, it would block it."""
    genuine = make_document(to=(TG_STP,), number="31")
    claimed = make_document(sender=TG_STP, to=(STP,), document_id=document_id(genuine))
    spoofed = business(claimed, kind) if kind else claimed

    refused = await submit(axis, render_edxml(spoofed), origin="tiengiang")

    assert assert_fail(refused, 403, "NOT_OF_CALLING_PROVINCE")["OrganIds"] == [STP]
    assert handovers.handed == []
    answer = assert_ok(await submit(axis, render_edxml(genuine), origin="kiengiang"))
    assert (answer["DocumentId"], answer["From"], answer["Duplicate"]) == (
        document_id(genuine),
        STP,
        False,
    )


@pytest.mark.parametrize("origin", ["kiengiang", None])
@pytest.mark.parametrize("kind", [pytest.param(0, id="document"), pytest.param(1, id="revocation")])
async def test_a_document_id_naming_another_agency_of_the_same_province_is_refused_so_its_crosses(
    axis: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    kind: int,
    origin: str | None,
) -> None:
    """Kiên Giang's LGSP (a real one at a `url` need not check) passes on STC's message under
    the DocumentId STP gives its next document: the same province, yet taken it would block
    STP's own document at the ledger (code review 2026-12: an unbound admin's pre-emption)."""
    genuine = make_document(to=(TG_STP,), number="33")
    claimed = make_document(sender=STC, to=(TG_STP,), document_id=document_id(genuine))
    spoofed = business(claimed, kind) if kind else claimed

    refused = await submit(axis, render_edxml(spoofed), origin=origin)

    assert assert_fail(refused, 403, "DOCUMENT_ID_OF_ANOTHER_AGENCY")["OrganIds"] == [STP]
    assert handovers.handed == []
    answer = assert_ok(await submit(axis, render_edxml(genuine), origin=origin))
    assert (answer["From"], answer["Duplicate"]) == (STP, False)
    assert len(handovers.handed) == 1


async def test_a_document_id_naming_an_agency_of_no_province_served_crosses_the_axis(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    """FIDELITY-2026 §2: the real axis takes a DocumentId that does not match its header; one
    naming no agency the axis serves blocks no one's document, and is only noted."""
    named = f"{HG_STP},2025/06/02,32/STP-TEST"
    document = make_document(sender=TG_STP, to=(STP,), number="32", document_id=named)

    answer = assert_ok(await submit(axis, render_edxml(document), origin="tiengiang"))

    assert (answer["DocumentId"], answer["From"]) == (named, TG_STP)
    assert len(handovers.handed) == 1


@pytest.mark.parametrize(
    "central",
    [
        pytest.param(VPCP, id="vpcp-as-the-sdk-samples"),
        pytest.param("000.00.00.G99", id="a-central-code-not-served-yet"),
    ],
)
@pytest.mark.parametrize("kind", [pytest.param(0, id="document"), pytest.param(1, id="revocation")])
async def test_a_provinces_document_id_naming_a_central_body_is_refused_so_its_own_crosses(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, central: str, kind: int
) -> None:
    """A province may not take a central body's DocumentId (the SDK's samples' names VPCP,
    FIDELITY-2026 §2): VPCP's own document under it, sent from the axis's instance, would be
    409 DOCUMENT_CONFLICT at the ledger. A G code is the axis's own instance's, served or not."""
    named = f"{central},2025/06/02,7816/VPCP-TTĐT"
    claimed = make_document(sender=TG_STP, to=(STP,), number="7816", document_id=named)
    spoofed = business(claimed, kind) if kind else claimed

    refused = await submit(axis, render_edxml(spoofed), origin="tiengiang")

    assert assert_fail(refused, 403, "NOT_OF_CALLING_PROVINCE")["OrganIds"] == [central]
    assert handovers.handed == []
    if central == VPCP:
        genuine = make_document(sender=VPCP, to=(TG_STP,), number="7816", document_id=named)
        answer = assert_ok(await submit(axis, render_edxml(genuine), origin="ndxp"))
        assert (answer["From"], answer["Duplicate"]) == (VPCP, False)
        assert len(handovers.handed) == 1


async def test_a_key_reused_for_another_message_is_refused(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    assert_ok(await submit(axis, render_edxml(make_document(to=(TG_STP,), number="16")), "k"))

    other = render_edxml(make_document(to=(TG_STP,), number="17"))
    assert_fail(await submit(axis, other, key="k"), 422, "IDEMPOTENCY_KEY_REUSED")

    assert len(handovers.handed) == 1


async def test_a_hand_over_the_bus_refuses_records_nothing_and_a_retry_completes_it(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    """The second province's hand-over refused: nothing recorded, 502 to the sender, whose
    retry (same key) completes it; the first province's, taken twice, is stored once."""
    handovers.refuse_with, handovers.refuse_from = 503, 2
    document = make_document(to=(TG_STP, BT_STP), number="18")

    response = await submit(axis, render_edxml(document), key="k-18")

    assert_fail(response, 502, "BUS_UNAVAILABLE")
    assert_fail(
        await axis.post("/getEdocTrail", json={"documentId": document_id(document)}),
        404,
        "DOCUMENT_NOT_FOUND",
    )
    handovers.refuse_with = None
    retried = assert_ok(await submit(axis, render_edxml(document), key="k-18"))
    assert retried["Duplicate"] is False
    assert [m.target_instance for m in handovers.handed] == ["binhthuan", "tiengiang"]


@pytest.mark.parametrize(
    ("sender", "to", "error_code", "organ_ids"),
    [
        pytest.param(STP, (TG_STP, "000.00.99.H58"), "UNKNOWN_RECIPIENT", ["000.00.99.H58"],
                     id="unknown-organ"),
        pytest.param(STP, (TG_STP, HG_STP), "UNKNOWN_RECIPIENT", [HG_STP],
                     id="province-outside-topology"),
        pytest.param(HG_STP, (TG_STP,), "UNKNOWN_SENDER", [HG_STP], id="sender-outside-topology"),
        pytest.param("000.00.99.H33", (TG_STP,), "UNKNOWN_SENDER", ["000.00.99.H33"],
                     id="unknown-sender"),
        pytest.param(STP, (STC,), "NO_REMOTE_RECIPIENT", None, id="only-the-senders-province"),
    ],
)  # fmt: skip
async def test_a_document_the_axis_cannot_route_is_refused_and_nothing_forwarded(
    axis: httpx.AsyncClient,
    engine: AsyncEngine,
    handovers: HandoverBus,
    sender: str,
    to: tuple[str, ...],
    error_code: str,
    organ_ids: list[str] | None,
) -> None:
    document = make_document(sender=sender, to=to, number="19")

    body = assert_fail(await submit(axis, render_edxml(document)), 422, error_code)

    assert body.get("OrganIds") == organ_ids
    assert handovers.handed == []


async def test_a_document_dated_after_today_is_refused_and_nothing_forwarded(
    axis: httpx.AsyncClient, handovers: HandoverBus
) -> None:
    """From a province's system that does not check (an integrator's own): the axis does."""
    later = (datetime.now(VIETNAM_TIME) + timedelta(days=2)).date().isoformat()
    document = make_document(to=(TG_STP,), number="20")
    document["promulgation"] = {"place": "Rạch Giá", "date": later}

    body = assert_fail(await submit(axis, render_edxml(document)), 422, "INVALID_EDXML")

    assert body["Rule"] == "future_dated"
    assert handovers.handed == []


# --- statuses ---------------------------------------------------------------------------------


async def test_a_status_reported_after_now_is_refused_and_nothing_forwarded(
    axis: httpx.AsyncClient, handovers: HandoverBus
) -> None:
    """A status message's Timestamp is checked as a document's date, with the same skew."""
    document = make_document(to=(TG_STP,), number="29")
    assert_ok(await submit(axis, render_edxml(document)))
    later = (NOW + timedelta(minutes=6)).replace(tzinfo=None).isoformat()  # the axis's clock

    response = await submit(axis, status(document, TG_STP, "01", at=later), path="/sendStatus")

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == "future_dated"
    assert len(handovers.handed) == 1  # the document's hand-over alone


async def test_a_recipients_status_goes_to_the_senders_province_alone(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP, BT_STP), number="21")
    assert_ok(await submit(axis, render_edxml(document)))
    message = status(document, TG_STP, "01")

    answer = assert_ok(await submit(axis, message, key="status:tg:1", path="/sendStatus"))

    assert (answer["From"], answer["StatusCode"], answer["Destinations"]) == (
        TG_STP,
        "01",
        ["kiengiang"],
    )
    forwarded = (handovers.handed)[2:]
    doc_id = document_id(document)
    assert [(m.target_instance, m.path, m.body) for m in forwarded] == [
        ("kiengiang", "/inbound/statuses", message)
    ]
    assert forwarded[0].idempotency_key == f"status:{doc_id}:{TG_STP}:01:1:kiengiang"
    assert forwarded[0].ordering_key == f"edoc:{doc_id}:kiengiang"


async def test_the_senders_own_status_goes_to_every_province_the_document_went_to(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP, BT_STP), number="22")
    assert_ok(await submit(axis, render_edxml(document)))

    answer = assert_ok(await submit(axis, status(document, STP, "13"), path="/sendStatus"))

    assert answer["Destinations"] == ["binhthuan", "tiengiang"]
    recalls = (handovers.handed)[2:]
    assert [(m.target_instance, m.ordering_key) for m in recalls] == [
        ("binhthuan", f"edoc:{document_id(document)}:binhthuan"),  # after the document
        ("tiengiang", f"edoc:{document_id(document)}:tiengiang"),
    ]


@pytest.mark.parametrize(
    "second_key",
    [pytest.param("s-1", id="same-key"), pytest.param("s-2", id="new-key"), None],
)
async def test_a_status_received_again_is_a_duplicate_and_forwarded_no_more(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, second_key: str | None
) -> None:
    document = make_document(to=(TG_STP,), number="23")
    assert_ok(await submit(axis, render_edxml(document)))
    message = status(document, TG_STP, "01")
    assert_ok(await submit(axis, message, key="s-1", path="/sendStatus"))

    again = assert_ok(await submit(axis, message, key=second_key, path="/sendStatus"))

    assert again["Duplicate"] is True
    assert len(handovers.handed) == 2
    assert len((await trail(axis, document))["Statuses"]) == 1


async def test_the_same_code_reported_again_later_is_a_status_of_its_own(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus
) -> None:
    document = make_document(to=(TG_STP,), number="24")
    assert_ok(await submit(axis, render_edxml(document)))

    for at in ("2025-06-02T09:00:00", "2025-06-02T09:20:00"):  # two recalls, 20 min apart
        answer = assert_ok(await submit(axis, status(document, STP, "13", at), path="/sendStatus"))
        assert answer["Duplicate"] is False

    keys = [m.idempotency_key for m in (handovers.handed)[1:]]
    doc_id = document_id(document)
    assert keys == [
        f"status:{doc_id}:{STP}:13:1:tiengiang",
        f"status:{doc_id}:{STP}:13:2:tiengiang",
    ]


async def test_a_status_for_a_document_that_never_crossed_is_not_found(
    axis: httpx.AsyncClient,
) -> None:
    never = make_document(to=(TG_STP,), number="25")

    response = await submit(axis, status(never, TG_STP, "01"), path="/sendStatus")

    assert_fail(response, 404, "DOCUMENT_NOT_FOUND")


@pytest.mark.parametrize(
    "reporter",
    [
        pytest.param(TG_STC, id="agency-of-a-destination-not-a-recipient"),
        pytest.param(STC, id="local-recipient-of-the-sender"),
    ],
)
async def test_a_status_from_no_party_the_axis_knows_is_refused(
    axis: httpx.AsyncClient, engine: AsyncEngine, handovers: HandoverBus, reporter: str
) -> None:
    document = make_document(to=(STC, TG_STP), number="26")
    assert_ok(await submit(axis, render_edxml(document)))

    response = await submit(axis, status(document, reporter, "01"), path="/sendStatus")

    assert_fail(response, 403, "NOT_A_PARTY")
    assert len(handovers.handed) == 1


@pytest.mark.parametrize(
    ("reporter", "at", "refused"),
    [
        pytest.param("000.00.03.H01", "2025-07-01T08:00:00", False, id="successor-since-merger"),
        pytest.param("000.00.03.H01", "2025-06-30T16:00:00", True, id="successor-before-merger"),
        pytest.param("000.00.02.H01", "2025-07-01T08:00:00", True, id="another-body-of-today"),
    ],
)
async def test_the_successor_of_a_recipient_reports_for_it_from_the_merger_on(
    db_url: str, handovers: HandoverBus, reporter: str, at: str, refused: bool
) -> None:
    """In era 2026 An Giang's Sở Tài chính (000.00.03.H01) acts for Kiên Giang's (STC), as the
    province's document system counts it (`acting_for`): its status goes to the sender's
    province; before the merger, or from a body that succeeds no recipient, it is no party's."""
    document = make_document(sender=TG_STP, to=(STC,), number="27")
    after = datetime(2025, 7, 1, 9, 0, tzinfo=VIETNAM_TIME)
    async with running(db_url, handovers=handovers, era="2026", now=after) as axis:
        assert_ok(await submit(axis, render_edxml(document)))

        response = await submit(axis, status(document, reporter, "01", at), path="/sendStatus")

    if refused:
        assert_fail(response, 403, "NOT_A_PARTY")
        assert len(handovers.handed) == 1
    else:
        assert assert_ok(response)["Destinations"] == ["tiengiang"]
        assert [m.idempotency_key for m in handovers.handed][1:] == [
            f"status:{document_id(document)}:{reporter}:01:1:tiengiang"
        ]


async def test_an_unknown_trail_is_not_found(axis: httpx.AsyncClient) -> None:
    assert_fail(
        await axis.post("/getEdocTrail", json={"documentId": "000.00.01.H33,2025/06/02,1/X"}),
        404,
        "DOCUMENT_NOT_FOUND",
    )


# --- what the axis does not take --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sendEdoc", "/sendStatus"])
@pytest.mark.parametrize(
    ("data", "rule"),
    [
        pytest.param(b"<edXML/>", "not_edxml", id="not-edxml"),
        pytest.param(b"<a>", "not_well_formed", id="not-well-formed"),
        pytest.param(b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
                     "dtd_forbidden", id="xxe"),
        pytest.param("<a>Hà Nam</a>".encode("cp1258"), "not_utf8", id="not-utf8"),
    ],
)  # fmt: skip
async def test_malformed_xml_is_refused(
    axis_lite: httpx.AsyncClient, path: str, data: bytes, rule: str
) -> None:
    response = await submit(axis_lite, data, path=path)

    assert assert_fail(response, 422, "INVALID_EDXML")["Rule"] == rule


async def test_a_document_whose_id_does_not_match_its_header_crosses_the_axis_by_that_id(
    axis_lite: httpx.AsyncClient,
) -> None:
    document = make_document(to=(TG_STP,), document_id="000.00.01.H33,2025/06/02,99/STP-TEST")

    response = await submit(axis_lite, render_edxml(document))

    assert response.status_code == 200, response.text
    assert response.json()["DocumentId"] == "000.00.01.H33,2025/06/02,99/STP-TEST"


@pytest.mark.parametrize(
    ("path", "size"),
    [("/sendEdoc", 20 * 1024 * 1024 + 1), ("/sendStatus", 256 * 1024 + 1), ("/getEdocTrail", 4097)],
)
async def test_an_oversized_body_is_refused_unread(
    axis_lite: httpx.AsyncClient, path: str, size: int
) -> None:
    content_type = "application/json" if path == "/getEdocTrail" else "application/xml"

    response = await axis_lite.post(
        path, content=b" " * size, headers={"Content-Type": content_type}
    )

    assert_fail(response, 413, "TOO_LARGE")


@pytest.mark.parametrize("body", [{}, {"documentId": ""}, {"documentId": 7}, {"docId": "x"}])
async def test_an_invalid_trail_request_is_refused_with_its_errors(
    axis_lite: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    answer = assert_fail(await axis_lite.post("/getEdocTrail", json=body), 422, "INVALID_REQUEST")

    assert answer["Errors"]


@pytest.mark.parametrize("path", ["/sendEdoc", "/sendStatus"])
async def test_an_invalid_idempotency_key_is_refused(
    axis_lite: httpx.AsyncClient, path: str
) -> None:
    data = render_edxml(make_document(to=(TG_STP,)))

    response = await axis_lite.post(
        path, content=data, headers={**XML, "Idempotency-Key": "with space"}
    )

    assert_fail(response, 400, "INVALID_IDEMPOTENCY_KEY")


async def test_without_bus_access_the_axis_forwards_nothing(sqlite_url: str) -> None:
    async with running(sqlite_url, bus=False) as axis:
        response = await submit(axis, render_edxml(make_document(to=(TG_STP,))))

    assert_fail(response, 503, "NOT_CONNECTED")
