"""The portal's OpenCPS sync loop against a scripted door (`mocks/dvc/opencps_sync.py`): what
it sends, and what it makes of each answer — synced, "-3 đã tồn tại", retried, reported."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from adapters.dialects import opencps as door
from mocks.bus import BusClient
from mocks.config import SystemConfig
from mocks.db import MockDatabase, open_mock_database
from mocks.dvc.app import create_app
from mocks.dvc.models import DvcBase, NationalSync
from mocks.dvc.opencps_sync import (
    MAX_ATTEMPTS,
    NationalSyncer,
    OpenCpsClient,
    opencps_item,
    portal_dstcode,
    queued_sync,
    running_syncer,
    sync_json,
)
from mocks.dvc.seed import seeded_dossiers
from tests.fixtures.apps import serving

pytestmark = pytest.mark.anyio

START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
Script = Callable[[str, dict[str, Any]], dict[str, Any] | httpx.Response]


def dossier_of(index: int = 0) -> Any:
    return seeded_dossiers(instance="kiengiang", province_code="91", seed=7, population=45)[index]


class Door:
    """The OpenCPS door as a script: `answer(service, body)`; every request is kept."""

    def __init__(self, answer: Script) -> None:
        self.answer = answer
        self.requests: list[tuple[str, dict[str, str], dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append((request.url.path, dict(request.headers), body))
        if request.url.path.endswith("/auth"):
            return httpx.Response(200, json={"error_code": "0", "message": "", "session": "s-1"})
        reply = self.answer(body["service"], body)
        return reply if isinstance(reply, httpx.Response) else httpx.Response(200, json=reply)

    def services(self) -> list[str]:
        return [body.get("service", "auth") for _, _, body in self.requests]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[MockDatabase]:
    async with open_mock_database(
        f"sqlite+aiosqlite:///{tmp_path / 'dvc.db'}", DvcBase.metadata
    ) as opened:
        yield opened


async def syncer_for(
    database: MockDatabase, script: Script, clock: Clock
) -> tuple[NationalSyncer, Door, httpx.AsyncClient]:
    scripted = Door(script)
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(scripted), base_url="http://bus.test/lgsp/kiengiang/"
    )
    bus = BusClient(http, client_id="system-dvc", client_secret="s3cret", now=clock)
    client = OpenCpsClient(bus, "system-dvc", "s3cret", portal_dstcode("91", era="2024"))
    return (
        NationalSyncer(database.sessions, client, instance="kiengiang", clock=clock),
        scripted,
        http,
    )


async def queue(database: MockDatabase, *dossiers: Any) -> None:
    async with database.sessions.begin() as session:
        for dossier in dossiers:
            session.add(
                queued_sync(
                    dossier,
                    instance="kiengiang",
                    province_code="91",
                    request_id="req-1",
                    now=START,
                )
            )


async def rows(database: MockDatabase) -> list[NationalSync]:
    async with database.sessions() as session:
        return list((await session.scalars(select(NationalSync).order_by(NationalSync.id))).all())


def reply(code: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"error_code": code, "message": message, **extra}


def test_the_item_is_one_the_opencps_door_takes() -> None:
    dossier = dossier_of()

    item = opencps_item(dossier, province_code="91")
    body = door.sync_body(item, province_code="91", step=1, now=START)

    assert isinstance(item["DonViXuLy"], str)
    assert item["HinhThuc"] == "0"
    assert body["dossier"]["code"] == dossier.code
    assert body["dossier"]["status"] == dossier.status
    assert "DuLieuBieuMau" not in item  # the portal's own additions stay home


async def test_a_new_dossier_is_looked_up_then_created_with_the_dstcode(
    database: MockDatabase,
) -> None:
    await queue(database, dossier_of())
    syncer, scripted, http = await syncer_for(
        database, lambda service, body: reply("0", result=[]), Clock()
    )

    async with http:
        assert await syncer.sync_due() == 1

    assert scripted.services() == ["auth", "TraCuuHoSo", "DongBoHoSoMC"]
    assert all(headers["dstcode"] == "000.00.00.H33" for _, headers, _ in scripted.requests)
    assert all(headers["x-request-id"] == "req-1" for _, headers, _ in scripted.requests)
    assert scripted.requests[0][2] == {"username": "system-dvc", "password": "s3cret"}
    assert scripted.requests[2][2]["isUpdating"] == "False"
    assert scripted.requests[2][2]["session"] == "s-1"
    [row] = await rows(database)
    assert (row.state, row.attempts, row.error_code) == ("synced", 1, None)  # its one call


@pytest.mark.parametrize(("era", "dstcode"), [("2026", "000.00.00.H01"), ("2024", "000.00.00.H33")])
async def test_the_portal_logs_in_as_its_eras_peoples_committee(
    database: MockDatabase, era: str, dstcode: str
) -> None:
    """Kiên Giang's portal in era 2026 is An Giang's since 1 July 2025: a code the merger
    closed (H33) is refused by the door, so it sends today's province's."""
    config = SystemConfig(
        instance="kiengiang", province_code="91", era=era, bus_client_id="system-dvc"
    )
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(Door(lambda service, body: reply("0", result=[]))),
        base_url="http://bus.test/lgsp/kiengiang/",
    )
    bus = BusClient(http, client_id="system-dvc", client_secret="s3cret", now=Clock())

    async with http, running_syncer(config, bus, database, province_code="91") as syncer:
        assert syncer.client.dstcode == dstcode


async def test_a_dossier_the_national_portal_has_is_updated(database: MockDatabase) -> None:
    await queue(database, dossier_of())
    found = reply("0", result=[{"MaHoSo": "x"}])
    syncer, scripted, http = await syncer_for(
        database, lambda service, body: found if service == "TraCuuHoSo" else reply("0"), Clock()
    )

    async with http:
        await syncer.sync_due()

    assert scripted.requests[2][2]["isUpdating"] == "True"
    assert (await rows(database))[0].state == "synced"


async def test_exists_with_da_ton_tai_counts_as_already_synced(database: MockDatabase) -> None:
    await queue(database, dossier_of())
    exists = reply("-3", "Hồ sơ X đã tồn tại")
    syncer, scripted, http = await syncer_for(
        database,
        lambda service, body: exists if service == "DongBoHoSoMC" else reply("0", result=[]),
        Clock(),
    )

    async with http:
        await syncer.sync_due()

    [row] = await rows(database)
    assert (row.state, row.attempts, row.error_code) == ("synced", 1, "-3")
    assert scripted.services().count("DongBoHoSoMC") == 1


@pytest.mark.parametrize(
    "answer",
    [
        reply("-2", "TrangThaiHoSo must be a code from 1 to 10."),
        reply("-3", "something else"),  # "-3" without "đã tồn tại" is no "exists"
        httpx.Response(502, text="bad gateway"),
    ],
    ids=["bad-request", "-3-other", "http-502"],
)
async def test_a_refusal_is_retried_later_then_reported_failed(
    database: MockDatabase, answer: dict[str, Any] | httpx.Response
) -> None:
    await queue(database, dossier_of())
    clock = Clock()
    syncer, scripted, http = await syncer_for(
        database,
        lambda service, body: answer if service == "DongBoHoSoMC" else reply("0", result=[]),
        clock,
    )

    async with http:
        await syncer.sync_due()
        first = (await rows(database))[0]
        not_yet = await syncer.sync_due()  # its retry is not due yet
        for _ in range(MAX_ATTEMPTS - 1):
            clock.now += timedelta(minutes=10)
            await syncer.sync_due()

    assert (first.state, first.attempts) == ("pending", 1)
    assert first.error_code == (
        "HTTP 502" if isinstance(answer, httpx.Response) else answer["error_code"]
    )
    assert not_yet == 0
    [row] = await rows(database)
    assert (row.state, row.attempts) == ("failed", MAX_ATTEMPTS)
    assert scripted.services().count("DongBoHoSoMC") == MAX_ATTEMPTS


async def test_a_sync_delivered_after_a_refusal_counts_both_calls(database: MockDatabase) -> None:
    """As the bus's outbox counts a hand-over's (`attempts: 1` delivered at once): the
    delivering call counts; the report still tells the refused ones apart."""
    await queue(database, dossier_of())
    clock = Clock()
    answers = iter([reply("-2", "DonViXuLy is required."), reply("0")])
    syncer, scripted, http = await syncer_for(
        database,
        lambda service, body: next(answers) if service == "DongBoHoSoMC" else reply("0", result=[]),
        clock,
    )

    async with http:
        await syncer.sync_due()
        clock.now += timedelta(minutes=10)
        await syncer.sync_due()

    [row] = await rows(database)
    assert (row.state, row.attempts) == ("synced", 2)
    assert (sync_json(row)["SoLanLoi"], sync_json(row)["SoLanGui"]) == (1, 2)
    assert scripted.services().count("DongBoHoSoMC") == 2


async def test_a_dossiers_later_change_waits_for_its_earlier_one(database: MockDatabase) -> None:
    first, other = dossier_of(0), dossier_of(1)
    await queue(database, first, first, other)
    clock = Clock()
    refuse = {"on": True}

    def script(service: str, body: dict[str, Any]) -> dict[str, Any]:
        if service == "DongBoHoSoMC" and refuse["on"]:
            return reply("-9", "unavailable")
        return reply("0", result=[])

    syncer, scripted, http = await syncer_for(database, script, clock)
    async with http:
        taken = await syncer.sync_due()
        refuse["on"] = False
        clock.now += timedelta(seconds=5)
        await syncer.sync_due()
        await syncer.sync_due()

    assert taken == 2  # the first change of each dossier, not the second of `first`
    assert [row.state for row in await rows(database)] == ["synced", "synced", "synced"]


async def test_a_refused_login_leaves_every_row_for_later(database: MockDatabase) -> None:
    await queue(database, dossier_of())

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=reply("-1", "username or password is wrong."))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://bus.test/")
    bus = BusClient(http, client_id="system-dvc", client_secret="wrong", now=Clock())
    client = OpenCpsClient(bus, "system-dvc", "wrong", portal_dstcode("91", era="2024"))
    syncer = NationalSyncer(database.sessions, client, instance="kiengiang", clock=Clock())

    async with http:
        assert await syncer.sync_due() == 0

    [row] = await rows(database)
    assert (row.state, row.attempts, row.error_code) == ("pending", 1, "-1")


async def test_the_portal_reports_its_syncs_newest_first_without_personal_data(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'portal.db'}"
    config = SystemConfig(instance="kiengiang", province_code="91", population=45, database_url=url)
    dossier = dossier_of()
    async with serving(create_app(config), "http://dvc.test") as portal:
        async with open_mock_database(url, DvcBase.metadata) as database:
            await queue(database, dossier, dossier_of(1))
            syncer, _, http = await syncer_for(
                database, lambda service, body: reply("-2", "DonViXuLy is required."), Clock()
            )
            async with http:
                await syncer.sync_due()

        listed = await portal.get("/api/dongbo")
        failing = await portal.get("/api/dongbo", params={"trangThai": "pending", "soBanGhi": 1})
        refused = await portal.get("/api/dongbo", params={"trangThai": "lost"})

    assert listed.status_code == 200, listed.text
    data = listed.json()["data"]
    assert data["TongSo"] == 2
    assert [row["MaHoSo"] for row in data["DanhSach"]] == [dossier_of(1).code, dossier.code]
    assert data["DanhSach"][1] | {"LanGuiTiepTheo": None} == {
        "MaHoSo": dossier.code,
        "ThuTu": dossier.progress[-1].position,
        "TrangThaiDongBo": "pending",
        "SoLanLoi": 1,
        "SoLanGui": 1,
        "MaLoi": "-2",
        "ThongBao": "DonViXuLy is required.",
        "LanGuiTiepTheo": None,
        "ThoiDiemDongBo": None,
    }
    assert dossier.applicant_id_number not in listed.text
    assert len(failing.json()["data"]["DanhSach"]) == 1
    assert (refused.status_code, refused.json()["error_code"]) == (400, "302")
