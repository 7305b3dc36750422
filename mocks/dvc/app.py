"""A province's public-service portal (DVC, "cổng dịch vụ công") as a system of its own.

It keeps dossiers (`HoSo`) in its own tables and speaks its own JSON, modelled on the DVCQG
payloads (DOMAIN.md §4; `mocks/dvc/schemas.py`), in the NGSP envelope `{error_code, message,
data}` with the codes of DOMAIN.md §8.1. Like a real portal it checks each applicant against
the citizen database through its own LGSP (`citizen_check.py`) before it files anything.

Routes:
- `GET  /api/thutuc?tuKhoa&maLinhVuc&capThucHien&trang&soBanGhi` — the procedure catalogue
- `POST /api/hoso` — file a dossier (`NopHoSo`); 201 with the `HoSo`
- `GET  /api/hoso?soDinhDanh&trangThai&trang&soBanGhi` — dossiers, newest first
- `GET  /api/hoso/{MaHoSo}` — one dossier with `TaiLieuNop` and `TienTrinh`
- `POST /api/hoso/{MaHoSo}/tientrinh` — one step (`XuLyHoSo`); 200 with the `HoSo`
- `GET  /api/dongbo?trangThai&trang&soBanGhi` — the syncs to DVCQG in the OpenCPS dialect

Errors, all in the envelope: 400 "302" DATA_TYPE_INVALID (malformed request); 404 "201"
RECORD_NOT_FOUND (dossier, or the body's `MaTTHC`); 422 "500" DATA_INCORRECT (applicant not
verified, `data.TruongKhongKhop`; unknown `HanhDong`, `data.DanhSachHanhDong`); 409 "409"
INVALID_STATE (`data.TrangThaiHoSo`, `data.HanhDongHopLe`); 502 "502" / 504 "504" (the citizen
check, or the hand-over of the sync, through the bus failed / timed out: nothing filed or
changed); 503 "503" (no dossier number left).
"409", "502", "503" and "504" are mock additions to the NGSP list.

With a client on its LGSP (`config.bus_client_id`), every status change, the filing included,
hands its sync to the national portal over to the bus in the change's own transaction
(`sync.py`); if the bus does not take it, the change is not made (502/504, as for the check).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import uuid4

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from formats.agency_codes import CLOSED, closure_of
from formats.cccd import InvalidCccd, parse_cccd
from formats.codes import ORGAN_ID
from formats.dates import now_in_vietnam, parse_ddmmyyyy
from formats.ngsp import DATA_INCORRECT, DATA_TYPE_INVALID, RECORD_NOT_FOUND
from mocks.bus import BusClient, BusUnavailable, connect
from mocks.config import SystemConfig
from mocks.db import MockDatabase
from mocks.directory.admin_units import Era
from mocks.directory.agencies import PROVINCES, agencies_of, receiving_agency
from mocks.dvc.citizen_check import CitizenCheck, CitizenCheckUnavailable
from mocks.dvc.codes import DossierSequenceExhausted
from mocks.dvc.deadlines import to_vietnam_time
from mocks.dvc.lifecycle import Action, DossierStatus, IllegalTransition, UnknownAction, transition
from mocks.dvc.models import Dossier, DvcBase
from mocks.dvc.opencps_sync import (
    NationalSyncer,
    page_of_syncs,
    queued_sync,
    running_syncer,
    sync_json,
)
from mocks.dvc.procedures import (
    BY_CODE,
    MAX_PAGE_SIZE,
    Procedure,
    level_in,
    procedure_codes_accepted,
    search_procedures,
)
from mocks.dvc.schemas import LEVELS, NopHoSo, XuLyHoSo, dossier_json, procedure_json
from mocks.dvc.seed import seed_dossiers
from mocks.dvc.store import DossierStore, Filing, Step
from mocks.dvc.sync import sync_call
from mocks.envelope import (
    EnvelopeError,
    NgspEnvelope,
    Translation,
    install_envelope_handlers,
    router_errors,
)
from mocks.stateful import lifespan_state, stateful_app, write_transaction

STATE_KEY = "dvc"

_LEVEL_NAMES = {spelling: level for level, spelling in LEVELS.items()}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'error_code "302" DATA_TYPE_INVALID'},
    404: {"description": 'error_code "201" RECORD_NOT_FOUND'},
}
_MISMATCH = {"full_name": "ChuHoSo", "date_of_birth": "NgaySinhChuHoSo"}


@dataclass(frozen=True)
class DvcState:
    """What the lifespan opens and every request uses."""

    instance: str
    province_code: str
    database: MockDatabase
    citizens: CitizenCheck
    bus: BusClient
    """The portal's client on its LGSP: syncs to DVCQG are handed over there, if connected."""
    now: Callable[[], datetime]
    national: NationalSyncer | None = None
    """Syncing in the OpenCPS dialect (`opencps_sync.py`): changes are queued and sent by it."""
    era: Era = "2024"
    """2026: today's bodies receive (no district); 2024: the seeded province's, as they were."""

    def today(self) -> date:
        return to_vietnam_time(self.now()).date()

    def receiver(self, procedure: Procedure, *, commune: str | None = None) -> str:
        """The organ id that receives a dossier of `procedure` filed today; `commune`: the
        applicant's commune of residence (a code of the era's map, as the citizen database
        of the era holds it), for a commune-level procedure."""
        home: tuple[Era, str] | None = (self.era, commune) if commune is not None else None
        return receiving_agency(
            self.province_code, procedure.code, era=self.era, on=self.today(), home=home
        ).organ_id

    async def applicants_commune(
        self, procedure: Procedure, cccd: str, request_id: str | None
    ) -> str | None:
        """Where a commune-level dossier goes: the applicant's commune, as the citizen
        database holds it (asked through the bus once the applicant is verified). In era 2024
        too: districts existed, and a commune-level procedure was the commune's (the seeds'
        capital ward received them all before)."""
        if level_in(procedure, self.era) != "commune":
            return None
        return await self.citizens.commune_of(cccd, request_id=request_id)


PORTAL = NgspEnvelope()


def _invalid(detail: str) -> EnvelopeError:
    return EnvelopeError(400, DATA_TYPE_INVALID, f"DATA_TYPE_INVALID: {detail}")


def _not_found(what: str) -> EnvelopeError:
    return EnvelopeError(404, RECORD_NOT_FOUND, f"RECORD_NOT_FOUND: {what}")


def _state(request: Request) -> DvcState:
    return lifespan_state(request, STATE_KEY, DvcState)


StateDep = Annotated[DvcState, Depends(_state)]
router = APIRouter(prefix="/api")


@router.get("/thutuc", responses={400: _ERRORS[400]})
async def list_procedures(
    state: StateDep,
    tu_khoa: Annotated[str | None, Query(alias="tuKhoa", max_length=200)] = None,
    ma_linh_vuc: Annotated[str | None, Query(alias="maLinhVuc", max_length=200)] = None,
    cap: Annotated[Literal["tinh", "huyen", "xa"] | None, Query(alias="capThucHien")] = None,
    trang: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    so_ban_ghi: Annotated[int, Query(alias="soBanGhi", ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> JSONResponse:
    """Procedures whose name or code holds every word of `tuKhoa`, ignoring case and marks."""
    level = _LEVEL_NAMES[cap] if cap is not None else None
    found = search_procedures(
        tu_khoa, field=ma_linh_vuc, level=level, page=trang, size=so_ban_ghi, era=state.era
    )
    items = [
        procedure_json(
            procedure, province_code=state.province_code, agency_id=state.receiver(procedure)
        )
        for procedure in found.items
    ]
    return PORTAL.ok(
        {"TongSo": found.total, "Trang": trang, "SoBanGhi": so_ban_ghi, "DanhSach": items}
    )


@router.post("/hoso", status_code=201, responses=_ERRORS)
async def file_dossier(
    filed: NopHoSo,
    state: StateDep,
    x_request_id: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """File a dossier once the citizen database confirms the applicant; status 1 (Mới đăng ký).

    The caller's `X-Request-ID` goes on to the citizen check, so the bus's audit log shows the
    check as part of the same request.
    """
    now = state.now()
    procedure = _procedure(filed.ma_tthc, state)
    try:
        cccd = parse_cccd(filed.dinh_danh[0].so_dinh_danh, today=to_vietnam_time(now).date())
    except InvalidCccd as error:  # its detail never repeats the number
        raise _invalid(f"DinhDanhCHS: {error.detail}") from None
    try:
        born = parse_ddmmyyyy(filed.ngay_sinh)
    except ValueError:
        raise _invalid("NgaySinhChuHoSo is not a dd/MM/yyyy date") from None
    try:
        attachments = [item.checked() for item in filed.tai_lieu]
    except ValueError as error:  # names the file and the rule, not the content
        raise _invalid(f"TaiLieuNop: {error}") from None
    await _verify_applicant(
        state, cccd=cccd.number, name=filed.chu_ho_so, born=born, request_id=x_request_id
    )
    commune = await state.applicants_commune(procedure, cccd.number, x_request_id)
    filing = Filing(
        procedure_code=procedure.code,
        agency_id=state.receiver(procedure, commune=commune),
        applicant_name=filed.chu_ho_so,
        applicant_birth_date=born,
        applicant_id_number=cccd.number,
        summary=filed.trich_yeu,
        email=filed.email,
        phone=filed.so_dien_thoai,
        form_data=filed.du_lieu_bieu_mau,
        attachments=attachments,
    )
    # The citizen check is made before this transaction opens: it takes no lock it need not.
    async with write_transaction(state.database.sessions) as session:
        store = DossierStore(session, state.instance)
        try:
            code = await store.allocate_code(filing.agency_id, to_vietnam_time(now).date())
        except DossierSequenceExhausted:
            raise EnvelopeError(503, "503", "DOSSIER_NUMBERS_EXHAUSTED") from None
        dossier = await store.file(filing, code=code, at=now)
        await _queue_sync(state, session, dossier, x_request_id)
    _synced_later(state)
    return PORTAL.ok(dossier_json(dossier, province_code=state.province_code), status=201)


@router.get("/hoso", responses={400: _ERRORS[400]})
async def list_dossiers(
    state: StateDep,
    so_dinh_danh: Annotated[str | None, Query(alias="soDinhDanh", pattern=r"^[0-9]{12}$")] = None,
    ma_don_vi: Annotated[str | None, Query(alias="maDonVi", pattern=ORGAN_ID)] = None,
    trang_thai: Annotated[int | None, Query(alias="trangThai", ge=1, le=10)] = None,
    trang: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    so_ban_ghi: Annotated[int, Query(alias="soBanGhi", ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> JSONResponse:
    """Dossiers newest first, optionally of one applicant, of one receiving agency
    (`maDonVi`, a mock addition) or in one `TrangThaiHoSo`."""
    async with state.database.sessions() as session:
        store = DossierStore(session, state.instance)
        found, total = await store.page(
            id_number=so_dinh_danh,
            agency_id=ma_don_vi,
            status=trang_thai,
            page=trang,
            size=so_ban_ghi,
        )
    items = [dossier_json(d, province_code=state.province_code, full=False) for d in found]
    return PORTAL.ok({"TongSo": total, "Trang": trang, "SoBanGhi": so_ban_ghi, "DanhSach": items})


@router.get("/hoso/{ma_ho_so}", responses={404: _ERRORS[404]})
async def get_dossier(ma_ho_so: str, state: StateDep) -> JSONResponse:
    """One dossier with its files (`TaiLieuNop`) and history (`TienTrinh`)."""
    async with state.database.sessions() as session:
        dossier = await DossierStore(session, state.instance).get(ma_ho_so)
    if dossier is None:
        raise _not_found("MaHoSo")
    return PORTAL.ok(dossier_json(dossier, province_code=state.province_code))


@router.post(
    "/hoso/{ma_ho_so}/tientrinh",
    responses={**_ERRORS, 409: {"description": 'error_code "409" INVALID_STATE'}},
)
async def record_step(
    ma_ho_so: str,
    step: XuLyHoSo,
    state: StateDep,
    x_request_id: Annotated[str | None, Header(max_length=128)] = None,
) -> JSONResponse:
    """Take one lifecycle step (`lifecycle.Action`) and append its `TienTrinh` entry.

    The dossier is read under a lock, so of two steps sent at once the second is checked
    against the first one's result: both cannot apply.
    """
    if step.hanh_dong not in {str(action) for action in Action}:  # before any lock
        raise UnknownAction(step.hanh_dong)
    async with write_transaction(state.database.sessions) as session:
        store = DossierStore(session, state.instance)
        dossier = await store.get(ma_ho_so, for_update=True)
        if dossier is None:
            raise _not_found("MaHoSo")
        record = transition(
            DossierStatus(dossier.status),
            step.hanh_dong,
            actor=step.nguoi_xu_ly,
            at=state.now(),
            note=step.noi_dung,
        )
        by = Step(step.nguoi_xu_ly, step.chuc_danh, step.phong_ban)
        processing_days = BY_CODE[dossier.procedure_code].processing_days
        await store.record(dossier, record, by, processing_days=processing_days)
        await _queue_sync(state, session, dossier, x_request_id)
    _synced_later(state)
    return PORTAL.ok(dossier_json(dossier, province_code=state.province_code))


@router.get("/dongbo", responses={400: _ERRORS[400]})
async def list_national_syncs(
    state: StateDep,
    trang_thai: Annotated[
        Literal["pending", "synced", "failed"] | None, Query(alias="trangThai")
    ] = None,
    trang: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    so_ban_ghi: Annotated[int, Query(alias="soBanGhi", ge=1, le=MAX_PAGE_SIZE)] = 20,
) -> JSONResponse:
    """The syncs to DVCQG in the OpenCPS dialect, newest first (mock addition): each change's
    state, failed attempts and the door's last `error_code` and message. Empty when the portal
    hands its syncs to the bus (they are the bus's outbox then)."""
    async with state.database.sessions() as session:
        rows, total = await page_of_syncs(
            session, instance=state.instance, state=trang_thai, page=trang, size=so_ban_ghi
        )
    items = [sync_json(row) for row in rows]
    return PORTAL.ok({"TongSo": total, "Trang": trang, "SoBanGhi": so_ban_ghi, "DanhSach": items})


async def _queue_sync(
    state: DvcState, session: AsyncSession, dossier: Dossier, request_id: str | None
) -> None:
    """Hand the change's sync to DVCQG over to the bus, or queue it for the OpenCPS dialect,
    in the change's transaction: the caller commits after this returns. A portal without a
    client on its LGSP syncs nothing."""
    if not state.bus.connected:
        return
    if state.national is not None:
        session.add(
            queued_sync(
                dossier,
                instance=state.instance,
                province_code=state.province_code,
                request_id=request_id or uuid4().hex,
                now=datetime.now(UTC),
            )
        )
        return
    try:
        await state.bus.hand_over(
            sync_call(dossier, province_code=state.province_code),
            request_id=request_id or uuid4().hex,
        )
    except BusUnavailable as error:
        status = error.status
        raise EnvelopeError(status, str(status), f"SYNC_UNAVAILABLE: {error.reason}") from None


def _synced_later(state: DvcState) -> None:
    """Once the change is committed, the OpenCPS loop sends its sync without waiting."""
    if state.national is not None:
        state.national.kick()


def _procedure(ma_tthc: str, state: DvcState) -> Procedure:
    """The national code (`1.001193`) or the province's form of it today, long
    (`….000.00.00.H01`) or short (`1.001193.H01`). A form under a level-1 code the 2025 merger
    closed names the code that succeeds it."""
    national = ".".join(ma_tthc.split(".", 2)[:2])
    procedure = BY_CODE.get(national)
    if procedure is None:
        raise _not_found("MaTTHC")
    today = state.today()
    letter = agencies_of(state.province_code, era=state.era, on=today)[0].letter_code
    if ma_tthc in procedure_codes_accepted(national, letter):
        return procedure
    closed = ma_tthc.rpartition(".")[2]
    if state.era == "2026" and closure_of(f"000.00.00.{closed}", today) is not None:
        raise EnvelopeError(
            404,
            RECORD_NOT_FOUND,
            f"RECORD_NOT_FOUND: MaTTHC: mã {closed} ({CLOSED[closed].province}) đã đóng từ "
            f"01/07/2025 (QĐ 09/2025/QĐ-TTg), dùng {letter}",
            data={"MaTTHCHienHanh": list(procedure_codes_accepted(national, letter)[1:])},
        )
    raise _not_found("MaTTHC")


async def _verify_applicant(
    state: DvcState, *, cccd: str, name: str, born: date, request_id: str | None
) -> None:
    try:
        result = await state.citizens.verify(
            cccd=cccd, full_name=name, date_of_birth=born, request_id=request_id
        )
    except CitizenCheckUnavailable as error:
        status = error.status
        message = f"CITIZEN_CHECK_UNAVAILABLE: {error.reason}"
        # CoSoDuLieu (mock addition): which register could not be asked, tinh or quoc_gia
        register = {"province": "tinh", "national": "quoc_gia"}[error.register]
        raise EnvelopeError(status, str(status), message, data={"CoSoDuLieu": register}) from None
    if not result.match:
        fields = [_MISMATCH[field] for field in result.mismatched_fields]
        raise EnvelopeError(
            422,
            DATA_INCORRECT,
            f"DATA_INCORRECT: {', '.join(fields) or 'ChuHoSo'} không khớp CSDL dân cư",
            data={"TruongKhongKhop": fields},
        )


def create_app(
    config: SystemConfig,
    *,
    bus_transport: httpx.AsyncBaseTransport | None = None,
    now: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The portal of `config.province_code`; `bus_transport` reaches its LGSP (tests, in-process).

    `now` is the clock for filing times, deadlines and token expiry; tests pass a fixed one.
    """
    province_code = config.province_code
    if province_code is None:
        raise ValueError(f"instance {config.instance}: the dvc mock needs a province_code")
    if province_code not in PROVINCES:
        raise ValueError(f"no agencies for province {province_code!r}")
    clock = now or now_in_vietnam

    async def open_state(database: MockDatabase, stack: AsyncExitStack) -> DvcState:
        bus = await stack.enter_async_context(connect(config, bus_transport, now=clock))
        national = None
        if config.bus_dialect == "opencps" and bus.connected:
            national = await stack.enter_async_context(
                running_syncer(config, bus, database, province_code=province_code)
            )
        return DvcState(
            config.instance,
            province_code,
            database,
            CitizenCheck(bus),
            bus,
            clock,
            national,
            config.era,
        )

    async def seed(session: AsyncSession) -> int:
        return await seed_dossiers(
            DossierStore(session, config.instance),
            province_code=province_code,
            seed=config.seed,
            population=config.population,
            era=config.era,
        )

    app = stateful_app(
        config,
        title=f"Mock public-service portal ({config.province_name or province_code})",
        description="DVCQG-style JSON in the NGSP envelope {error_code, message, data}.",
        metadata=DvcBase.metadata,
        state_key=STATE_KEY,
        open_state=open_state,
        seed=seed,
    )
    install_envelope_handlers(app, PORTAL, _TRANSLATIONS)
    app.include_router(router)
    return app


def _unknown_action(_exc: UnknownAction) -> EnvelopeError:
    actions = [str(action) for action in Action]
    return EnvelopeError(
        422, DATA_INCORRECT, "DATA_INCORRECT: HanhDong", data={"DanhSachHanhDong": actions}
    )


def _illegal_transition(exc: IllegalTransition) -> EnvelopeError:
    return EnvelopeError(
        409,
        "409",
        f"INVALID_STATE: {exc}",
        data={"TrangThaiHoSo": str(int(exc.current)), "HanhDongHopLe": list(exc.allowed_actions)},
    )


def _invalid_request(exc: RequestValidationError) -> EnvelopeError:
    """DATA_TYPE_INVALID naming each field by its path in the body or query."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}"
        for error in exc.errors()
        if error.get("loc")
    )
    return _invalid(problems)


# Every error in the envelope, router 404/405 included (STYLE.md Part 2, trap 4).
_TRANSLATIONS = (
    Translation(UnknownAction, _unknown_action),
    Translation(IllegalTransition, _illegal_transition),
    Translation(RequestValidationError, _invalid_request),
    router_errors(),
)
