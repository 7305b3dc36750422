"""The provincial portal hands each dossier change for DVCQG to its LGSP, inside the change.

The bus is the `FakeBus` of `test_dvc_app.py`, which records each hand-over (`Prefer:
respond-async`, `mocks/bus.py`) and answers 202 as the real bus does once it has stored the call
(`lgsp/outbox/handoff.py`). The hand-overs are read back and, at the end, delivered by hand
through the `dvcqg` adapter to the mock national portal, as the bus's worker would, to show the
national view they build.
"""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect

from adapters._dvcqg_contracts import SyncRequest
from adapters.base import CanonicalRequest, SystemResponse
from adapters.dvcqg import CONTRACTS, DvcqgAdapter
from kit.db import make_engine
from mocks.bus import sealed_key
from mocks.dvc.schemas import dossier_json
from mocks.dvc.seed import seeded_dossier_codes, seeded_dossiers
from mocks.dvcqg.app import create_app as create_dvcqg_app
from tests.fixtures.apps import serving
from tests.fixtures.clocks import WallClock
from tests.fixtures.envelopes import envelope_error
from tests.fixtures.handovers import DVCQG_SYNC, Handed
from tests.unit.mocks.test_dvc_app import (
    CITIZEN,
    CLIENT_ID,
    CLIENT_SECRET,
    START,
    FakeBus,
    config_for,
    data_of,
    file_dossier,
    filing,
    portal,
    step,
)

# The portal's fixtures (`bus`, `clock`, `db_url`, `client`) are test_dvc_app's own.
from tests.unit.mocks.test_dvc_app import fx_bus as fx_bus
from tests.unit.mocks.test_dvc_app import fx_client as fx_client
from tests.unit.mocks.test_dvc_app import fx_clock as fx_clock

pytestmark = pytest.mark.anyio

LIFECYCLE = ["receive", "start_processing", "request_supplement", "supplement_received"]


async def walk_the_lifecycle(client: httpx.AsyncClient, clock: WallClock) -> tuple[str, Any]:
    """Files a dossier and takes it through `LIFECYCLE`, an hour a step; its code and last state."""
    code = (await file_dossier(client))["MaHoSo"]
    for action in LIFECYCLE:
        clock.advance(hours=1)
        data_of(await step(client, code, action))
    return code, data_of(await client.get(f"/api/hoso/{code}"))


def sync_of(message: Handed) -> SyncRequest:
    """The message's body, validated against the published `dvcqg` contract."""
    return SyncRequest.model_validate_json(message.body)


# --- one message per change ------------------------------------------------------------------


async def test_filing_hands_over_the_sync_of_step_one(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await client.post("/api/hoso", json=filing(), headers={"X-Request-ID": "req-42"})
    code = data_of(response, 201)["MaHoSo"]

    [message] = bus.handed
    assert (message.instance, message.client_id, message.request_id) == (
        "kiengiang",
        CLIENT_ID,
        "req-42",
    )
    assert (message.service, message.version, message.method, message.path) == DVCQG_SYNC
    assert (message.idempotency_key, message.ordering_key) == (
        f"dvcqg:{code}:1",
        f"dossier:{code}",
    )
    # Sealed with the portal's secret: no one else can compute the key (issue 15, F3).
    assert message.sent_key == sealed_key(CLIENT_SECRET, f"dvcqg:{code}:1")
    assert message.sent_key != sealed_key("another secret", f"dvcqg:{code}:1")
    assert (message.content_type, message.target_instance) == ("application/json", None)
    sync = sync_of(message)
    assert (sync.province_code, sync.step, sync.dossier.code, sync.dossier.status) == (
        "91",
        1,
        code,
        1,
    )
    assert (sync.progress.action, sync.progress.actor) == ("submit", CITIZEN.ho_va_ten)
    assert sync.dossier.applicant.identification is not None
    assert sync.dossier.applicant.identification.number == CITIZEN.so_dinh_danh


async def test_the_sync_carries_no_more_personal_data_than_dvcqg_is_sent(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    await file_dossier(client)

    [message] = bus.handed
    text = message.body.decode()
    for private in (CITIZEN.ngay_thang_nam_sinh, "congdan@example.vn", "0912345678", "Trần Phú"):
        assert private not in text
    assert "to-khai-CT01.pdf" not in text


async def test_each_step_hands_over_its_own_sync_in_order(
    client: httpx.AsyncClient, clock: WallClock, bus: FakeBus
) -> None:
    code, final = await walk_the_lifecycle(client, clock)

    messages = bus.handed
    assert [m.idempotency_key for m in messages] == [f"dvcqg:{code}:{n}" for n in range(1, 6)]
    assert {m.ordering_key for m in messages} == {f"dossier:{code}"}
    syncs = [sync_of(m) for m in messages]
    assert [(s.step, s.dossier.status, s.progress.action) for s in syncs] == [
        (1, 1, "submit"),
        (2, 2, "receive"),
        (3, 4, "start_processing"),
        (4, 5, "request_supplement"),
        (5, 4, "supplement_received"),
    ]
    assert [s.progress.at for s in syncs] == [START.replace(hour=h) for h in range(9, 14)]
    last = syncs[-1]
    assert last.dossier.due_at is not None
    assert last.dossier.due_at.strftime("%Y%m%d%H%M%S") == final["NgayHenTra"]
    assert [e["NguoiXuLy"] for e in final["TienTrinh"]] == [s.progress.actor for s in syncs]


async def test_without_a_request_id_each_change_gets_a_fresh_one(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    code = (await file_dossier(client))["MaHoSo"]
    data_of(await step(client, code, "receive"))
    data_of(
        await client.post(
            f"/api/hoso/{code}/tientrinh",
            json={"HanhDong": "start_processing", "NguoiXuLy": "A"},
            headers={"X-Request-ID": "step-3"},
        )
    )

    ids = [message.request_id or "" for message in bus.handed]
    assert ids[2] == "step-3"
    assert len(set(ids)) == 3
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids[:2])


async def test_concurrent_filings_each_hand_over_their_own_sync(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    responses = await asyncio.gather(*(client.post("/api/hoso", json=filing()) for _ in range(10)))

    codes = {data_of(response, 201)["MaHoSo"] for response in responses}
    keys = [message.idempotency_key for message in bus.handed]
    assert sorted(keys) == sorted(f"dvcqg:{code}:1" for code in codes)


# --- nothing is handed over for what did not change --------------------------------------------


async def test_seeding_hands_over_nothing(client: httpx.AsyncClient, bus: FakeBus) -> None:
    listing = data_of(await client.get("/api/hoso", params={"soBanGhi": 100}))

    assert listing["TongSo"] == 10
    assert bus.handed == []


async def test_refused_and_illegal_changes_hand_over_nothing(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    code = (await file_dossier(client))["MaHoSo"]

    envelope_error(await step(client, code, "complete"), 409, "409")
    envelope_error(await step(client, code, "approve"), 422, "500")
    envelope_error(await step(client, "000.00.07.H33-260302-0999", "receive"), 404, "201")
    envelope_error(await client.post("/api/hoso", json=filing(ChuHoSo="Trần Thị Bích")), 422, "500")
    bus.verify_status = 503
    envelope_error(await client.post("/api/hoso", json=filing()), 502, "502")

    assert [message.idempotency_key for message in bus.handed] == [f"dvcqg:{code}:1"]


@pytest.mark.parametrize("change", ["filing", "step"])
@pytest.mark.parametrize(
    ("refusal", "status"),
    [
        pytest.param("503", 502, id="bus-answers-503"),
        pytest.param("403", 502, id="bus-refuses-the-right"),
        pytest.param("down", 502, id="bus-unreachable"),
        pytest.param("slow", 504, id="bus-times-out"),
    ],
)
async def test_a_change_whose_sync_the_bus_did_not_take_is_not_made(
    db_url: str, bus: FakeBus, clock: WallClock, change: str, refusal: str, status: int
) -> None:
    """The hand-over is inside the change's transaction: no 202, no change (and no sync)."""
    transport = FailingHandOver(bus)
    async with portal(config_for(db_url), transport, clock) as client:
        code = (await file_dossier(client))["MaHoSo"]
        if refusal in ("503", "403"):
            bus.handovers.refuse_with = int(refusal)
        else:
            transport.error = httpx.ConnectError("refused") if refusal == "down" else None
            transport.error = transport.error or httpx.ReadTimeout("no answer")
        response = await _change(client, change, code)
        dossier = data_of(await client.get(f"/api/hoso/{code}"))
        listing = data_of(await client.get("/api/hoso", params={"trangThai": 1, "soBanGhi": 100}))

    envelope_error(response, status, str(status))
    assert [message.idempotency_key for message in bus.handed] == [f"dvcqg:{code}:1"]
    assert (dossier["TrangThaiHoSo"], len(dossier["TienTrinh"])) == ("1", 1)
    assert listing["TongSo"] == 2  # this one and the seeded new one: the failed filing is gone


class FailingHandOver(httpx.AsyncBaseTransport):
    """The fake bus, except that hand-overs fail with `error`, once it is set (no answer)."""

    def __init__(self, bus: FakeBus) -> None:
        self._bus = httpx.ASGITransport(app=bus.app)
        self.error: Exception | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.error is not None and request.headers.get("prefer") == "respond-async":
            raise self.error
        return await self._bus.handle_async_request(request)


async def _change(client: httpx.AsyncClient, change: str, code: str) -> httpx.Response:
    if change == "filing":
        return await client.post("/api/hoso", json=filing())
    return await step(client, code, "receive")


async def test_a_portal_without_a_client_on_its_lgsp_hands_over_nothing(
    db_url: str, clock: WallClock, bus: FakeBus
) -> None:
    config = config_for(db_url, bus_url=None, bus_client_id=None, bus_client_secret=None)
    code = seeded_dossier_codes(province_code="91", seed=7, population=45)[0]  # status 1
    async with portal(config, httpx.ASGITransport(app=bus.app), clock) as client:
        received = data_of(await step(client, code, "receive"))

    assert received["TrangThaiHoSo"] == "2"
    assert bus.handed == []


async def test_the_portal_keeps_no_table_of_the_bus(
    bus: FakeBus, clock: WallClock, tmp_path: Any
) -> None:
    """Its database is its own: syncs leave over HTTP, not through an outbox table it shares."""
    alone = f"sqlite+aiosqlite:///{tmp_path / 'portal-only.db'}"
    async with portal(config_for(alone), httpx.ASGITransport(app=bus.app), clock) as client:
        code = (await file_dossier(client))["MaHoSo"]

    engine = make_engine(alone)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert tables
    assert all(table.startswith("dvc_") for table in tables)
    assert [message.idempotency_key for message in bus.handed] == [f"dvcqg:{code}:1"]


# --- what DVCQG makes of them ----------------------------------------------------------------


async def deliver(
    dvcqg: httpx.AsyncClient, message: Handed, adapter: DvcqgAdapter
) -> dict[str, Any]:
    """What the bus's worker does: the call through the gateway's adapter, with its key."""
    canonical = CanonicalRequest(
        "sync_dossier", {}, body=message.body, content_type=message.content_type
    )
    sent = adapter.to_system(canonical)
    response = await dvcqg.request(
        sent.method,
        sent.path,
        content=sent.body,
        headers={**sent.headers, "Idempotency-Key": message.idempotency_key or ""},
    )
    answer = adapter.to_canonical(canonical, SystemResponse(response.status_code, response.content))
    result: dict[str, Any] = (
        CONTRACTS["sync_dossier"].response.model_validate(answer.content).model_dump()
    )
    return result


async def test_delivered_in_any_order_and_twice_the_syncs_build_the_same_history(
    client: httpx.AsyncClient, clock: WallClock, db_url: str, bus: FakeBus
) -> None:
    code, provincial = await walk_the_lifecycle(client, clock)
    messages = list(bus.handed)
    shuffled = random.Random(7).sample(messages, len(messages))  # noqa: S311 - test order

    app = create_dvcqg_app(config_for(db_url, provinces={"91": "kiengiang"}), now=clock)
    adapter = DvcqgAdapter(today=lambda: START.date())
    async with serving(app, "http://dvcqg.test") as dvcqg:
        first = [await deliver(dvcqg, message, adapter) for message in shuffled]
        again = [await deliver(dvcqg, message, adapter) for message in messages]
        lookup = CanonicalRequest("get_dossier", {"code": code})
        sent = adapter.to_system(lookup)
        response = await dvcqg.post(sent.path, content=sent.body, headers=sent.headers)
        national = adapter.to_canonical(
            lookup, SystemResponse(response.status_code, response.content)
        ).content

    assert not any(result["duplicate"] for result in first)
    assert all(result["duplicate"] for result in again)
    assert (national["step"], national["status"]["code"]) == (5, int(provincial["TrangThaiHoSo"]))
    assert [
        (e["step"], str(e["status"]["code"]), e["action"], e["actor"]) for e in national["history"]
    ] == [
        (n, e["TrangThai"], e["HanhDong"], e["NguoiXuLy"])
        for n, e in enumerate(provincial["TienTrinh"], start=1)
    ]
    assert national["due_at"] is not None
    assert national["applicant"]["identification"]["number_masked"] == (
        CITIZEN.so_dinh_danh[:3] + "*" * 7 + CITIZEN.so_dinh_danh[-2:]
    )


# --- the seed, built without a database ------------------------------------------------------


async def test_seeded_dossiers_built_in_memory_are_the_ones_the_portal_writes(
    client: httpx.AsyncClient,
) -> None:
    built = seeded_dossiers(instance="kiengiang", province_code="91", seed=7, population=45)
    served = [data_of(await client.get(f"/api/hoso/{dossier.code}")) for dossier in built]

    assert [dossier_json(dossier, province_code="91") for dossier in built] == served
    assert json.dumps(served, ensure_ascii=False).count("TienTrinh") == 10
