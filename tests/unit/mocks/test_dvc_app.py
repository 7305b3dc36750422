"""The mock portal's own HTTP API, standalone: its database, its lifespan, and a fake bus.

The bus is someone else's HTTP from the portal's point of view, so a small Starlette app stands
in for it (`FakeBus`): a token endpoint and the citizen check, recording what the portal sent.
The database is the shared `database_url` (SQLite here; PostgreSQL too when
LGSP_TEST_DATABASE_URL is set), so the concurrency tests run on both.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.util import await_only
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import CanonicalRequest, SystemResponse
from adapters.dvc import CONTRACTS, DvcAdapter
from formats.dates import VIETNAM_TIME, parse_ddmmyyyy
from mocks.config import SystemConfig
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.db import open_mock_database
from mocks.dvc.app import create_app
from mocks.dvc.models import Dossier, DossierCounter, DvcBase
from mocks.dvc.store import DossierStore
from tests.fixtures.apps import serving
from tests.fixtures.clocks import WallClock
from tests.fixtures.dossiers import birth_registration
from tests.fixtures.envelopes import envelope_error
from tests.fixtures.handovers import Handed, HandoverBus

pytestmark = pytest.mark.anyio

BUS = "http://bus.test/lgsp/kiengiang"
CLIENT_ID, CLIENT_SECRET = "system-dvc", "portal-secret"
START = datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM_TIME)  # a Monday, a working day
RESIDENCE = "1.004222.000.00.00.H33"  # Đăng ký thường trú: 7 working days, Công an phường
AGENCY = "000.00.07.H33"
PDF = b"%PDF-1.4 mock form"
POPULATION = generate_citizens(province_code="91", seed=7, count=45)
# Past the first 40 citizens, from whom the seed draws its applicants: no seeded dossiers.
CITIZEN = POPULATION[43]  # Nguyễn Minh Vũ, born 16/11/1989
OTHER = POPULATION[41]
NON_RESIDENT = generate_citizens(province_code="82", seed=7, count=1)[0]  # of Tiền Giang


class FakeBus:
    """`/token`, `/dancu/v1/citizens/verify`, the national `/csdlqgdc/v1/citizens/verify`
    (which NDXP answers through the LGSP) and the hand-over of the DVCQG sync (`Prefer:
    respond-async`) of one LGSP, as the real bus answers them."""

    def __init__(self) -> None:
        self.citizens = {c.so_dinh_danh: c for c in POPULATION}
        self.nation = {**self.citizens, NON_RESIDENT.so_dinh_danh: NON_RESIDENT}
        self.token_requests: list[tuple[str, dict[str, str]]] = []
        self.claims: list[tuple[str, Any]] = []
        self.national_claims: list[tuple[str | None, Any]] = []  # (X-Request-ID, claim)
        self.national_status: int | None = None
        self.handovers = HandoverBus()
        self.valid_tokens: set[str] = set()
        self.expires_in = 3600
        self.verify_status: int | None = None  # answer this status instead of checking
        self.token_status: int | None = None
        prefix = "/lgsp/kiengiang"
        self.app = Starlette(
            routes=[
                Route(f"{prefix}/token", self.token, methods=["POST"]),
                Route(f"{prefix}/dancu/v1/citizens/verify", self.verify, methods=["POST"]),
                Route(
                    f"{prefix}/csdlqgdc/v1/citizens/verify", self.verify_nation, methods=["POST"]
                ),
                Route(f"{prefix}/dvcqg/v1/dossiers/sync", self.hand_over, methods=["POST"]),
            ]
        )

    @property
    def handed(self) -> list[Handed]:
        return self.handovers.handed

    async def hand_over(self, request: Request) -> Response:
        if (
            request.headers.get("authorization", "").removeprefix("Bearer ")
            not in self.valid_tokens
        ):
            return JSONResponse({"code": "INVALID_TOKEN"}, status_code=401)
        return await self.handovers.take(request, instance="kiengiang", client_id=CLIENT_ID)

    async def token(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.token_requests.append((request.headers.get("authorization", ""), form))
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.token_status is not None:
            return JSONResponse({"error": "server_error"}, status_code=self.token_status)
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = f"token-{len(self.token_requests)}"
        self.valid_tokens.add(token)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.expires_in}
        )

    async def verify(self, request: Request) -> Response:
        claim = await request.json()
        self.claims.append((request.headers.get("authorization", ""), claim))
        if self.verify_status is not None:
            return JSONResponse({"code": "SOMETHING"}, status_code=self.verify_status)
        if (
            request.headers.get("authorization", "").removeprefix("Bearer ")
            not in self.valid_tokens
        ):
            return JSONResponse({"code": "INVALID_TOKEN"}, status_code=401)
        return self.check(claim, self.citizens)

    async def verify_nation(self, request: Request) -> Response:
        claim = await request.json()
        self.national_claims.append((request.headers.get("x-request-id"), claim))
        if self.national_status is not None:
            return JSONResponse({"code": "UPSTREAM_UNAVAILABLE"}, status_code=self.national_status)
        return self.check(claim, self.nation)

    @staticmethod
    def check(claim: dict[str, Any], register: dict[str, CitizenRecord]) -> Response:
        citizen = register.get(claim["cccd"])
        wrong = ["full_name", "date_of_birth"]
        if citizen is not None:
            born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
            wrong = [
                field
                for field, same in (
                    ("full_name", claim["full_name"] == citizen.ho_va_ten),
                    ("date_of_birth", claim["date_of_birth"] == born.isoformat()),
                )
                if not same
            ]
        if wrong:
            return JSONResponse({"match": False, "mismatched_fields": wrong})
        return JSONResponse({"match": True})


class Unreachable(httpx.AsyncBaseTransport):
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise self.error


def config_for(database_url: str, **changes: Any) -> SystemConfig:
    values: dict[str, Any] = {
        "instance": "kiengiang",
        "province_code": "91",
        "province_name": "Kiên Giang",
        "seed": 7,
        "population": 45,
        "database_url": database_url,
        "bus_url": BUS,
        "bus_client_id": CLIENT_ID,
        "bus_client_secret": CLIENT_SECRET,
    }
    return SystemConfig(**{**values, **changes})


@asynccontextmanager
async def portal(
    config: SystemConfig, transport: httpx.AsyncBaseTransport, clock: WallClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(config, bus_transport=transport, now=clock)
    async with serving(app, "http://dvc.test", raise_app_exceptions=False) as client:
        yield client


@pytest.fixture(name="bus")
def fx_bus() -> FakeBus:
    return FakeBus()


@pytest.fixture(name="clock")
def fx_clock() -> WallClock:
    return WallClock(START)


@pytest.fixture(name="client")
async def fx_client(
    db_url: str, bus: FakeBus, clock: WallClock
) -> AsyncIterator[httpx.AsyncClient]:
    async with portal(config_for(db_url), httpx.ASGITransport(app=bus.app), clock) as client:
        yield client


def filing(*, citizen: CitizenRecord = CITIZEN, **changes: Any) -> dict[str, Any]:
    return {
        "MaTTHC": RESIDENCE,
        "ChuHoSo": citizen.ho_va_ten,
        "NgaySinhChuHoSo": citizen.ngay_thang_nam_sinh,
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": citizen.so_dinh_danh}],
        "TrichYeuHoSo": "Đăng ký thường trú tại phường Vĩnh Thanh",
        "Email": "congdan@example.vn",
        "SoDienThoai": "0912345678",
        "DuLieuBieuMau": {"NoiThuongTruMoi": {"SoNha": "12", "Duong": "Trần Phú"}},
        "TaiLieuNop": [
            {
                "TenTepDinhKem": "to-khai-CT01.pdf",
                "LoaiTep": "application/pdf",
                "NoiDungBase64": base64.b64encode(PDF).decode(),
            }
        ],
        **changes,
    }


def data_of(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["error_code"], body["message"]) == ("0", "OK")
    return body["data"]


async def file_dossier(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = data_of(await client.post("/api/hoso", json=filing(**changes)), 201)
    return data


async def step(client: httpx.AsyncClient, code: str, action: str, **changes: str) -> httpx.Response:
    body = {
        "HanhDong": action,
        "NguoiXuLy": "Nguyễn Thị Lan",
        "ChucDanh": "Cán bộ tiếp nhận",
        "PhongBanXuLy": "Bộ phận Một cửa",
        "NoiDungXuLy": "",
        **changes,
    }
    return await client.post(f"/api/hoso/{code}/tientrinh", json=body)


async def dossiers_of(client: httpx.AsyncClient, citizen: CitizenRecord) -> int:
    listing = await client.get("/api/hoso", params={"soDinhDanh": citizen.so_dinh_danh})
    total: int = data_of(listing)["TongSo"]
    return total


# --- filing ----------------------------------------------------------------------------------


async def test_verified_applicant_gets_a_new_dossier(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    dossier = await file_dossier(client)

    assert dossier["MaHoSo"] == f"{AGENCY}-260302-0001"
    assert (dossier["MaTTHC"], dossier["TenTTHC"]) == (RESIDENCE, "Đăng ký thường trú")
    assert (dossier["TrangThaiHoSo"], dossier["TenTrangThaiHoSo"]) == ("1", "Mới đăng ký")
    assert dossier["HanhDongHopLe"] == ["receive", "refuse", "withdraw"]
    assert dossier["ChuHoSo"] == CITIZEN.ho_va_ten
    assert dossier["DinhDanhCHS"] == [{"LoaiDinhDanh": "1", "SoDinhDanh": CITIZEN.so_dinh_danh}]
    assert dossier["DonViXuLy"]["MaDinhDanh"] == AGENCY
    assert dossier["NgayNopHoSo"] == "20260302090000"
    assert (dossier["NgayTiepNhan"], dossier["NgayHenTra"]) == (None, None)
    assert dossier["DuLieuBieuMau"] == filing()["DuLieuBieuMau"]
    assert "NgaySinhChuHoSo" not in dossier  # checked, kept, never served
    assert dossier["TaiLieuNop"] == [
        {
            "TepDinhKemId": 1,
            "TenTepDinhKem": "to-khai-CT01.pdf",
            "LoaiTep": "application/pdf",
            "KichThuoc": len(PDF),
            "MaBamSHA256": hashlib.sha256(PDF).hexdigest(),
        }
    ]
    [entry] = dossier["TienTrinh"]
    assert (entry["HanhDong"], entry["TrangThai"], entry["NguoiXuLy"]) == (
        "submit",
        "1",
        CITIZEN.ho_va_ten,
    )
    fetched = data_of(await client.get(f"/api/hoso/{dossier['MaHoSo']}"))
    assert fetched == dossier


async def test_the_applicant_is_checked_through_the_bus_in_its_canonical_json(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    await file_dossier(client)

    [(authorization, form)] = bus.token_requests
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert (authorization, form) == (f"Basic {basic}", {"grant_type": "client_credentials"})
    [(bearer, claim)] = bus.claims
    assert bearer == "Bearer token-1"
    assert claim == {
        "cccd": CITIZEN.so_dinh_danh,
        "full_name": CITIZEN.ho_va_ten,
        "date_of_birth": "1989-11-16",
    }


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"ChuHoSo": "Trần Thị Bích"}, ["ChuHoSo"]),
        ({"NgaySinhChuHoSo": "17/11/1989"}, ["NgaySinhChuHoSo"]),
        ({"ChuHoSo": "Trần Thị Bích", "NgaySinhChuHoSo": "17/11/1989"}, None),
    ],
    ids=["name", "date", "both"],
)
async def test_applicant_the_register_does_not_confirm_is_refused_and_nothing_is_filed(
    client: httpx.AsyncClient, changes: dict[str, Any], fields: list[str] | None
) -> None:
    response = await client.post("/api/hoso", json=filing(**changes))

    body = envelope_error(response, 422, "500")
    assert body["data"] == {"TruongKhongKhop": fields or ["ChuHoSo", "NgaySinhChuHoSo"]}
    assert body["message"].startswith("DATA_INCORRECT")
    assert CITIZEN.ho_va_ten not in response.text
    assert await dossiers_of(client, CITIZEN) == 0


BUS_FAILURES = [
    pytest.param(lambda bus: setattr(bus, "verify_status", 503), 502, id="verify-503"),
    pytest.param(lambda bus: setattr(bus, "verify_status", 500), 502, id="verify-500"),
    pytest.param(lambda bus: setattr(bus, "verify_status", 403), 502, id="verify-403"),
    pytest.param(lambda bus: setattr(bus, "token_status", 503), 502, id="token-503"),
    pytest.param(lambda bus: setattr(bus, "expires_in", 0), 502, id="token-without-expiry"),
]


@pytest.mark.parametrize(("breaks", "status"), BUS_FAILURES)
async def test_failing_bus_files_nothing(
    client: httpx.AsyncClient, bus: FakeBus, breaks: Any, status: int
) -> None:
    breaks(bus)

    response = await client.post("/api/hoso", json=filing())

    body = envelope_error(response, status, str(status))
    assert body["message"].startswith("CITIZEN_CHECK_UNAVAILABLE: ")
    assert await dossiers_of(client, CITIZEN) == 0


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (httpx.ConnectError("refused"), 502),
        (httpx.RemoteProtocolError("reset"), 502),
        (httpx.ReadTimeout("slow"), 504),
        (httpx.ConnectTimeout("slow"), 504),
    ],
    ids=["connect", "protocol", "read-timeout", "connect-timeout"],
)
async def test_unreachable_bus_files_nothing_and_uses_no_number(
    db_url: str, clock: WallClock, bus: FakeBus, error: Exception, status: int
) -> None:
    async with portal(config_for(db_url), Unreachable(error), clock) as client:
        response = await client.post("/api/hoso", json=filing())
        envelope_error(response, status, str(status))
        assert await dossiers_of(client, CITIZEN) == 0
    async with portal(config_for(db_url), httpx.ASGITransport(app=bus.app), clock) as client:
        assert (await file_dossier(client))["MaHoSo"].endswith("-0001")


async def test_portal_without_a_bus_files_nothing(db_url: str, clock: WallClock) -> None:
    async with portal(config_for(db_url, bus_url=None), Unreachable(AssertionError()), clock) as c:
        body = envelope_error(await c.post("/api/hoso", json=filing()), 502, "502")

    assert "no bus_url" in body["message"]


async def test_wrong_portal_credentials_file_nothing(
    db_url: str, clock: WallClock, bus: FakeBus
) -> None:
    config = config_for(db_url, bus_client_secret="not-the-secret")
    async with portal(config, httpx.ASGITransport(app=bus.app), clock) as client:
        body = envelope_error(await client.post("/api/hoso", json=filing()), 502, "502")

    assert "credentials" in body["message"]
    assert "not-the-secret" not in body["message"]
    assert bus.claims == []


# --- the token -------------------------------------------------------------------------------


async def test_token_is_reused_across_filings(client: httpx.AsyncClient, bus: FakeBus) -> None:
    for _ in range(3):
        await file_dossier(client)

    assert len(bus.token_requests) == 1
    assert {bearer for bearer, _ in bus.claims} == {"Bearer token-1"}


async def test_token_refused_with_401_is_renewed_once(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    await file_dossier(client)
    bus.valid_tokens.clear()  # the bus restarted with new keys

    await file_dossier(client)

    assert len(bus.token_requests) == 2
    assert [bearer for bearer, _ in bus.claims] == [
        "Bearer token-1",
        "Bearer token-1",
        "Bearer token-2",
    ]


async def test_token_refused_again_after_renewal_is_not_retried_forever(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.verify_status = 401

    envelope_error(await client.post("/api/hoso", json=filing()), 502, "502")

    assert (len(bus.token_requests), len(bus.claims)) == (2, 2)


async def test_token_is_renewed_shortly_before_it_expires(
    client: httpx.AsyncClient, bus: FakeBus, clock: WallClock
) -> None:
    bus.expires_in = 300
    await file_dossier(client)
    clock.advance(seconds=269)
    await file_dossier(client)
    assert len(bus.token_requests) == 1

    clock.advance(seconds=1)  # 30 s before expiry
    await file_dossier(client)

    assert len(bus.token_requests) == 2


# --- dossier numbers -------------------------------------------------------------------------


async def test_concurrent_filings_get_unique_consecutive_numbers(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    responses = await asyncio.gather(*(client.post("/api/hoso", json=filing()) for _ in range(20)))

    codes = sorted(data_of(response, 201)["MaHoSo"] for response in responses)
    assert codes == [f"{AGENCY}-260302-{n:04d}" for n in range(1, 21)]
    assert len(bus.token_requests) == 1  # concurrent filings share one token request


async def test_numbers_restart_each_day_and_differ_by_agency(
    client: httpx.AsyncClient, clock: WallClock
) -> None:
    first = await file_dossier(client)
    birth = await file_dossier(client, MaTTHC="1.001193")  # Đăng ký khai sinh: UBND phường
    clock.advance(days=1)
    next_day = await file_dossier(client)

    assert first["MaHoSo"] == f"{AGENCY}-260302-0001"
    assert birth["MaHoSo"] == "000.00.06.H33-260302-0001"
    assert next_day["MaHoSo"] == f"{AGENCY}-260303-0001"


async def test_the_day_of_a_number_is_the_vietnam_day(
    client: httpx.AsyncClient, clock: WallClock
) -> None:
    clock.now = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 00:30 on 3 March in Vietnam

    dossier = await file_dossier(client)

    assert dossier["MaHoSo"] == f"{AGENCY}-260303-0001"
    assert dossier["NgayNopHoSo"] == "20260303003000"


async def test_an_agency_out_of_numbers_for_the_day_answers_503(
    client: httpx.AsyncClient, db_url: str
) -> None:
    async with open_mock_database(db_url, DvcBase.metadata) as database:
        async with database.sessions.begin() as session:
            await session.execute(
                insert(DossierCounter).values(
                    instance="kiengiang",
                    agency_id=AGENCY,
                    day=date(2026, 3, 2),
                    last_sequence=99_999,
                )
            )

    envelope_error(await client.post("/api/hoso", json=filing()), 503, "503")

    assert await dossiers_of(client, CITIZEN) == 0


async def test_a_failure_after_the_number_is_taken_leaves_nothing_half_written(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = DossierStore.file

    async def file_then_fail(self: DossierStore, *args: Any, **kwargs: Any) -> Dossier:
        await original(self, *args, **kwargs)
        raise RuntimeError("disk full")

    monkeypatch.setattr(DossierStore, "file", file_then_fail)
    assert (await client.post("/api/hoso", json=filing())).status_code == 500
    monkeypatch.undo()

    assert await dossiers_of(client, CITIZEN) == 0
    assert (await file_dossier(client))["MaHoSo"].endswith("-0001")  # the number was not used


# --- malformed filings -----------------------------------------------------------------------

ONE_FILE = filing()["TaiLieuNop"][0]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"MaTTHC": None}, "MaTTHC"),
        ({"ChuHoSo": "   "}, "ChuHoSo"),
        ({"NgaySinhChuHoSo": "1977-12-03"}, "NgaySinhChuHoSo"),
        ({"NgaySinhChuHoSo": "31/02/1977"}, "NgaySinhChuHoSo"),
        ({"DinhDanhCHS": []}, "DinhDanhCHS"),
        ({"DinhDanhCHS": [{"LoaiDinhDanh": "2", "SoDinhDanh": "123456789"}]}, "LoaiDinhDanh"),
        ({"DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "09107769725"}]}, "12 digits"),
        ({"DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "999077697257"}]}, "province"),
        ({"TrichYeuHoSo": "x" * 1001}, "TrichYeuHoSo"),
        ({"DuLieuBieuMau": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "levels deep"),
        ({"DuLieuBieuMau": {f"k{n}": n for n in range(51)}}, "50 keys"),
        ({"DuLieuBieuMau": {"list": list(range(201))}}, "200 list items"),
        ({"TaiLieuNop": [ONE_FILE] * 21}, "TaiLieuNop"),
        ({"TaiLieuNop": [{**ONE_FILE, "NoiDungBase64": "not base64!"}]}, "not base64"),
        ({"TaiLieuNop": [{**ONE_FILE, "LoaiTep": "pdf"}]}, "LoaiTep"),
        (
            {
                "TaiLieuNop": [
                    {
                        **ONE_FILE,
                        "NoiDungBase64": base64.b64encode(b"\0" * (5 * 1024 * 1024 + 1)).decode(),
                    }
                ]
            },
            "larger than",
        ),
    ],
)
async def test_malformed_filing_is_data_type_invalid_before_any_call(
    client: httpx.AsyncClient, bus: FakeBus, changes: dict[str, Any], words: str
) -> None:
    response = await client.post("/api/hoso", json=filing(**changes))

    body = envelope_error(response, 400, "302")
    assert body["message"].startswith("DATA_TYPE_INVALID: ")
    assert words in body["message"]
    assert CITIZEN.so_dinh_danh not in body["message"]
    assert bus.claims == []


@pytest.mark.parametrize(
    "code", ["1.004222.000.00.00.H58", "1.999999", "1.004222.000.00.00", "đăng ký"]
)
async def test_procedure_the_province_does_not_offer_is_record_not_found(
    client: httpx.AsyncClient, bus: FakeBus, code: str
) -> None:
    body = envelope_error(await client.post("/api/hoso", json=filing(MaTTHC=code)), 404, "201")

    assert body["message"] == "RECORD_NOT_FOUND: MaTTHC"
    assert bus.claims == []


async def test_the_bare_national_procedure_code_is_accepted(client: httpx.AsyncClient) -> None:
    dossier = await file_dossier(client, MaTTHC="1.004222")

    assert dossier["MaTTHC"] == RESIDENCE


async def test_a_dossier_read_while_a_step_commits_shows_the_status_of_its_history(
    client: httpx.AsyncClient,
) -> None:
    """The next step commits right after the read's first statement has read the dossier, as
    a loaded machine lets it: on PostgreSQL's READ COMMITTED a history read by a later
    statement was a step ahead of the status (as the DVCQG mock's lookup was)."""
    code = (await file_dossier(client))["MaHoSo"]
    armed = [True]

    def receive_meanwhile(
        _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kw: Any
    ) -> None:
        reads_the_dossier = "FROM dvc_dossier" in statement and "FOR UPDATE" not in statement
        if armed[0] and reads_the_dossier:
            armed[0] = False
            # On the sync engine's greenlet: a real commit between the read's statements.
            data_of(await_only(step(client, code, "receive")))

    event.listen(Engine, "after_cursor_execute", receive_meanwhile)
    try:
        dossier = data_of(await client.get(f"/api/hoso/{code}"))
    finally:
        event.remove(Engine, "after_cursor_execute", receive_meanwhile)

    assert not armed[0], "the step should have committed during the read"
    history = tuple(entry["TrangThai"] for entry in dossier["TienTrinh"])
    assert (dossier["TrangThaiHoSo"], history) in {("1", ("1",)), ("2", ("1", "2"))}


# --- the lifecycle ---------------------------------------------------------------------------


async def test_dossier_walks_its_lifecycle_with_deadlines_and_history(
    client: httpx.AsyncClient, clock: WallClock
) -> None:
    code = (await file_dossier(client))["MaHoSo"]

    clock.advance(minutes=30)  # Monday 2 March, 09:30
    received = data_of(await step(client, code, "receive"))
    assert (received["TrangThaiHoSo"], received["NgayTiepNhan"]) == ("2", "20260302093000")
    assert received["NgayHenTra"] == "20260311170000"  # 7 working days, at the office's close

    clock.advance(hours=1)
    data_of(await step(client, code, "start_processing", NguoiXuLy="Trần Văn Minh"))
    clock.advance(days=2)  # Wednesday 4 March: 5 working days left (5, 6, 9, 10, 11)
    paused = data_of(await step(client, code, "request_supplement", NoiDungXuLy="Thiếu CT01"))
    assert (paused["TrangThaiHoSo"], paused["NgayYeuCauBoSung"]) == ("5", "20260304103000")
    clock.advance(days=7)  # Wednesday 11 March: the clock was stopped
    resumed = data_of(await step(client, code, "supplement_received"))
    assert resumed["TrangThaiHoSo"] == "4"
    assert resumed["NgayHenTra"] == "20260318170000"  # 5 working days from the 11th
    clock.advance(days=1)
    completed = data_of(await step(client, code, "complete", NguoiXuLy="Lê Văn Hùng"))
    assert (completed["TrangThaiHoSo"], completed["NgayKetThucXuLy"]) == ("9", "20260312103000")
    clock.advance(hours=2)
    returned = data_of(await step(client, code, "return_result"))

    assert (returned["TrangThaiHoSo"], returned["NgayTra"]) == ("10", "20260312123000")
    assert returned["HanhDongHopLe"] == []
    history = returned["TienTrinh"]
    assert [(e["HanhDong"], e["TrangThai"]) for e in history] == [
        ("submit", "1"),
        ("receive", "2"),
        ("start_processing", "4"),
        ("request_supplement", "5"),
        ("supplement_received", "4"),
        ("complete", "9"),
        ("return_result", "10"),
    ]
    supplement = history[3]
    assert supplement == {
        "MaHoSo": code,
        "NguoiXuLy": "Nguyễn Thị Lan",
        "ChucDanh": "Cán bộ tiếp nhận",
        "ThoiDiemXuLy": "20260304103000",
        "PhongBanXuLy": "Bộ phận Một cửa",
        "NoiDungXuLy": "Thiếu CT01",
        "TrangThai": "5",
        "NgayBatDau": "20260302103000",  # when the previous step ended
        "NgayKetThucTheoQuyDinh": "20260311170000",
        "HanhDong": "request_supplement",
    }
    assert history[2]["NguoiXuLy"] == "Trần Văn Minh"
    assert history[1]["NoiDungXuLy"] == "Được tiếp nhận"  # the status name when no note is given
    assert data_of(await client.get(f"/api/hoso/{code}")) == returned


async def test_refusal_sets_the_refusal_date_and_ends_the_dossier(
    client: httpx.AsyncClient, clock: WallClock
) -> None:
    code = (await file_dossier(client))["MaHoSo"]
    clock.advance(hours=1)

    refused = data_of(await step(client, code, "refuse", NoiDungXuLy="Không thuộc thẩm quyền"))

    assert (refused["TrangThaiHoSo"], refused["NgayTuChoi"]) == ("3", "20260302100000")
    assert (refused["NgayTiepNhan"], refused["NgayHenTra"]) == (None, None)
    assert refused["HanhDongHopLe"] == []


@pytest.mark.parametrize(
    ("path", "action", "status", "allowed"),
    [
        ((), "complete", "1", ["receive", "refuse", "withdraw"]),
        (("receive",), "receive", "2", ["start_processing", "withdraw"]),
        (("refuse",), "receive", "3", []),
        (
            ("receive", "start_processing", "request_supplement"),
            "withdraw",
            "5",
            ["supplement_received", "stop"],
        ),
    ],
)
async def test_illegal_step_is_a_conflict_naming_the_allowed_actions(
    client: httpx.AsyncClient, path: tuple[str, ...], action: str, status: str, allowed: list[str]
) -> None:
    code = (await file_dossier(client))["MaHoSo"]
    for earlier in path:
        data_of(await step(client, code, earlier))

    body = envelope_error(await step(client, code, action), 409, "409")

    assert body["data"] == {"TrangThaiHoSo": status, "HanhDongHopLe": allowed}
    after = data_of(await client.get(f"/api/hoso/{code}"))
    assert (after["TrangThaiHoSo"], len(after["TienTrinh"])) == (status, len(path) + 1)


@pytest.mark.parametrize("action", ["approve", "RECEIVE", "submit", ""])
async def test_unknown_action_is_data_incorrect_listing_the_actions(
    client: httpx.AsyncClient, action: str
) -> None:
    code = (await file_dossier(client))["MaHoSo"]

    body = envelope_error(await step(client, code, action), 422, "500")

    assert "receive" in body["data"]["DanhSachHanhDong"]
    assert len(body["data"]["DanhSachHanhDong"]) == 11


@pytest.mark.parametrize(
    "body",
    [
        {"HanhDong": "receive"},
        {"HanhDong": "receive", "NguoiXuLy": " "},
        {"HanhDong": "receive", "NguoiXuLy": "A", "NoiDungXuLy": "x" * 2001},
        {"HanhDong": 2, "NguoiXuLy": "A"},
    ],
)
async def test_malformed_step_is_data_type_invalid(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    code = (await file_dossier(client))["MaHoSo"]

    envelope_error(await client.post(f"/api/hoso/{code}/tientrinh", json=body), 400, "302")


async def test_steps_sent_at_once_do_not_both_apply(client: httpx.AsyncClient) -> None:
    code = (await file_dossier(client))["MaHoSo"]

    responses = await asyncio.gather(
        *(step(client, code, action) for action in ["receive", "refuse"] * 5)
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [409] * 9
    history = data_of(await client.get(f"/api/hoso/{code}"))["TienTrinh"]
    assert [entry["HanhDong"] for entry in history][0] == "submit"
    assert len(history) == 2


@pytest.mark.parametrize("code", [f"{AGENCY}-260302-0999", "000.00.07.H58-260302-0001", "x"])
async def test_unknown_dossier_is_record_not_found(client: httpx.AsyncClient, code: str) -> None:
    envelope_error(await client.get(f"/api/hoso/{code}"), 404, "201")
    envelope_error(await step(client, code, "receive"), 404, "201")


# --- listings --------------------------------------------------------------------------------


async def test_dossiers_are_listed_newest_first_and_filtered(client: httpx.AsyncClient) -> None:
    mine = [(await file_dossier(client))["MaHoSo"] for _ in range(3)]
    await file_dossier(client, citizen=OTHER)

    by_applicant = data_of(
        await client.get("/api/hoso", params={"soDinhDanh": CITIZEN.so_dinh_danh})
    )
    new = data_of(await client.get("/api/hoso", params={"trangThai": 1, "soBanGhi": 100}))

    assert by_applicant["TongSo"] >= 3
    assert [d["MaHoSo"] for d in by_applicant["DanhSach"][:3]] == mine[::-1]
    assert all(d["SoGiayToChuHoSo"] == CITIZEN.so_dinh_danh for d in by_applicant["DanhSach"])
    assert "TienTrinh" not in by_applicant["DanhSach"][0]
    assert {d["TrangThaiHoSo"] for d in new["DanhSach"]} == {"1"}
    assert new["TongSo"] == 4 + 1  # the four filed here and the seeded new one


async def test_dossier_pages_cover_every_dossier_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        data = data_of(await client.get("/api/hoso", params={"trang": page, "soBanGhi": 3}))
        assert (data["TongSo"], data["Trang"], data["SoBanGhi"]) == (10, page, 3)
        seen += [d["MaHoSo"] for d in data["DanhSach"]]

    assert len(seen) == len(set(seen)) == 10


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/hoso", {"soBanGhi": 101}, "soBanGhi"),
        ("/api/hoso", {"soBanGhi": 0}, "soBanGhi"),
        ("/api/hoso", {"trang": 0}, "trang"),
        ("/api/hoso", {"trangThai": 11}, "trangThai"),
        ("/api/hoso", {"soDinhDanh": "12345"}, "soDinhDanh"),
        ("/api/thutuc", {"soBanGhi": 101}, "soBanGhi"),
        ("/api/thutuc", {"capThucHien": "quocgia"}, "capThucHien"),
        ("/api/thutuc", {"tuKhoa": "x" * 201}, "tuKhoa"),
    ],
)
async def test_listing_bounds_are_data_type_invalid(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], field: str
) -> None:
    body = envelope_error(await client.get(path, params=params), 400, "302")

    assert body["message"].startswith(f"DATA_TYPE_INVALID: {field}: ")


async def test_procedures_are_searched_without_diacritics_in_the_provincial_form(
    client: httpx.AsyncClient,
) -> None:
    data = data_of(await client.get("/api/thutuc", params={"tuKhoa": "dang ky khai sinh"}))

    assert data["TongSo"] == 1
    assert data["DanhSach"] == [
        {
            **birth_registration("Ủy ban nhân dân phường Vĩnh Thanh, thành phố Rạch Giá"),
            # H33, Z00- and the unit number are assigned; 1.001193 is sourced
            "MaGiaDinh": ["MaTTHC", "MaLinhVuc", "CoQuanThucHien.MaDinhDanh"],
        }
    ]


async def test_procedures_filter_by_level_and_page(client: httpx.AsyncClient) -> None:
    province = data_of(await client.get("/api/thutuc", params={"capThucHien": "tinh"}))
    page = data_of(await client.get("/api/thutuc", params={"trang": 2, "soBanGhi": 10}))

    assert province["TongSo"] == 4
    assert {p["CapThucHien"] for p in province["DanhSach"]} == {"tinh"}
    assert (page["TongSo"], len(page["DanhSach"])) == (14, 4)


# --- seeding ---------------------------------------------------------------------------------


async def seeded(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    listing = data_of(await client.get("/api/hoso", params={"soBanGhi": 100}))["DanhSach"]
    return [data_of(await client.get(f"/api/hoso/{d['MaHoSo']}")) for d in listing]


async def test_seeded_portal_has_one_dossier_in_each_status(client: httpx.AsyncClient) -> None:
    dossiers = await seeded(client)

    assert sorted(int(d["TrangThaiHoSo"]) for d in dossiers) == list(range(1, 11))
    known = {c.so_dinh_danh: c.ho_va_ten for c in POPULATION}
    assert all(known[d["SoGiayToChuHoSo"]] == d["ChuHoSo"] for d in dossiers)
    returned = next(d for d in dossiers if d["TrangThaiHoSo"] == "10")
    assert [e["TrangThai"] for e in returned["TienTrinh"]] == ["1", "2", "4", "5", "4", "9", "10"]
    assert returned["NgayTra"] is not None
    assert all(d["MaHoSo"][14:20].startswith("2506") for d in dossiers)  # a fixed timeline


async def test_seeding_is_idempotent_across_restarts_and_deterministic(
    db_url: str, bus: FakeBus, clock: WallClock, tmp_path: Any
) -> None:
    transport = httpx.ASGITransport(app=bus.app)
    async with portal(config_for(db_url), transport, clock) as client:
        first = await seeded(client)
    clock.advance(days=30)
    async with portal(config_for(db_url), transport, clock) as client:
        again = await seeded(client)
    elsewhere = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    async with portal(config_for(elsewhere), transport, clock) as client:
        fresh = await seeded(client)

    assert len(first) == 10
    assert again == first
    assert fresh == first


async def test_each_instance_seeds_and_numbers_its_own_dossiers(
    db_url: str, bus: FakeBus, clock: WallClock
) -> None:
    transport = httpx.ASGITransport(app=bus.app)
    other = config_for(db_url, instance="tiengiang", province_code="82", population=20)
    async with portal(other, transport, clock) as client:
        theirs = await seeded(client)
    async with portal(config_for(db_url), transport, clock) as client:
        ours = await seeded(client)

    assert len(theirs) == len(ours) == 10
    assert all(d["MaHoSo"].split("-")[0].endswith("H58") for d in theirs)
    assert all(d["MaHoSo"].split("-")[0].endswith("H33") for d in ours)
    async with open_mock_database(db_url, DvcBase.metadata) as database:
        async with database.sessions() as session:
            count = (await session.execute(select(func.count()).select_from(Dossier))).scalar()
    assert count == 20


# --- the envelope for everything else ----------------------------------------------------------


async def test_body_that_is_not_json_is_data_type_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/hoso", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    envelope_error(response, 400, "302")


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"province_code": None}, "needs a province_code"), ({"province_code": "01"}, "'01'")],
)
def test_portal_needs_a_province_it_has_agencies_for(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        create_app(config_for("sqlite+aiosqlite://", **changes))


# --- the contract with the adapter -------------------------------------------------------------


async def through_adapter(
    client: httpx.AsyncClient, operation: str, *, body: Any = None, **request: Any
) -> Any:
    """Send a canonical request the way the gateway does: adapter, the portal, adapter back."""
    adapter = DvcAdapter(today=lambda: START.date())
    canonical = CanonicalRequest(
        operation,
        request.get("path_params", {}),
        query=request.get("query", ()),
        body=json.dumps(body, ensure_ascii=False).encode() if body is not None else b"",
        content_type="application/json" if body is not None else None,
    )
    sent = adapter.to_system(canonical)
    response = await client.request(
        sent.method, sent.path, params=list(sent.query), content=sent.body, headers=sent.headers
    )
    answer = adapter.to_canonical(canonical, SystemResponse(response.status_code, response.content))
    contract = CONTRACTS[operation]
    assert answer.status == contract.status
    contract.response.model_validate(answer.content)  # the published shape, extras forbidden
    return answer.content


async def test_the_portal_and_the_adapter_agree_on_every_operation(
    client: httpx.AsyncClient, clock: WallClock
) -> None:
    new = {
        "procedure_code": RESIDENCE,
        "applicant": {
            "cccd": CITIZEN.so_dinh_danh,
            "full_name": CITIZEN.ho_va_ten,
            "date_of_birth": "1989-11-16",
        },
        "summary": "Đăng ký thường trú",
        "attachments": [
            {
                "name": "CT01.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(PDF).decode(),
            }
        ],
    }
    created = await through_adapter(client, "create_dossier", body=new)
    code = {"code": created["code"]}
    clock.advance(minutes=30)
    received = await through_adapter(
        client, "transition_dossier", path_params=code, body={"action": "receive", "actor": "A"}
    )
    fetched = await through_adapter(client, "get_dossier", path_params=code)
    listed = await through_adapter(
        client, "list_dossiers", query=(("applicant", CITIZEN.so_dinh_danh), ("status", "received"))
    )
    procedures = await through_adapter(client, "list_procedures", query=(("q", "thuong tru"),))

    assert created["status"] == {"code": 1, "name": "new"}
    assert created["submitted_at"] == "2026-03-02T09:00:00+07:00"
    assert created["attachments"][0]["size_bytes"] == len(PDF)
    assert received["due_at"] == "2026-03-11T17:00:00+07:00"
    assert [entry["action"] for entry in received["history"]] == ["submit", "receive"]
    assert fetched == received
    assert [item["code"] for item in listed["items"]] == [created["code"]]
    assert procedures["items"][0]["code"] == RESIDENCE


# --- applicants of another province: the national population database through NDXP ----------


async def test_a_resident_is_checked_in_the_province_only(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    await file_dossier(client)

    assert len(bus.claims) == 1
    assert bus.national_claims == []


async def test_a_citizen_of_another_province_is_confirmed_by_the_national_database(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await client.post(
        "/api/hoso", json=filing(citizen=NON_RESIDENT), headers={"X-Request-ID": "req-nr-1"}
    )

    dossier = data_of(response, 201)
    assert dossier["ChuHoSo"] == NON_RESIDENT.ho_va_ten
    [(request_id, claim)] = bus.national_claims
    assert request_id == "req-nr-1"  # the same request, hop after hop
    assert claim["cccd"] == NON_RESIDENT.so_dinh_danh


async def test_a_citizen_of_another_province_with_a_wrong_birth_date_is_refused(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    response = await client.post(
        "/api/hoso", json=filing(citizen=NON_RESIDENT, NgaySinhChuHoSo="01/01/1970")
    )

    body = envelope_error(response, 422, "500")
    assert body["data"] == {"TruongKhongKhop": ["NgaySinhChuHoSo"]}
    assert len(bus.national_claims) == 1
    assert await dossiers_of(client, NON_RESIDENT) == 0


async def test_a_national_database_that_is_down_is_named_and_nothing_is_filed(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    bus.national_status = 503

    response = await client.post("/api/hoso", json=filing(citizen=NON_RESIDENT))

    body = envelope_error(response, 502, "502")
    assert body["data"] == {"CoSoDuLieu": "quoc_gia"}
    assert "national population database" in body["message"]
    assert await dossiers_of(client, NON_RESIDENT) == 0


async def test_an_unknown_number_is_refused_after_both_registers(
    client: httpx.AsyncClient, bus: FakeBus
) -> None:
    stranger = generate_citizens(province_code="52", seed=7, count=1)[0]

    response = await client.post("/api/hoso", json=filing(citizen=stranger))

    body = envelope_error(response, 422, "500")
    assert body["data"] == {"TruongKhongKhop": ["ChuHoSo", "NgaySinhChuHoSo"]}
    assert (len(bus.claims), len(bus.national_claims)) == (1, 1)
