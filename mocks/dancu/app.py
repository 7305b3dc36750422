"""A provincial citizen database as a system of its own, answering in its legacy JSON.

Field names follow the national citizen database's JSON (`SoDinhDanh`, `HoVaTen`,
`NgayThangNamSinh` as dd/MM/yyyy, `ThuongTru{MaTinhThanh, …}`; DOMAIN.md §5.2, §8.5), and every
answer, errors included, is the NGSP envelope `{error_code, message, data}` with the codes of
the Quảng Bình NGSP guide (DOMAIN.md §2.1, §8.1): "0" success, "201" RECORD_NOT_FOUND, "302"
DATA_TYPE_INVALID. Integrators meet this shape behind real LGSPs; the gateway's adapter turns it
into canonical JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from formats.cccd import Cccd, InvalidCccd, parse_cccd
from formats.dates import parse_ddmmyyyy
from mocks.config import SystemConfig
from mocks.dancu.seed import CitizenRecord
from mocks.dancu.store import CitizenStore

# Vietnam keeps UTC+7 all year (no daylight saving time), so a fixed offset is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
MAX_PAGE_SIZE = 100

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": 'error_code "302" DATA_TYPE_INVALID'},
    404: {"description": 'error_code "201" RECORD_NOT_FOUND'},
}


def _today_in_vietnam() -> date:
    return datetime.now(VIETNAM_TIME).date()


class _EnvelopeError(Exception):
    """An error answer: HTTP status plus the envelope's `error_code` and `message`."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


def _record_not_found() -> _EnvelopeError:
    return _EnvelopeError(404, "201", "RECORD_NOT_FOUND")


def _data_type_invalid(detail: str) -> _EnvelopeError:
    return _EnvelopeError(400, "302", f"DATA_TYPE_INVALID: {detail}")


class XacThucRequest(BaseModel):
    """`XacThucThongTinCongDanRequest` (DOMAIN.md §5.1) as JSON, with the date of birth that
    `XacMinhThongTinNhanThan` adds; other fields of the real request are accepted and ignored."""

    model_config = ConfigDict(strict=True)

    so_dinh_danh: str = Field(alias="SoDinhDanh", description="The 12-digit CCCD number.")
    ho_va_ten: str = Field(alias="HoVaTen", max_length=200, description="Full name as claimed.")
    ngay_thang_nam_sinh: str = Field(alias="NgayThangNamSinh", description="dd/MM/yyyy.")
    ma_yeu_cau: str | None = Field(
        default=None,
        alias="MaYeuCau",
        max_length=100,
        description="The caller's request id, kept for its audit (DOMAIN.md §8.5).",
    )


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"error_code": "0", "message": "OK", "data": data})


def create_app(config: SystemConfig, *, today: Callable[[], date] = _today_in_vietnam) -> FastAPI:
    """The mock for `config.province_code`, its citizens generated from `config.seed`.

    `today` decides which birth years lie in the future (CCCD check); tests pass a fixed day.
    """
    if config.province_code is None:
        raise ValueError(f"instance {config.instance}: the dancu mock needs a province_code")
    store = CitizenStore.from_seed(
        province_code=config.province_code, seed=config.seed, count=config.population
    )
    app = FastAPI(
        title=f"Mock citizen database ({config.province_name or config.province_code})",
        description="Legacy JSON in the NGSP envelope {error_code, message, data}.",
    )
    _install_error_handlers(app)

    def check_number(so_dinh_danh: str) -> Cccd:
        try:
            return parse_cccd(so_dinh_danh, today=today())
        except InvalidCccd as error:
            raise _data_type_invalid(error.detail) from None

    @app.post("/api/congdan/xac-thuc", responses={400: _ERROR_RESPONSES[400]})
    async def verify_citizen(claim: XacThucRequest) -> JSONResponse:
        """XacThucThongTinCongDan: whether a citizen with exactly these details is recorded.

        `TonTai` is the real contract's answer; `TruongKhongKhop` (a mock addition) names the
        claimed fields that differ, never the recorded values. An unknown number gets the same
        answer as a recorded one whose name and date both differ, so that a caller cannot use
        this endpoint to find out which numbers exist. Names are compared after NFC, case
        folding and collapsing spaces; diacritics count.
        """
        cccd = check_number(claim.so_dinh_danh)
        try:
            born = parse_ddmmyyyy(claim.ngay_thang_nam_sinh)
        except ValueError:
            raise _data_type_invalid("NgayThangNamSinh is not a dd/MM/yyyy date") from None
        mismatched = store.mismatched_fields(
            cccd, ho_va_ten=claim.ho_va_ten, ngay_thang_nam_sinh=born
        )
        return _ok({"TonTai": not mismatched, "TruongKhongKhop": list(mismatched)})

    @app.get("/api/congdan/{so_dinh_danh}", responses=_ERROR_RESPONSES)
    async def get_citizen(so_dinh_danh: str) -> JSONResponse:
        """One citizen by the 12-digit personal identification number."""
        check_number(so_dinh_danh)
        citizen = store.get(so_dinh_danh)
        if citizen is None:
            raise _record_not_found()
        return _ok(_citizen_json(citizen, store))

    @app.get("/api/congdan/{so_dinh_danh}/ho", responses=_ERROR_RESPONSES)
    async def get_citizen_household(so_dinh_danh: str) -> JSONResponse:
        """The household the citizen belongs to, as `/api/ho/{ma_ho}` serves it."""
        check_number(so_dinh_danh)
        members = store.household_of(so_dinh_danh)
        if not members:
            raise _record_not_found()
        return _ok(_household_json(members[0].ma_ho, members, store))

    @app.get("/api/congdan", responses=_ERROR_RESPONSES)
    async def list_citizens(
        trang: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
        so_ban_ghi: Annotated[
            int, Query(alias="soBanGhi", ge=1, le=MAX_PAGE_SIZE, description="Page size.")
        ] = 20,
    ) -> JSONResponse:
        """A page of citizens in a stable order; past the last page, an empty list."""
        page = store.page(number=trang, size=so_ban_ghi)
        return _ok(
            {
                "TongSo": len(store),
                "Trang": trang,
                "SoBanGhi": so_ban_ghi,
                "DanhSach": [_citizen_json(citizen, store) for citizen in page],
            }
        )

    @app.get("/api/ho/{ma_ho}", responses=_ERROR_RESPONSES)
    async def get_household(ma_ho: str) -> JSONResponse:
        """The members of one household, head first."""
        members = store.household(ma_ho)
        if not members:
            raise _record_not_found()
        return _ok(_household_json(ma_ho, members, store))

    return app


def _citizen_json(citizen: CitizenRecord, store: CitizenStore) -> dict[str, Any]:
    address = citizen.thuong_tru
    head = store.get(citizen.so_dinh_danh_chu_ho)
    return {
        "SoDinhDanh": citizen.so_dinh_danh,
        "HoVaTen": citizen.ho_va_ten,
        "NgayThangNamSinh": citizen.ngay_thang_nam_sinh,
        "GioiTinh": citizen.gioi_tinh,
        "DanToc": citizen.dan_toc,
        "QuocTich": citizen.quoc_tich,
        "ThuongTru": {
            "MaTinhThanh": address.ma_tinh_thanh,
            "TenTinhThanh": address.ten_tinh_thanh,
            "MaQuanHuyen": address.ma_quan_huyen,
            "TenQuanHuyen": address.ten_quan_huyen,
            "MaPhuongXa": address.ma_phuong_xa,
            "TenPhuongXa": address.ten_phuong_xa,
            "ChiTiet": address.chi_tiet,
            "QuocGia": address.quoc_gia,
        },
        # ChuHo{QuanHe, SoDinhDanh, HoVaTen}: QuanHe is this citizen's relation to the head.
        "ChuHo": {
            "QuanHe": citizen.quan_he_voi_chu_ho,
            "SoDinhDanh": citizen.so_dinh_danh_chu_ho,
            "HoVaTen": head.ho_va_ten if head is not None else None,
        },
        "MaHo": citizen.ma_ho,
    }


def _household_json(
    ma_ho: str, members: Sequence[CitizenRecord], store: CitizenStore
) -> dict[str, Any]:
    return {
        "MaHo": ma_ho,
        "SoThanhVien": len(members),
        "ThanhVien": [_citizen_json(member, store) for member in members],
    }


def _install_error_handlers(app: FastAPI) -> None:
    """Every error in the envelope, the router's 404 and 405 included (STYLE.md Part 2, trap 4)."""

    async def handle(_request: Request, exc: Exception) -> JSONResponse:
        headers: dict[str, str] | None = None
        if isinstance(exc, _EnvelopeError):
            status, error_code, message = exc.status, exc.error_code, exc.message
        elif isinstance(exc, RequestValidationError):
            problems = "; ".join(
                f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors() if error.get("loc")
            )
            status, error_code, message = 400, "302", f"DATA_TYPE_INVALID: {problems}"
        elif isinstance(exc, StarletteHTTPException):
            # Not in the NGSP code list: a mock addition, like its 502/504 (DOMAIN.md §8.1).
            # The path is not echoed, as it may hold a citizen's number.
            name = str(exc.detail).upper().replace(" ", "_")  # "Not Found" -> NOT_FOUND
            status, error_code, message = exc.status_code, str(exc.status_code), name
            headers = dict(exc.headers or {})  # e.g. Allow on a 405
        else:  # pragma: no cover - only the classes registered below reach this handler
            raise exc
        return JSONResponse(
            {"error_code": error_code, "message": message, "data": None},
            status_code=status,
            headers=headers,
        )

    for exception_class in (_EnvelopeError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exception_class, handle)
