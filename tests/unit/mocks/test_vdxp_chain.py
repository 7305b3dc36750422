"""Province A → national axis → province B and back, the three mocks chained by hand.

No gateway and no worker: each mock hands its messages to a stand-in for the bus
(`HandoverBus`), and a tiny courier posts each one to the mock its service and path name, with
its `Idempotency-Key` and `X-Request-ID`, as the bus will. It delivers every message twice, as
an at-least-once worker may.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from formats.edxml import render_edxml
from mocks.bus import Handover
from mocks.config import SystemConfig
from mocks.qlvb.app import create_app as create_qlvb
from mocks.vdxp.app import create_app as create_vdxp
from mocks.vdxp.sdk import outbox_key
from tests.fixtures.apps import running
from tests.fixtures.documents import NOW
from tests.fixtures.handovers import Handed, HandoverBus, bus_access
from tests.unit.mocks.test_qlvb_app import assert_ok, make_document, status_message

pytestmark = pytest.mark.anyio

PROVINCES = {"91": "kiengiang", "82": "tiengiang"}
KG_STP, KG_STC = "000.00.01.H33", "000.00.03.H33"  # Kiên Giang: Sở Tư pháp, Sở Tài chính
TG_STP, TG_UBND = "000.00.01.H58", "000.00.00.H58"  # Tiền Giang
XML = {"Content-Type": "application/xml"}
# Where each deferred call lands: (service, path) → (mock, its own path). The qlvb inbound
# calls go to the instance the row targets.
ROUTES = {
    ("vdxp", "/documents"): "/sendEdoc",
    ("vdxp", "/statuses"): "/sendStatus",
    ("qlvb", "/inbound/documents"): "/receiveEdoc",
    ("qlvb", "/inbound/statuses"): "/receiveStatus",
}


class Courier:
    """Delivers the hand-overs by hand, oldest first, each twice; records the answers."""

    def __init__(self, handovers: HandoverBus, mocks: dict[str, httpx.AsyncClient]) -> None:
        self._handovers = handovers
        self._mocks = mocks
        self._done = 0
        self.answers: list[tuple[str, str, list[dict[str, Any]]]] = []

    async def pending(self) -> list[Handed]:
        rows = self._handovers.handed[self._done :]
        self._done += len(rows)
        return rows

    async def run(self) -> int:
        """Deliver until nothing is left; how many messages were delivered."""
        delivered = 0
        while rows := await self.pending():
            for row in rows:
                mock = self._mocks[row.target_instance or row.service]
                headers = {
                    "Content-Type": row.content_type or "",
                    "Idempotency-Key": row.idempotency_key,
                    "X-Request-ID": row.request_id or "",
                }
                path = ROUTES[(row.service, row.path)]
                answers = [
                    assert_ok(await mock.post(path, content=row.body, headers=headers))
                    for _ in range(2)
                ]
                self.answers.append((row.idempotency_key, path, answers))
                delivered += 1
        return delivered


@asynccontextmanager
async def serving(app: FastAPI, stack: AsyncExitStack) -> AsyncIterator[httpx.AsyncClient]:
    manager = await stack.enter_async_context(running(app))
    transport = httpx.ASGITransport(app=manager.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        yield client


@pytest.fixture(name="mocks")
async def fx_mocks(
    database_url: str, engine: AsyncEngine, handovers: HandoverBus
) -> AsyncIterator[dict[str, Any]]:
    """Kiên Giang's and Tiền Giang's document endpoints and the national axis, one database."""

    def config(instance: str, province_code: str | None, system: str) -> SystemConfig:
        return SystemConfig(
            instance=instance,
            province_code=province_code,
            provinces=PROVINCES,
            database_url=database_url,
            seed=7,
            **bus_access(instance, system),
        )

    def qlvb(instance: str, province_code: str) -> FastAPI:
        settings = config(instance, province_code, "qlvb")
        return create_qlvb(settings, bus_transport=handovers.transport(), now=lambda: NOW)

    axis = create_vdxp(
        config("ndxp", None, "vdxp"), bus_transport=handovers.transport(), now=lambda: NOW
    )

    async with AsyncExitStack() as stack:
        clients = {
            "kiengiang": await stack.enter_async_context(serving(qlvb("kiengiang", "91"), stack)),
            "tiengiang": await stack.enter_async_context(serving(qlvb("tiengiang", "82"), stack)),
            "vdxp": await stack.enter_async_context(serving(axis, stack)),
        }
        yield {**clients, "courier": Courier(handovers, clients), "handovers": handovers}


async def report(client: httpx.AsyncClient, document: dict[str, Any], organ: str, code: str) -> Any:
    return assert_ok(
        await client.post(
            "/updateStatus", content=status_message(document, organ, code), headers=XML
        )
    )


async def trace_of(client: httpx.AsyncClient, document_id: str) -> dict[str, Any]:
    body = assert_ok(await client.post("/getEdocTrace", json={"documentId": document_id}))
    return {delivery["OrganId"]: delivery for delivery in body["trace"]}


async def test_a_document_reaches_the_other_province_once_and_its_statuses_come_back(
    mocks: dict[str, Any],
) -> None:
    kg, tg, vdxp, courier = mocks["kiengiang"], mocks["tiengiang"], mocks["vdxp"], mocks["courier"]
    document = make_document(sender=KG_STP, to=(KG_STC, TG_STP, TG_UBND), number="8601")
    data = render_edxml(document)

    sent = assert_ok(
        await kg.post("/sendEdoc", content=data, headers={**XML, "X-Request-ID": "chain-1"})
    )
    assert await courier.run() == 2  # KG → axis, axis → TG
    for code in ("01", "03"):
        await report(tg, document, TG_STP, code)
    await report(tg, document, TG_UBND, "01")
    assert await courier.run() == 6  # three statuses, each TG → axis → KG

    inbox = assert_ok(await tg.post("/getReceivedEdocList", json={"organId": TG_STP}))
    mine = [item for item in inbox["data"] if item["documentId"] == sent["DocumentId"]]
    fetched = await tg.post("/getEdoc", json={"docId": mine[0]["id"]})
    at_kg = await trace_of(kg, sent["DocumentId"])
    trail = assert_ok(await vdxp.post("/getEdocTrail", json={"documentId": sent["DocumentId"]}))

    assert len(mine) == 1
    assert fetched.content == data  # the sender's bytes, end to end
    assert sent["Recipients"] == [  # the remote ones in transit
        {"OrganId": KG_STC, "StatusCode": None},
        {"OrganId": TG_STP, "StatusCode": None},
        {"OrganId": TG_UBND, "StatusCode": None},
    ]
    assert at_kg[KG_STC]["RemoteInstance"] is None
    assert (at_kg[TG_STP]["RemoteInstance"], at_kg[TG_STP]["StatusCode"]) == ("tiengiang", "03")
    assert [h["StatusCode"] for h in at_kg[TG_STP]["History"]] == ["01", "03"]
    assert at_kg[TG_STP]["History"][0]["Timestamp"] == "2025-06-02T09:20:00"  # the message's
    assert [h["StatusCode"] for h in at_kg[TG_UBND]["History"]] == ["01"]
    assert [d["Instance"] for d in trail["Destinations"]] == ["tiengiang"]
    assert [(s["From"], s["StatusCode"]) for s in trail["Statuses"]] == [
        (TG_STP, "01"),
        (TG_STP, "03"),
        (TG_UBND, "01"),
    ]
    # Every second delivery of a message was recognised as a redelivery.
    assert all(
        [a["Duplicate"] for a in answers] == [False, True] for *_, answers in courier.answers
    )


async def test_the_request_id_of_the_send_travels_with_the_document(
    mocks: dict[str, Any],
) -> None:
    kg, courier = mocks["kiengiang"], mocks["courier"]
    document = make_document(sender=KG_STP, to=(TG_STP,), number="8602")

    await kg.post(
        "/sendEdoc", content=render_edxml(document), headers={**XML, "X-Request-ID": "chain-2"}
    )
    await courier.run()

    assert {row.request_id for row in mocks["handovers"].handed} == {"chain-2"}


async def test_a_recall_crosses_to_the_recipient_and_its_answer_crosses_back(
    mocks: dict[str, Any],
) -> None:
    kg, tg, courier = mocks["kiengiang"], mocks["tiengiang"], mocks["courier"]
    document = make_document(sender=KG_STP, to=(TG_STP,), number="8603")
    sent = assert_ok(await kg.post("/sendEdoc", content=render_edxml(document), headers=XML))
    await courier.run()
    for code in ("01", "03"):
        await report(tg, document, TG_STP, code)
    await courier.run()

    await report(kg, document, KG_STP, "13")  # the sender asks for it back
    await courier.run()
    in_recall = (await trace_of(tg, sent["DocumentId"]))[TG_STP]
    await report(tg, document, TG_STP, "15")
    await courier.run()

    assert (in_recall["StatusCode"], in_recall["StatusBeforeRecall"]) == ("13", "03")
    at_kg = (await trace_of(kg, sent["DocumentId"]))[TG_STP]
    assert [h["StatusCode"] for h in at_kg["History"]] == ["01", "03", "13", "15"]
    assert (await trace_of(tg, sent["DocumentId"]))[TG_STP]["StatusCode"] == "15"


@pytest.mark.parametrize(
    "document_id",
    ["000.00.00.G22,2015/09/30,7816/VPCP-TTĐT", "000.00.01.H33,2025/06/02,1/" + "X" * 200],
)
def test_an_outbox_key_is_visible_ascii_whatever_the_document_id(document_id: str) -> None:
    """The SDK's own notation `VPCP-TTĐT` once made every hand-over of its document fail."""
    key = outbox_key("edoc", document_id)

    handover = Handover("vdxp", "v1", "/x", b"", "application/xml", key, ordering_key=key)

    assert handover.idempotency_key == key
    assert key == outbox_key("edoc", document_id)
