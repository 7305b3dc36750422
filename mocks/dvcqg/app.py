"""The national public-service portal (DVCQG) as a system of its own: the national view of every
dossier the provincial portals sync.

It speaks DVCQG's adapter protocol (DOMAIN.md §2.3): every call is `POST /api/integration` with
`{service: "<Name>", …}`, every answer `{error_code, message, result}`, "0" meaning success.
- `DongBoHoSoMC` `{isUpdating: "True"|"False", data: [HoSo]}`: "False" inserts and answers
  "-3" … "đã tồn tại" for a known `MaHoSo` (§2.3, the Thanh Hóa client); "True" inserts or
  updates (a mock leniency: the bus's adapter cannot look a dossier up first). A `HoSo` may carry
  its progress entries in `TienTrinh` (§8.4). `result`: per dossier `{MaHoSo, KetQua, ThuTu,
  SoTienTrinhMoi}`; `TrungLap` says whether the answer is a replay.
- `CapNhatTienDoHoSoMC` `{data: [entry]}`: entries of dossiers already synced.
- `TraCuuHoSo` `{MaHoSo}`: `result` is `[HoSo with TienTrinh]`, or `[]` if it was never synced.
- `LayDanhSachHoSo` `{MaTinh?, TrangThaiHoSo?, Trang, SoBanGhi}` (mock addition): a page.
- `LayDanhMucCoQuan` `{MaTinh?}` and `LayDanhMucLinhVuc`: the agencies and fields catalogues
  (`catalogue.py`), read as OpenCPS reads them.

Writes are idempotent on the `Idempotency-Key` request header (the bus's outbox sends
`dvcqg:{MaHoSo}:{step}`): the key is kept with a digest of the body and the answer, in the
transaction of the effect; the same key again replays the answer with `TrungLap: true` and
changes nothing; the same key with another body is refused ("-4"). Errors use mock codes beside
the real "-3": "-1" 400 invalid request (413 when too large), "-2" 404 unknown dossier, "-3" 409
exists, "-4" 422 key reused, "-5" 409 the `MaHoSo` belongs to another province, "-6" 403 the
province the call came from (the bus's `X-LGSP-Origin`) is not the dossier's (issue 15), "-7"
422 in era 2026 a dossier dated on or after 1 July 2025 (filed, or numbered) under an agency
whose level-1 code the 2025 merger closed (AGENCY_CODE_CLOSED, `formats.agency_codes`).

At start it knows the seeded dossiers of every province of the topology, as if each had been
synced long ago (`seed.py` says why); tables are its own, prefixed `dvcqg_`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from formats.agency_codes import AgencyCodeClosed, refuse_closed
from formats.dates import latest_allowed, now_in_vietnam, parse_dvcqg_time
from formats.ngsp import request_object
from mocks.bus import ORIGIN_HEADER
from mocks.config import SystemConfig
from mocks.db import MockDatabase
from mocks.directory.admin_units import ADMIN_UNITS, Era
from mocks.directory.agencies import PREDECESSORS, find_agency
from mocks.directory.agencies import PROVINCES as PORTAL_PROVINCES
from mocks.dvc.codes import InvalidDossierCode, parse_dossier_code
from mocks.dvcqg.catalogue import agency_rows, field_rows
from mocks.dvcqg.models import DvcqgBase
from mocks.dvcqg.schemas import (
    SERVICES,
    CapNhatTienDoHoSoMC,
    DongBoHoSoMC,
    LayDanhMucCoQuan,
    LayDanhMucLinhVuc,
    LayDanhSachHoSo,
    TraCuuHoSo,
)
from mocks.dvcqg.seed import seed_national
from mocks.dvcqg.store import DossierExists, DossierUnknown, NationalStore, OtherProvince
from mocks.envelope import (
    EnvelopeError,
    NgspEnvelope,
    Translation,
    install_envelope_handlers,
    router_errors,
)
from mocks.stateful import lifespan_state, stateful_app, write_transaction

logger = logging.getLogger(__name__)

STATE_KEY = "dvcqg"
INTEGRATION_PATH = "/api/integration"
"""The portal's one endpoint (`integration_endpoint` of OpenCPS's DVCQG config, §2.3)."""
MAX_BODY_BYTES = 1024 * 1024
"""Fifty dossiers of a hundred entries each fit well within; a real sync is one dossier."""
FUTURE_DATED = "future_dated"
"""The rule a record dated ahead of the clock breaks, as the document systems name it."""
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,200}")  # visible ASCII, as the gateway checks it
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'error_code "-1": the request is not valid'},
    403: {"description": 'error_code "-6": the calling province is not the dossier\'s'},
    404: {"description": 'error_code "-2": CapNhatTienDoHoSoMC for a dossier never synced'},
    409: {"description": 'error_code "-3": the dossier exists; "-5": of another province'},
    413: {"description": 'error_code "-1": the body is larger than 1 MiB'},
    422: {
        "description": 'error_code "-4": the Idempotency-Key came with another body; "-7": '
        "a new dossier under an agency code the 2025 merger closed"
    },
}


@dataclass(frozen=True)
class DvcqgState:
    database: MockDatabase
    now: Callable[[], datetime]
    provinces: Mapping[str, str]
    """Legacy province code → bus instance, as `SystemConfig.provinces`."""
    era: Literal["2026", "2024"] = "2024"
    """What a `MaTinh` filter means: today's province (with the old ones merged into it) when
    it is one (2026), else the old province."""
    clock_skew_seconds: float = 300.0
    """How far ahead of this clock a progress entry may say it happened
    (`SystemConfig.clock_skew_seconds`, the documents' tolerance)."""


def province_filter(code: str, era: Literal["2026", "2024"]) -> tuple[list[str], Era]:
    """The old province codes the records of `code` carry, and the era `code` was read in:
    in era 2026 a code of today (92 Cần Thơ) covers the provinces merged into it (92, 93,
    94); a retired code (93) is read as the old province it was. The dossiers and the agencies
    read it so alike. A code no province had in the bus's eras is "-1" (`unknown_province`)."""
    if era == "2026" and ADMIN_UNITS.unit("2026", code) is not None:
        return [unit.code for unit in ADMIN_UNITS.predecessors(code)], "2026"
    if ADMIN_UNITS.unit("2024", code) is None:
        eras = "today or before 1 July 2025" if era == "2026" else "before 1 July 2025"
        raise EnvelopeError(
            400,
            "-1",
            f"DU_LIEU_KHONG_HOP_LE: MaTinh: no province had this code {eras} (unknown_province).",
            data={"QuyTac": "unknown_province", "TruongLoi": "MaTinh"},
        )
    return [code], "2024"


# DVCQG's envelope: `result`, not `data`, and its own words for success (§2.3).
NATIONAL = NgspEnvelope(key="result", success_message="Thành công")


def _invalid(detail: str, status: int = 400) -> EnvelopeError:
    return EnvelopeError(status, "-1", f"DU_LIEU_KHONG_HOP_LE: {detail}")


def _state(request: Request) -> DvcqgState:
    return lifespan_state(request, STATE_KEY, DvcqgState)


StateDep = Annotated[DvcqgState, Depends(_state)]
router = APIRouter()


@router.post(INTEGRATION_PATH, responses=_ERRORS)
async def integrate(
    request: Request,
    state: StateDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    origin: Annotated[str | None, Header(alias=ORIGIN_HEADER)] = None,
) -> JSONResponse:
    """One DVCQG call, chosen by the body's `service`."""
    raw = await _bounded_body(request)
    call = _parse(raw)
    if isinstance(call, TraCuuHoSo):
        async with state.database.sessions() as session:
            found = await NationalStore(session).lookup(call.ma_ho_so)
        return NATIONAL.ok([found] if found is not None else [])
    if isinstance(call, LayDanhSachHoSo):
        codes, era = (
            (None, None) if call.ma_tinh is None else province_filter(call.ma_tinh, state.era)
        )
        async with state.database.sessions() as session:
            items, total = await NationalStore(session).page(
                province_codes=codes,
                status=int(call.trang_thai) if call.trang_thai is not None else None,
                page=call.trang,
                size=call.so_ban_ghi,
            )
        page = {"TongSo": total, "Trang": call.trang, "SoBanGhi": call.so_ban_ghi}
        # mock additions: which era the MaTinh was read in, and the old codes it covered
        read = {} if era is None else {"KyMaTinh": era, "MaTinhCu": codes}
        return NATIONAL.ok({**page, **read, "DanhSach": items})
    if isinstance(call, LayDanhMucLinhVuc):
        return NATIONAL.ok(field_rows())
    if isinstance(call, LayDanhMucCoQuan):
        return _agencies(state, call)
    if idempotency_key is not None and not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        raise _invalid("Idempotency-Key must be 1 to 200 visible ASCII characters")
    if not isinstance(call, DongBoHoSoMC | CapNhatTienDoHoSoMC):  # pragma: no cover
        raise _invalid("service")
    return await _write(state, call, raw, idempotency_key, _origin_code(state, origin))


def _agencies(state: DvcqgState, call: LayDanhMucCoQuan) -> JSONResponse:
    """The bodies of the provinces it serves, or of the one `MaTinh` names, read as
    `LayDanhSachHoSo` reads it: a retired code (93 in era 2026) is the old province, with the
    bodies it had; `KyMaTinh` and `MaTinhCu` (mock additions, beside `result`) say so."""
    if call.ma_tinh is None:
        return NATIONAL.ok(agency_rows(state.provinces or PORTAL_PROVINCES, era=state.era))
    codes, era = province_filter(call.ma_tinh, state.era)
    return NATIONAL.ok(agency_rows(codes, era=era), KyMaTinh=era, MaTinhCu=codes)


def _origin_code(state: DvcqgState, origin: str | None) -> str | None:
    """The province code of the instance the bus says the call came from; None: not told (the
    mock run on its own). An origin that is no province (NDXP itself) writes for none."""
    if origin is None:
        return None
    return next((code for code, name in state.provinces.items() if name == origin), "")


async def _write(
    state: DvcqgState,
    call: DongBoHoSoMC | CapNhatTienDoHoSoMC,
    raw: bytes,
    key: str | None,
    origin_code: str | None,
) -> JSONResponse:
    """Apply a write in one transaction with its key; replay the answer of a known key."""
    if origin_code is not None and isinstance(call, DongBoHoSoMC):
        for item in call.data:
            if item.ma_tinh != origin_code or _agency_province(item.ma_ho_so) not in (
                None,
                origin_code,
            ):
                raise _not_yours(item.ma_ho_so)
    if state.era == "2026" and isinstance(call, DongBoHoSoMC):
        _refuse_closed_agencies(call)
    now = state.now()
    _refuse_future_entries(call, latest_allowed(now, state.clock_skew_seconds))
    digest = hashlib.sha256(raw).hexdigest()
    async with write_transaction(state.database.sessions) as session:
        store = NationalStore(session)
        if key is not None:
            earlier = await store.claim(key, service=call.service, request_sha256=digest, at=now)
            if earlier is not None:
                if earlier.request_sha256 != digest:
                    raise EnvelopeError(
                        422, "-4", "IDEMPOTENCY_KEY_DA_DUNG: the key came with another body"
                    )
                return NATIONAL.ok(earlier.result, TrungLap=True)
        try:
            if isinstance(call, DongBoHoSoMC):
                updating = call.is_updating == "True"
                synced = [await store.sync(item, updating=updating, at=now) for item in call.data]
                result = [entry.json() for entry in synced]
            else:
                result = await store.add_progress(call.data, province_code=origin_code)
        except DossierExists as error:
            raise EnvelopeError(409, "-3", f"Hồ sơ {error.code} đã tồn tại") from None
        except OtherProvince as error:
            if origin_code is not None:
                raise _not_yours(error.code) from None
            raise EnvelopeError(409, "-5", f"HO_SO_CUA_TINH_KHAC: {error.code}") from None
        except DossierUnknown as error:
            raise EnvelopeError(404, "-2", f"KHONG_TIM_THAY_HO_SO: {error.code}") from None
        if key is not None:
            await store.answer(key, result)
    logger.info("%s applied: %s", call.service, result)  # codes and steps, no personal data
    return NATIONAL.ok(result, TrungLap=False)


def _refuse_future_entries(call: DongBoHoSoMC | CapNhatTienDoHoSoMC, latest: datetime) -> None:
    """ "-1" for a progress entry whose ThoiDiemXuLy is later than `latest`: what was done is
    not dated ahead, as a document is not (`future_dated`; its tolerance is the documents').
    NgayKetThucTheoQuyDinh is a due date and may lie ahead. Nothing of the call is written.
    `result` (mock addition) names the rule and the entry, for the bus to say which."""
    entries = (
        [(f"data[{i}]", entry) for i, entry in enumerate(call.data)]
        if isinstance(call, CapNhatTienDoHoSoMC)
        else [
            (f"data[{i}].TienTrinh[{j}]", entry)
            for i, item in enumerate(call.data)
            for j, entry in enumerate(item.tien_trinh)
        ]
    )
    for where, entry in entries:
        if parse_dvcqg_time(entry.thoi_diem_xu_ly) > latest:
            raise EnvelopeError(
                400,
                "-1",
                f"DU_LIEU_KHONG_HOP_LE: {where}.ThoiDiemXuLy is later than now in Vietnam: "
                f"a step is recorded once it is taken ({FUTURE_DATED}).",
                data={"QuyTac": FUTURE_DATED, "TruongLoi": f"{where}.ThoiDiemXuLy"},
            )


AGENCY_CODE_CLOSED = "-7"


def _refuse_closed_agencies(call: DongBoHoSoMC) -> None:
    """ "-7" 422 for a dossier dated on or after 1 July 2025, filed (`NgayNopHoSo`) or numbered
    (its `MaHoSo`'s yyMMdd), whose agency (`DonViXuLy`, or the organ id its code begins with)
    is under a level-1 code the 2025 merger closed, as the bus refuses such an organ id
    everywhere (`refuse_closed`); one dated before keeps its code. Checked for the whole batch
    before anything is written. `result` (mock addition) names the organ id, the day it was
    read on and the body that succeeds it where the directory has one."""
    for index, item in enumerate(call.data):
        prefix = item.ma_ho_so.split("-", 1)[0]
        on = _dossier_day(item.ngay_nop, item.ma_ho_so)
        for organ_id in dict.fromkeys((item.don_vi_xu_ly.ma_dinh_danh, prefix)):
            try:
                refuse_closed([organ_id], on, known=PREDECESSORS)
            except AgencyCodeClosed as closed:
                successor = closed.extensions.get("successor_organ_id")
                raise EnvelopeError(
                    422,
                    AGENCY_CODE_CLOSED,
                    f"{closed.code}: data[{index}]: {organ_id}: {closed.detail}",
                    data={
                        "MaDinhDanh": organ_id,
                        "NgayHoSo": on.isoformat(),
                        **({} if successor is None else {"MaDinhDanhKeNhiem": successor}),
                    },
                ) from None


def _dossier_day(filed: str, code: str) -> date:
    """The later of the day a dossier was filed and the day its code was issued (a code
    numbered after the merger is new, whatever filing date it claims)."""
    day = parse_dvcqg_time(filed).date()
    try:
        return max(day, parse_dossier_code(code).day)
    except InvalidDossierCode:
        return day


def _not_yours(code: str) -> EnvelopeError:
    return EnvelopeError(403, "-6", f"TINH_GUI_KHONG_PHAI_TINH_CUA_HO_SO: {code}")


def _agency_province(dossier_code: str) -> str | None:
    """The province of the agency a dossier code begins with (`{agencyId}-{yyMMdd}-{NNNN}`);
    None when the directory does not know it."""
    agency = find_agency(dossier_code.split("-", 1)[0])
    return agency.province_code if agency is not None else None


async def _bounded_body(request: Request) -> bytes:
    """The body, refused once it passes `MAX_BODY_BYTES` (whatever Content-Length claims)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _invalid(f"the body is larger than {MAX_BODY_BYTES} bytes", status=413)
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> BaseModel:
    body = request_object(raw)
    if body is None:
        raise _invalid("the body is not a JSON object")
    service = body.get("service")
    model = SERVICES.get(service) if isinstance(service, str) else None
    if model is None:
        raise _invalid(f"service must be one of {', '.join(SERVICES)}")
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in detail['loc'])}: {detail['msg']}"
            for detail in error.errors(include_url=False, include_input=False)[:10]
        )
        raise _invalid(problems) from None


def create_app(config: SystemConfig, *, now: Callable[[], datetime] | None = None) -> FastAPI:
    """The national portal, seeded with the dossiers of every province of `config.provinces`
    (all provinces the provincial mock knows when it is empty); `now` stamps each sync."""
    province_codes = sorted(config.provinces) or sorted(PORTAL_PROVINCES)
    clock = now or now_in_vietnam

    async def open_state(database: MockDatabase, _stack: AsyncExitStack) -> DvcqgState:
        return DvcqgState(database, clock, config.provinces, config.era, config.clock_skew_seconds)

    async def seed(session: AsyncSession) -> int:
        return await seed_national(
            NationalStore(session),
            province_codes=province_codes,
            seed=config.seed,
            population=config.population,
            era=config.era,
        )

    app = stateful_app(
        config,
        title="Mock national public-service portal (DVCQG)",
        description="DVCQG's adapter protocol: POST {service, …}, answers {error_code, "
        "message, result}.",
        metadata=DvcqgBase.metadata,
        state_key=STATE_KEY,
        open_state=open_state,
        seed=seed,
        per_instance=False,  # the topology has one national portal: no instance column
    )
    install_envelope_handlers(app, NATIONAL, _TRANSLATIONS)
    app.include_router(router)
    return app


def _invalid_headers(_exc: RequestValidationError) -> EnvelopeError:
    return _invalid("headers")  # the body is read by hand: only headers are validated


# Every error in DVCQG's envelope, router 404/405 included (STYLE.md Part 2, trap 4).
_TRANSLATIONS = (Translation(RequestValidationError, _invalid_headers), router_errors("-1"))
