"""DVCQG's adapter protocol as OpenCPS's sync client speaks it (`DVCQGIntegrationActionImpl`),
at Kiên Giang's door: a session from `{username, password}` and `dstcode`, then the services,
answered by the catalog's `dvc` and `dvcqg` operations with the records of the same calls in
the bus's own dialect."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from adapters.dialects import opencps as dvc
from lgsp.auth.models import SYSTEM
from lgsp.composition import seeded_dossier_codes
from lgsp.dialects.models import OpenCpsSession
from lgsp.dialects.opencps_door import OpenCpsDoor
from lgsp.dialects.tokens import Remembered
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_dialects import journal, trail
from tests.fixtures.bus import KG, DialectSettings, bearer, fetch_token, registered_client
from tests.fixtures.dossiers import opencps_entry

pytestmark = pytest.mark.anyio

DOOR = f"{KG}/opencps"
DST = {"dstcode": "000.00.00.H33"}
_SERIAL = itertools.count(1)


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "opencps")})


@pytest.fixture
async def portal(bus: BusState) -> tuple[str, str]:
    """The one-stop system's account: a system client that reads and syncs at DVCQG."""
    name = f"opencps-{next(_SERIAL)}"
    new = await registered_client(bus, {"dvcqg": "GET,POST", "dvc": "GET"}, name=name, kind=SYSTEM)
    return new.client_id, new.client_secret


async def login(http: httpx.AsyncClient, account: tuple[str, str]) -> str:
    answer = await http.post(
        f"{DOOR}/auth", json={"username": account[0], "password": account[1]}, headers=DST
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["error_code"] == "0", body
    session: str = body["session"]
    return session


async def call(
    http: httpx.AsyncClient, session: str, service: str, request_id: str = "", **fields: Any
) -> dict[str, Any]:
    headers = {**DST, **({"X-Request-ID": request_id} if request_id else {})}
    answer = await http.post(
        f"{DOOR}/integration",
        json={"session": session, "madonvi": "000.00.00.H33", "service": service, **fields},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


async def a_procedure(http: httpx.AsyncClient, token: str) -> dict[str, Any]:
    listed = await http.get(f"{KG}/dvc/v1/procedures", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    procedure: dict[str, Any] = listed.json()["items"][0]
    return procedure


def opencps_dossier(procedure: dict[str, Any], status: str = "2") -> dict[str, Any]:
    """A dossier as `createSyncDossierBodyRequest` writes it (contact fields, `HinhThuc`,
    `DonViXuLy` the agency's name, the empty lists)."""
    code = f"{procedure['agency']['id']}-261206-{next(_SERIAL):04d}"
    return {
        "MaHoSo": code,
        "MaTTHC": procedure["code"],
        "TenTTHC": procedure["name"],
        "MaLinhVuc": procedure["field"]["code"],
        "TenLinhVuc": procedure["field"]["name"],
        "ChuHoSo": "Nguyễn Văn An",
        "LoaiDoiTuong": "1",
        "MaDoiTuong": "",
        "ThongTinKhac": "",
        "Email": "an@example.vn",
        "Fax": "0912345678",
        "SoDienThoai": "0912345678",
        "TrichYeuHoSo": "Đăng ký thường trú",
        "NgayTiepNhan": "20261206090000",
        "NgayHenTra": "20261210170000",
        "TrangThaiHoSo": status,
        "NgayTra": "",
        "ThongTinTra": "",
        "HinhThuc": "0",
        "NgayKetThucXuLy": "",
        "DonViXuLy": procedure["agency"]["name"],
        "GhiChu": "Đăng ký thường trú",
        "TaiLieuNop": [],
        "DanhSachLePhi": [],
        "DanhSachTepDinhKemKhac": [],
        "DanhSachHoSoBoSung": [],
        "DanhSachGiayToKetQua": [],
    }


async def test_auth_answers_a_session_kept_only_as_a_hash(
    client: httpx.AsyncClient, portal: tuple[str, str], bus: BusState
) -> None:
    session = await login(client, portal)

    async with bus.session_factory() as db:
        # its client's only: a module before this one may have left sessions on the shared bus
        mine = select(OpenCpsSession).where(OpenCpsSession.client_id == portal[0])
        rows = (await db.scalars(mine)).all()
    assert [(row.instance, row.client_id) for row in rows] == [("kiengiang", portal[0])]
    assert (
        rows[0].token_sha256 == hashlib.sha256(f"{session}\n{DST['dstcode']}".encode()).hexdigest()
    )
    assert all(session not in repr(vars(row)) for row in rows)


async def test_a_login_is_recorded_at_the_doors_path_as_a_refused_one_is_without_its_session(
    client: httpx.AsyncClient, portal: tuple[str, str]
) -> None:
    """An integrator looks for its login in the journal and the audit log by request id: a
    refused one was there (test_dialect_doors.py), an answered one only as the token request
    behind it. The journal holds no credential: the session is starred out at its length."""
    answer = await client.post(
        f"{DOOR}/auth",
        json={"username": portal[0], "password": portal[1]},
        headers={**DST, "X-Request-ID": "opencps-login-ok"},
    )
    admin = await fetch_token(client)
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "opencps-login-ok"}, headers=bearer(admin)
    )
    (entry,) = await journal(client, admin, "opencps-login-ok")

    session = answer.json()["session"]
    assert (answer.status_code, answer.json()["error_code"]) == (200, "0")
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert sorted((r["path"], r["status"]) for r in audit.json()["records"]) == [
        (f"{DOOR}/auth", 200),
        (f"{KG}/token", 200),
    ]
    assert (entry["path"], entry["status"]) == ("/opencps/auth", 200)
    starred = {**answer.json(), "session": "*" * len(session)}
    assert json.loads(entry["response"]["body"]) == starred
    assert session not in str(entry)
    assert portal[1] not in str(entry)


async def test_a_session_past_its_expiry_is_refused(
    client: httpx.AsyncClient, portal: tuple[str, str], bus: BusState
) -> None:
    session = await login(client, portal)
    assert (await call(client, session, "LayDanhSachTTHC"))["error_code"] == "0"

    async with bus.session_factory.begin() as db:
        await db.execute(
            update(OpenCpsSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    for door in [o for o in gc.get_objects() if isinstance(o, OpenCpsDoor)]:
        door.remembered = Remembered()  # as a worker that has not seen the session yet
    answer = await call(client, session, "LayDanhSachTTHC")

    assert answer["error_code"] == dvc.AUTH_FAILED


async def test_a_reset_ends_every_session(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    """A reset puts the bus back as it started, when no session had been answered: a session
    this worker remembers is refused as one it never saw (its token revoked for the others)."""
    session = await login(client, portal)
    assert (await call(client, session, "LayDanhSachTTHC"))["error_code"] == "0"

    reset = await client.post(f"{KG}/admin/reset", headers=bearer(demo_token))
    answer = await call(client, session, "LayDanhSachTTHC")

    assert reset.status_code == 200, reset.text
    assert answer["error_code"] == dvc.AUTH_FAILED, answer
    assert (await call(client, await login(client, portal), "LayDanhSachTTHC"))["error_code"] == "0"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"username": "nobody", "password": "nope"}, DST),
        ({"username": "demo", "password": "lgsp-demo-secret"}, {}),
        ({"username": "demo"}, DST),
    ],
)
async def test_bad_logins_get_an_error_code_and_no_session(
    client: httpx.AsyncClient, body: dict[str, str], headers: dict[str, str]
) -> None:
    answer = await client.post(f"{DOOR}/auth", json=body, headers=headers)

    assert answer.status_code == 200
    assert answer.json()["error_code"] != "0"
    assert "session" not in answer.json()
    assert answer.headers["x-request-id"]


async def test_a_session_is_refused_with_another_dstcode_or_unknown(
    client: httpx.AsyncClient, portal: tuple[str, str]
) -> None:
    session = await login(client, portal)

    other = await client.post(
        f"{DOOR}/integration",
        json={"session": session, "madonvi": "x", "service": "LayDanhSachTTHC"},
        headers={"dstcode": "another"},
    )
    unknown = await call(client, "not-a-session", "LayDanhSachTTHC", "opencps-guess")

    assert other.json()["error_code"] == unknown["error_code"] == dvc.AUTH_FAILED
    admin = await fetch_token(client)
    assert [record["hop"] for record in await trail(client, admin, "opencps-guess")] == ["inbound"]


async def test_procedures_and_their_fields_in_the_protocols_names(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    procedure = await a_procedure(client, demo_token)

    listed = await call(client, session, "LayDanhSachTTHC")
    one = await call(client, session, "LayThuTuc", maTTHC=procedure["code"])
    fields = await call(client, session, "LayDanhMucLinhVuc")

    assert listed["error_code"] == "0"
    assert {"MATTHC": procedure["code"], "TENTTHC": procedure["name"]}.items() <= next(
        row for row in listed["result"] if row["MATTHC"] == procedure["code"]
    ).items()
    assert one["error_code"] == "0"
    assert one["result"][0]["TENTTHC"] == procedure["name"]
    assert one["result"][0]["LINHVUCTHUCHIEN"][0]["MALINHVUC"] == procedure["field"]["code"]
    assert fields["error_code"] == "0", fields
    field = {
        "MALINHVUC": procedure["field"]["code"],
        "TENLINHVUC": procedure["field"]["name"],
        "MANGANH": "000.00.00.H33",  # the caller's madonvi, which OpenCPS keeps fields of
    }
    assert field in fields["result"]


@pytest.mark.parametrize(
    ("form", "found"),
    [
        ("{national}.000.00.00.H33", True),  # long, as the portal publishes it
        ("{national}.H33", True),  # short, as Gia Lai's iGate writes newer procedures
        ("{national}", True),  # the national code alone
        ("{national}.H58", False),  # short, under another province's code
        ("{national}.000.00.00.H58", False),
        ("{national}.H3", False),
        ("9.999999.H33", False),  # no such procedure
    ],
)
async def test_one_procedure_is_found_by_every_form_the_portal_files_under(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str, form: str, found: bool
) -> None:
    """The forms `POST /dvc/v1/dossiers` accepts (`formats.codes.procedure_code_forms`)."""
    session = await login(client, portal)
    procedure = await a_procedure(client, demo_token)

    one = await call(
        client, session, "LayThuTuc", maTTHC=form.format(national=procedure["national_code"])
    )

    if found:
        assert one["error_code"] == "0", one
        assert one["result"][0]["TENTTHC"] == procedure["name"]
    else:
        assert (one["error_code"], one["result"]) == (dvc.NOT_FOUND, [])


async def test_a_service_the_protocol_does_not_name_answers_the_protocols_error(
    client: httpx.AsyncClient, portal: tuple[str, str]
) -> None:
    session = await login(client, portal)

    answer = await call(client, session, "XoaHoSo", data=[])

    assert answer["error_code"] == dvc.NOT_OFFERED


async def test_agencies_catalogue_is_the_national_one_in_opencps_names(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)

    answer = await call(client, session, "LayDanhMucCoQuan")
    one = await call(client, session, "LayDanhMucCoQuan", MaTinh="82")

    assert answer["error_code"] == "0", answer
    own = await client.get(f"{KG}/dvcqg/v1/agencies", headers=bearer(demo_token))
    levels = {"province": "1", "district": "2", "commune": "3"}
    assert answer["result"] == [
        {"MADONVI": a["id"], "TENDONVI": a["name"], "CAPDONVI": levels[a["level"]]}
        for a in own.json()["items"]
    ]
    assert {row["MADONVI"].rpartition(".")[2] for row in one["result"]} == {"H58"}


async def synced(http: httpx.AsyncClient, session: str, token: str, status: str = "2") -> str:
    """The code of a new dossier OpenCPS has just synced (`DongBoHoSoMC`, inserting)."""
    dossier = opencps_dossier(await a_procedure(http, token), status=status)
    answer = await call(http, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])
    assert answer["error_code"] == "0", answer
    return str(dossier["MaHoSo"])


async def test_a_progress_update_shows_in_the_following_lookup(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    code = await synced(client, session, demo_token, status="4")

    answer = await call(client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code)])
    again = await call(client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code)])
    looked = await call(client, session, "TraCuuHoSo", MaHoSo=code)

    assert answer == {
        "error_code": "0",
        "message": "Thành công",
        "result": [{"MaHoSo": code, "DaGhiNhan": True}],
    }
    assert again["error_code"] == "0", again  # each update is an entry of its own
    entries = looked["result"][0]["TienTrinh"]
    assert len(entries) == 3
    assert {k: entries[1][k] for k in ("NguoiXuLy", "ThoiDiemXuLy", "TrangThai")} == {
        "NguoiXuLy": "Trần Thị Bình",
        "ThoiDiemXuLy": "20261207100000",
        "TrangThai": "4",
    }
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert [e["step"] for e in national.json()["history"]] == [1, 2, 3]
    assert national.json()["history"][1]["note"] == "Chuyển phòng chuyên môn thẩm định"


async def test_a_status_change_after_a_progress_update_takes_the_next_step(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    dossier = opencps_dossier(await a_procedure(client, demo_token), status="4")
    code = dossier["MaHoSo"]
    await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])
    await call(client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code)])

    done = {**dossier, "TrangThaiHoSo": "9"}
    updated = await call(client, session, "DongBoHoSoMC", isUpdating="True", data=[done])
    entry = opencps_entry(code, status="9")
    progressed = await call(client, session, "CapNhatTienDoHoSoMC", data=[entry])

    assert (updated["error_code"], progressed["error_code"]) == ("0", "0")
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    history = national.json()["history"]
    assert [(e["step"], e["status"]["code"]) for e in history] == [(1, 4), (2, 4), (3, 9), (4, 9)]
    assert (national.json()["step"], national.json()["status"]["code"]) == (3, 9)


async def test_a_progress_update_of_a_dossier_never_synced_is_not_found(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    code = opencps_dossier(await a_procedure(client, demo_token))["MaHoSo"]

    answer = await call(client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code)])

    assert answer["error_code"] == dvc.NOT_FOUND, answer
    assert code in answer["message"]


@pytest.mark.parametrize(
    "change",
    [
        {"TrangThai": "11"},
        {"TrangThai": ""},
        {"ThoiDiemXuLy": "2026-12-07"},
        {"ThoiDiemXuLy": ""},
        {"NguoiXuLy": ""},
        {"NgayBatDau": "07/12/2026"},
        {"MaHoSo": "no-code"},
        {"ChucDanh": "x" * 201},
    ],
)
async def test_bad_progress_entries_are_refused_and_nothing_is_recorded(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str, change: dict[str, str]
) -> None:
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    good = opencps_entry(code)

    answer = await call(
        client, session, "CapNhatTienDoHoSoMC", data=[good, opencps_entry(code, **change)]
    )

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert len(national.json()["history"]) == 1


async def test_a_progress_entry_dated_ahead_of_the_clock_is_refused_and_not_recorded(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    """As the national portal refuses it at the REST door (`future_dated`)."""
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    ahead = opencps_entry(code, ThoiDiemXuLy="20990705080600")

    answer = await call(client, session, "CapNhatTienDoHoSoMC", data=[ahead])

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith("INVALID_DOSSIER_REQUEST:"), answer
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert len(national.json()["history"]) == 1


async def history(http: httpx.AsyncClient, token: str, code: str) -> list[tuple[int, str]]:
    """The dossier's entries as the national portal holds them: (step, note)."""
    national = await http.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(token))
    assert national.status_code == 200, national.text
    return [(entry["step"], entry["note"]) for entry in national.json()["history"]]


async def test_a_progress_batch_with_an_entry_ahead_after_a_good_one_records_none(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    """As the national portal's own batch (`…_batch_with_one_entry_ahead_records_none`): a
    retry of the corrected batch then records each entry once, in order."""
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    good = opencps_entry(code, NoiDungXuLy="first")
    ahead = opencps_entry(code, NoiDungXuLy="second", ThoiDiemXuLy="20990705080600")

    answer = await call(client, session, "CapNhatTienDoHoSoMC", data=[good, ahead])
    before = await history(client, demo_token, code)
    fixed = {**ahead, "ThoiDiemXuLy": "20261207110000"}
    retried = await call(client, session, "CapNhatTienDoHoSoMC", data=[good, fixed])

    assert len(before) == 1
    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith("INVALID_DOSSIER_REQUEST: data[1].ThoiDiemXuLy"), answer
    assert retried["error_code"] == "0", retried
    assert (await history(client, demo_token, code))[1:] == [(2, "first"), (3, "second")]


async def test_a_progress_batch_naming_an_unknown_dossier_after_a_good_one_records_none(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    unknown = opencps_dossier(await a_procedure(client, demo_token))["MaHoSo"]

    answer = await call(
        client,
        session,
        "CapNhatTienDoHoSoMC",
        data=[opencps_entry(code), opencps_entry(unknown)],
    )

    assert len(await history(client, demo_token, code)) == 1
    assert answer["error_code"] == dvc.NOT_FOUND, answer
    assert answer["message"] == f"data[1]: Hồ sơ {unknown} chưa tồn tại"


async def test_a_progress_batch_naming_another_provinces_dossier_after_a_good_one_records_none(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str, settings: Settings
) -> None:
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    theirs = seeded_dossier_codes(
        province_code="82", seed=settings.seed, population=settings.population
    )[0]
    before = await history(client, demo_token, theirs)

    answer = await call(
        client, session, "CapNhatTienDoHoSoMC", data=[opencps_entry(code), opencps_entry(theirs)]
    )

    assert len(await history(client, demo_token, code)) == 1
    assert await history(client, demo_token, theirs) == before
    assert answer["error_code"] == dvc.REFUSED, answer
    assert answer["message"].startswith("data[1]:"), answer


async def test_a_good_progress_batch_records_every_entry_in_the_order_sent(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    code = await synced(client, session, demo_token)
    other = await synced(client, session, demo_token)
    batch = [
        opencps_entry(code, NoiDungXuLy="a"),
        opencps_entry(other, NoiDungXuLy="b"),
        opencps_entry(code, NoiDungXuLy="c"),
    ]

    answer = await call(client, session, "CapNhatTienDoHoSoMC", data=batch)

    assert answer["error_code"] == "0", answer
    assert [row["MaHoSo"] for row in answer["result"]] == [code, other, code]
    assert (await history(client, demo_token, code))[1:] == [(2, "a"), (3, "c")]
    assert (await history(client, demo_token, other))[1:] == [(2, "b")]


async def test_a_sync_batch_with_an_existing_dossier_after_a_new_one_syncs_none(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    existing = await synced(client, session, demo_token)
    procedure = await a_procedure(client, demo_token)
    new, again = opencps_dossier(procedure), {**opencps_dossier(procedure), "MaHoSo": existing}

    answer = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[new, again])
    looked = await call(client, session, "TraCuuHoSo", MaHoSo=new["MaHoSo"])

    assert looked == {"error_code": "0", "message": "Không tìm thấy hồ sơ", "result": []}
    assert answer["error_code"] == dvc.EXISTS, answer
    assert answer["message"] == f"data[1]: Hồ sơ {existing} đã tồn tại"


async def test_a_sync_batch_with_a_bad_dossier_after_a_good_one_syncs_none(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    procedure = await a_procedure(client, demo_token)
    good, bad = opencps_dossier(procedure), {**opencps_dossier(procedure), "LoaiDoiTuong": "9"}

    answer = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[good, bad])
    looked = await call(client, session, "TraCuuHoSo", MaHoSo=good["MaHoSo"])

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert looked["result"] == []


async def bound_vendor(
    http: httpx.AsyncClient, bus: BusState, token: str
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A session of a one-stop system bound to the agency of one procedure (its own), and a
    procedure of another agency of the same province (a foreign one)."""
    listed = await http.get(f"{KG}/dvc/v1/procedures?size=100", headers=bearer(token))
    assert listed.status_code == 200, listed.text
    own, *others = listed.json()["items"]
    foreign = next(p for p in others if p["agency"]["id"] != own["agency"]["id"])
    name = f"vendor-{next(_SERIAL)}"
    rights = {"dvcqg": "GET,POST", "dvc": "GET"}
    new = await registered_client(bus, rights, name=name, organisation=own["agency"]["id"])
    return await login(http, (new.client_id, new.client_secret)), own, foreign


async def test_a_bound_clients_progress_batch_with_a_foreign_dossier_after_its_own_records_none(
    client: httpx.AsyncClient, bus: BusState, portal: tuple[str, str], demo_token: str
) -> None:
    """The gateway refuses only the foreign entry's write (`record_progress` is for the
    caller's organisation), so the door checks every entry before the first."""
    session, own, foreign = await bound_vendor(client, bus, demo_token)
    mine, theirs = opencps_dossier(own), opencps_dossier(foreign)
    system = await login(client, portal)
    synced = await call(client, system, "DongBoHoSoMC", isUpdating="False", data=[mine, theirs])
    assert synced["error_code"] == "0", synced
    codes = (mine["MaHoSo"], theirs["MaHoSo"])

    answer = await call(
        client,
        session,
        "CapNhatTienDoHoSoMC",
        data=[opencps_entry(code) for code in codes],
        madonvi=own["agency"]["id"],
    )

    assert [len(await history(client, demo_token, code)) for code in codes] == [1, 1]
    assert answer["error_code"] == dvc.REFUSED, answer
    assert answer["message"].startswith("ORGANISATION_MISMATCH: Client "), answer
    assert f"not for data[1] ({codes[1]})" in answer["message"], answer
    assert answer["result"] == []


async def test_a_bound_clients_sync_batch_with_a_foreign_dossier_after_its_own_syncs_none(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    session, own, foreign = await bound_vendor(client, bus, demo_token)
    mine, theirs = opencps_dossier(own), opencps_dossier(foreign)

    madonvi = own["agency"]["id"]
    answer = await call(
        client, session, "DongBoHoSoMC", isUpdating="False", data=[mine, theirs], madonvi=madonvi
    )
    looked = await call(client, session, "TraCuuHoSo", MaHoSo=mine["MaHoSo"], madonvi=madonvi)

    assert looked["result"] == []
    assert answer["error_code"] == dvc.REFUSED, answer
    assert answer["message"].startswith("ORGANISATION_MISMATCH: Client "), answer
    assert f"not for data[1] ({foreign['agency']['id']})" in answer["message"], answer


async def test_a_bound_clients_batches_of_its_own_dossiers_record_every_entry(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    session, own, _ = await bound_vendor(client, bus, demo_token)
    first, second = opencps_dossier(own), opencps_dossier(own)
    codes = (first["MaHoSo"], second["MaHoSo"])

    madonvi = own["agency"]["id"]
    synced = await call(
        client, session, "DongBoHoSoMC", isUpdating="False", data=[first, second], madonvi=madonvi
    )
    progressed = await call(
        client,
        session,
        "CapNhatTienDoHoSoMC",
        data=[opencps_entry(code) for code in codes],
        madonvi=madonvi,
    )

    assert synced["error_code"] == "0", synced
    assert progressed["error_code"] == "0", progressed
    assert [len(await history(client, demo_token, code)) for code in codes] == [2, 2]


@pytest.mark.parametrize(
    ("service", "fields"),
    [
        ("LayDanhMucCoQuan", {"MaTinh": "9"}),
        ("LayDanhMucCoQuan", {"MaTinh": "abc"}),
        ("CapNhatTienDoHoSoMC", {"data": None}),
        ("CapNhatTienDoHoSoMC", {"data": []}),
        ("CapNhatTienDoHoSoMC", {"data": "x"}),
        ("CapNhatTienDoHoSoMC", {"data": ["x"]}),
    ],
)
async def test_a_malformed_catalogue_or_progress_request_is_refused(
    client: httpx.AsyncClient, portal: tuple[str, str], service: str, fields: dict[str, Any]
) -> None:
    session = await login(client, portal)

    answer = await call(client, session, service, **fields)

    assert answer["error_code"] == dvc.BAD_REQUEST, answer


async def test_opencps_flow_lookup_create_exists_then_update(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    dossier = opencps_dossier(await a_procedure(client, demo_token))
    code = dossier["MaHoSo"]

    before = await call(client, session, "TraCuuHoSo", MaHoSo=code)
    created = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])
    again = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])
    updated = await call(
        client,
        session,
        "DongBoHoSoMC",
        isUpdating="True",
        data=[{**dossier, "TrangThaiHoSo": "4"}],
    )
    after = await call(client, session, "TraCuuHoSo", MaHoSo=code)

    assert before == {"error_code": "0", "message": before["message"], "result": []}
    assert created["error_code"] == "0", created
    assert again["error_code"] == dvc.EXISTS
    assert "đã tồn tại" in again["message"]
    assert updated["error_code"] == "0", updated
    assert after["result"][0]["TrangThaiHoSo"] == "4"
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert [entry["status"]["code"] for entry in national.json()["history"]] == [2, 4]
    assert national.json()["agency"]["name"] == dossier["DonViXuLy"]


async def test_updating_a_dossier_never_synced_is_refused(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    dossier = opencps_dossier(await a_procedure(client, demo_token))

    answer = await call(client, session, "DongBoHoSoMC", isUpdating="True", data=[dossier])

    assert answer["error_code"] == dvc.NOT_FOUND


@pytest.mark.parametrize(
    "change",
    [
        {"TrangThaiHoSo": "11"},
        {"NgayTiepNhan": "2026-12-06"},
        {"DonViXuLy": {"MaDinhDanh": "x"}},
        {"HinhThuc": "2"},
        {"TaiLieuNop": "a"},
        {"MaHoSo": "no-code"},
    ],
)
async def test_bad_dossiers_are_refused_and_nothing_is_synced(
    client: httpx.AsyncClient,
    portal: tuple[str, str],
    demo_token: str,
    change: dict[str, Any],
) -> None:
    session = await login(client, portal)
    dossier = {**opencps_dossier(await a_procedure(client, demo_token)), **change}

    answer = await call(client, session, "DongBoHoSoMC", isUpdating="False", data=[dossier])

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    code = str(dossier["MaHoSo"])
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert national.status_code in (404, 422)


async def test_a_sync_leaves_the_records_of_the_same_calls_in_the_bus_dialect(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str, settings: Settings
) -> None:
    session = await login(client, portal)
    procedure = await a_procedure(client, demo_token)
    spoken = opencps_dossier(procedure)
    own = opencps_dossier(procedure)
    token = await fetch_token(client, client_id=portal[0], secret=portal[1])

    answer = await call(
        client, session, "DongBoHoSoMC", "opencps-1", isUpdating="False", data=[spoken]
    )
    headers = {**bearer(token), "X-Request-ID": "own-opencps-1"}
    looked = await client.get(f"{KG}/dvcqg/v1/dossiers/{own['MaHoSo']}", headers=headers)
    body = dvc.sync_body(own, province_code="91", step=1, now=_now())
    synced = await client.post(f"{KG}/dvcqg/v1/dossiers/sync", json=body, headers=headers)

    assert answer["error_code"] == "0", answer
    assert (looked.status_code, synced.status_code) == (404, 200)
    own_trail = await trail(client, demo_token, "own-opencps-1")
    assert len(own_trail) >= 4
    spoken_trail = await trail(client, demo_token, "opencps-1")
    assert _named(spoken_trail, spoken) == _named(own_trail, own)
    own_journal = await journal(client, demo_token, "own-opencps-1")
    spoken_journal = await journal(client, demo_token, "opencps-1")
    assert _named(spoken_journal, spoken) == _named(own_journal, own)


async def test_a_progress_update_leaves_the_records_of_the_same_calls_in_the_bus_dialect(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str
) -> None:
    session = await login(client, portal)
    spoken, own = [await synced(client, session, demo_token) for _ in range(2)]
    token = await fetch_token(client, client_id=portal[0], secret=portal[1])

    entry = opencps_entry(spoken)
    answer = await call(client, session, "CapNhatTienDoHoSoMC", "opencps-progress", data=[entry])
    headers = {**bearer(token), "X-Request-ID": "own-opencps-progress"}
    looked = await client.get(f"{KG}/dvcqg/v1/dossiers/{own}", headers=headers)
    body = {"step": 2, "progress": dvc.progress_entry(opencps_entry(own))}
    recorded = await client.post(
        f"{KG}/dvcqg/v1/dossiers/{own}/progress", json=body, headers=headers
    )

    assert answer["error_code"] == "0", answer
    assert (looked.status_code, recorded.status_code) == (200, 200), recorded.text
    own_trail = await trail(client, demo_token, "own-opencps-progress")
    spoken_trail = await trail(client, demo_token, "opencps-progress")
    assert len(own_trail) >= 4
    assert _named(spoken_trail, {"MaHoSo": spoken}) == _named(own_trail, {"MaHoSo": own})
    own_journal = await journal(client, demo_token, "own-opencps-progress")
    spoken_journal = await journal(client, demo_token, "opencps-progress")
    assert _named(spoken_journal, {"MaHoSo": spoken}) == _named(own_journal, {"MaHoSo": own})


def _now() -> datetime:
    return datetime.now(UTC)


def _named(records: list[dict[str, Any]], dossier: dict[str, Any]) -> list[dict[str, Any]]:
    """The records with the dossier's code as `{code}`, and without the bodies and their
    hashes (two dossiers are compared, synced at two moments)."""
    return [
        {
            k: v.replace(dossier["MaHoSo"], "{code}") if isinstance(v, str) else v
            for k, v in record.items()
            if k not in ("request_sha256", "response_sha256", "request", "response")
        }
        for record in records
    ]


@pytest.mark.parametrize("fault", ["status=503", "drop"])
async def test_an_injected_fault_meets_a_call_as_any_call(
    client: httpx.AsyncClient, portal: tuple[str, str], demo_token: str, fault: str
) -> None:
    session = await login(client, portal)
    request_id = f"opencps-fault-{fault[:4]}"

    try:
        answer = await client.post(
            f"{DOOR}/integration",
            json={"session": session, "madonvi": "000.00.00.H33", "service": "LayDanhSachTTHC"},
            headers={**DST, "X-LGSP-Fault": fault, "X-Request-ID": request_id},
        )
    except httpx.HTTPError:  # a dropped connection reaches the caller as one
        answer = None

    if fault == "drop":
        assert answer is None or answer.status_code >= 500
    else:
        assert answer is not None
        assert answer.json()["error_code"] == dvc.UNAVAILABLE
        assert answer.headers["x-request-id"] == request_id
    records = await trail(client, demo_token, request_id)
    recorded = {"status=503": 503, "drop": 502}[fault]  # as the bus records a dropped call
    inbound = [r["status"] for r in records if r["hop"] == "inbound"]
    # beside the core's record, the door's own of the `-9` it answered (a dropped call is
    # replayed as it is, not answered by the door)
    assert inbound == {"status=503": [recorded, 200], "drop": [recorded]}[fault]


async def at_the_door(http: httpx.AsyncClient, request_id: str) -> tuple[list[Any], list[Any]]:
    """The audit records and journal entries of a call at the door's own path (the core's of
    the calls behind it left out)."""
    admin = await fetch_token(http)
    audit = await http.get(
        f"{KG}/admin/audit", params={"request_id": request_id}, headers=bearer(admin)
    )
    assert audit.status_code == 200, audit.text
    records = [(r["path"], r["status"]) for r in audit.json()["records"]]
    entries = await journal(http, admin, request_id)
    return (
        [record for record in records if record[0].startswith(DOOR)],
        [entry for entry in entries if entry["path"].startswith("/opencps/")],
    )


async def test_every_refusal_of_a_service_is_recorded_at_the_doors_path(
    client: httpx.AsyncClient, bus: BusState, portal: tuple[str, str], demo_token: str
) -> None:
    """README: every door records its own refusals. A refusal the door decides after reading
    the national view (`-6` for another organisation's dossier or `madonvi`, `-3`, `-4`), one
    of a bad entry (`-2`), or the core's, translated (`ORGANISATION_REQUIRED`), is in the
    audit log and the journal at the door's path, as the caller got it, under its request id."""
    vendor, own, foreign = await bound_vendor(client, bus, demo_token)
    system = await login(client, portal)
    unbound = await registered_client(
        bus, {"dvcqg": "GET,POST"}, name=f"opencps-unbound-{next(_SERIAL)}"
    )
    tenant = await login(client, (unbound.client_id, unbound.client_secret))
    mine, theirs = opencps_dossier(own), opencps_dossier(foreign)
    existing = opencps_dossier(own)
    assert (await call(client, system, "DongBoHoSoMC", data=[existing]))["error_code"] == "0"
    bad = {**opencps_dossier(own), "TrangThaiHoSo": "12"}
    calls = {
        "oc-foreign": (vendor, "DongBoHoSoMC", {"data": [mine, theirs]}),
        "oc-madonvi": (vendor, "LayDanhMucLinhVuc", {"madonvi": foreign["agency"]["id"]}),
        "oc-exists": (system, "DongBoHoSoMC", {"data": [existing]}),
        "oc-unknown": (system, "CapNhatTienDoHoSoMC", {"data": [opencps_entry(mine["MaHoSo"])]}),
        "oc-bad-entry": (system, "DongBoHoSoMC", {"data": [mine, bad]}),
        "oc-unbound": (tenant, "DongBoHoSoMC", {"data": [mine]}),
    }
    for request_id, (session, service, fields) in calls.items():
        madonvi = own["agency"]["id"] if session == vendor else "000.00.00.H33"
        answer = await call(client, session, service, request_id, **{"madonvi": madonvi, **fields})
        assert answer["error_code"] != "0", (request_id, answer)

        records, entries = await at_the_door(client, request_id)

        assert records == [(f"{DOOR}/integration", 200)], (request_id, records)
        (entry,) = entries
        assert (entry["path"], entry["status"]) == ("/opencps/integration", 200), request_id
        assert json.loads(entry["response"]["body"]) == answer, request_id
        assert vendor not in json.dumps(entry)  # the session is a credential
        assert system not in json.dumps(entry)


@pytest.mark.parametrize(
    ("service", "change", "field"),
    [
        ("DongBoHoSoMC", {"TrangThaiHoSo": "12"}, "TrangThaiHoSo must be a code from 1 to 10."),
        ("DongBoHoSoMC", {"HinhThuc": "7"}, 'HinhThuc must be "0" or "1".'),
        ("DongBoHoSoMC", {"NgayTiepNhan": "tomorrow"}, "NgayTiepNhan: "),
        ("DongBoHoSoMC", {"TaiLieuNop": ["x"]}, "TaiLieuNop: every item must be an object."),
        ("DongBoHoSoMC", {"MaHoSo": "no-code"}, "MaHoSo must be {agencyId}-{yyMMdd}-{NNNN}."),
        ("DongBoHoSoMC", {"same": True}, "MaHoSo "),
        ("CapNhatTienDoHoSoMC", {"TrangThai": "11"}, "TrangThai must be a code from 1 to 10."),
        ("CapNhatTienDoHoSoMC", {"NguoiXuLy": ""}, "NguoiXuLy is required."),
        ("CapNhatTienDoHoSoMC", {"NguoiXuLy": "x" * 300}, "NguoiXuLy is not valid."),
    ],
)
async def test_a_bad_entry_of_a_batch_is_named_after_the_stable_code(
    client: httpx.AsyncClient,
    portal: tuple[str, str],
    demo_token: str,
    service: str,
    change: dict[str, Any],
    field: str,
) -> None:
    """README: a bad entry's `message` starts with the stable code and its place in `data`,
    whichever check refused it, and nothing of the batch is sent."""
    session = await login(client, portal)
    procedure = await a_procedure(client, demo_token)
    good = opencps_dossier(procedure)
    if service == "DongBoHoSoMC":
        if change.pop("same", False):
            change = {"MaHoSo": good["MaHoSo"]}
        data = [good, {**opencps_dossier(procedure), **change}]
    else:
        code = await synced(client, session, demo_token)
        data = [opencps_entry(code), opencps_entry(code, **change)]

    answer = await call(client, session, service, data=data)

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith(f"INVALID_DOSSIER_REQUEST: data[1].{field}"), answer
    national = await client.get(
        f"{KG}/dvcqg/v1/dossiers/{good['MaHoSo']}", headers=bearer(demo_token)
    )
    if service == "DongBoHoSoMC":
        assert national.status_code == 404
    else:
        assert [len(await history(client, demo_token, code))] == [1]


@pytest.mark.parametrize("madonvi", ["garbage", "000.00.00.H3", "000.00.00.h33", "", None, 33])
async def test_a_malformed_madonvi_is_refused_with_a_stable_code(
    client: httpx.AsyncClient, portal: tuple[str, str], madonvi: Any
) -> None:
    session = await login(client, portal)

    answer = await call(client, session, "LayDanhMucLinhVuc", "oc-bad-madonvi", madonvi=madonvi)

    assert answer["error_code"] == dvc.BAD_REQUEST, answer
    assert answer["message"].startswith("INVALID_REQUEST: madonvi"), answer  # absent too
    assert "result" not in answer or answer["result"] == []


@pytest.mark.parametrize(
    ("fields", "body", "words"),
    [
        pytest.param({"service": "LayDanhSachTTHC", "page": 0}, None, "page", id="page"),
        pytest.param({"service": "DongBoHoSoMC", "data": "x"}, None, "data", id="data-not-list"),
        pytest.param({"service": "DongBoHoSoMC", "data": [1]}, None, "Every item", id="item"),
        pytest.param({}, b"[1, 2]", "The body is not a JSON object", id="not-an-object"),
        pytest.param({}, b"\xff", "The body is not a JSON object", id="not-json"),
    ],
)
async def test_a_request_refused_as_a_whole_is_led_by_a_stable_code(
    client: httpx.AsyncClient,
    portal: tuple[str, str],
    fields: dict[str, Any],
    body: bytes | None,
    words: str,
) -> None:
    """As an entry's refusal is led by INVALID_DOSSIER_REQUEST and data[i]: every -2 carries a
    code a caller can test for, not only its prose (the madonvi's did alone)."""
    session = await login(client, portal)
    sent = {"session": session, "madonvi": "000.00.00.H33", **fields}

    answer = await client.post(
        f"{DOOR}/integration",
        content=body if body is not None else json.dumps(sent).encode(),
        headers={**DST, "Content-Type": "application/json"},
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["error_code"] == dvc.BAD_REQUEST, answer.text
    assert answer.json()["message"].startswith(f"INVALID_REQUEST: {words}"), answer.text


async def test_a_madonvi_in_the_lenient_form_dvcqg_payloads_use_is_taken(
    client: httpx.AsyncClient, portal: tuple[str, str]
) -> None:
    """Two digits in a first group, as DVCQG payloads are seen with (formats.codes): the
    national portal's contract takes it, and so does its door."""
    session = await login(client, portal)

    answer = await call(client, session, "LayDanhMucLinhVuc", "oc-lenient", madonvi="00.000.07.H33")

    assert answer["error_code"] == "0", answer


@pytest.mark.parametrize("service", ["LayDanhMucLinhVuc", "TraCuuHoSo", "DongBoHoSoMC"])
@pytest.mark.parametrize("foreign", ["000.00.00.H20", "000.00.00.H33", "other-agency"])
async def test_a_bound_client_may_not_speak_for_another_agency_in_madonvi(
    client: httpx.AsyncClient, bus: BusState, demo_token: str, service: str, foreign: str
) -> None:
    """A session of a client bound to an organisation names that one in `madonvi`, as its
    dossiers: another province's agency, its people's committee or a neighbour agency is
    ORGANISATION_MISMATCH, `-6`, by the rule the gateway holds its writes to; nothing is
    answered as the other agency's (`MANGANH`) and nothing synced."""
    session, own, other = await bound_vendor(client, bus, demo_token)
    madonvi = other["agency"]["id"] if foreign == "other-agency" else foreign
    mine = opencps_dossier(own)

    answer = await call(
        client, session, service, madonvi=madonvi, MaHoSo=mine["MaHoSo"], data=[mine]
    )

    assert answer["error_code"] == dvc.REFUSED, answer
    assert answer["message"].startswith("ORGANISATION_MISMATCH: Client "), answer
    assert f"not for madonvi ({madonvi})" in answer["message"], answer
    assert answer["result"] == []
    national = await client.get(
        f"{KG}/dvcqg/v1/dossiers/{mine['MaHoSo']}", headers=bearer(demo_token)
    )
    assert national.status_code == 404
