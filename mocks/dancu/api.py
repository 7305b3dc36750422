"""The citizen database's legacy JSON API, as every citizen database answers it.

A provincial database (`mocks.dancu.app`) and the national one (`mocks.csdlqgdc.app`) answer with
the same fields (`SoDinhDanh`, `HoVaTen`, `NgayThangNamSinh` as dd/MM/yyyy, …; DOMAIN.md §5.2,
§8.5) in the same NGSP envelope with the same codes (§8.1): "0" success, "201" RECORD_NOT_FOUND,
"302" DATA_TYPE_INVALID. What they share is here; each app keeps its routes and whom it knows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from formats.cccd import Cccd, InvalidCccd, check_cccd, parse_cccd
from formats.dates import VIETNAM_TIME, DayClock
from formats.ngsp import DATA_TYPE_INVALID, RECORD_NOT_FOUND
from mocks.dancu.seed import Address, CitizenRecord
from mocks.dancu.store import CitizenStore
from mocks.directory.admin_units import ADMIN_UNITS, Era
from mocks.envelope import (
    EnvelopeError,
    NgspEnvelope,
    Translation,
    install_envelope_handlers,
    router_errors,
)

MAX_PAGE_SIZE = 100
ANSWERS = NgspEnvelope()
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": 'error_code "302" DATA_TYPE_INVALID'},
    404: {"description": 'error_code "201" RECORD_NOT_FOUND'},
}


today_in_vietnam = DayClock(VIETNAM_TIME)
"""The system's today (CCCD birth years), asked on every lookup."""


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


def record_not_found() -> EnvelopeError:
    return EnvelopeError(404, RECORD_NOT_FOUND, "RECORD_NOT_FOUND")


def data_type_invalid(detail: str) -> EnvelopeError:
    return EnvelopeError(400, DATA_TYPE_INVALID, f"DATA_TYPE_INVALID: {detail}")


def check_number(so_dinh_danh: str, *, today: date) -> Cccd:
    """The number's parts, or DATA_TYPE_INVALID with the rule it breaks (never the number)."""
    try:
        return parse_cccd(so_dinh_danh, today=today)
    except InvalidCccd as error:
        raise data_type_invalid(error.detail) from None


def refuse_malformed(so_dinh_danh: str, *, today: date) -> int:
    """`check_number` for a lookup, which needs only the birth year: no parts are built."""
    try:
        return check_cccd(so_dinh_danh, today=today)
    except InvalidCccd as error:
        raise data_type_invalid(error.detail) from None


def address_json(address: Address, *, era: Era) -> dict[str, Any]:
    """An address as the records were made (2024), or in today's units (2026): province and
    ward or commune of today, no district, and the units of the record in `legacy` (a mock
    addition; FIDELITY-2026.md §1). Every seeded record was made before 1 July 2025."""
    made = {
        "MaTinhThanh": address.ma_tinh_thanh,
        "TenTinhThanh": address.ten_tinh_thanh,
        "MaQuanHuyen": address.ma_quan_huyen,
        "TenQuanHuyen": address.ten_quan_huyen,
        "MaPhuongXa": address.ma_phuong_xa,
        "TenPhuongXa": address.ten_phuong_xa,
    }
    if era == "2024":
        made["ChiTiet"] = address.chi_tiet
        made["QuocGia"] = address.quoc_gia
        return made
    (province, *_) = ADMIN_UNITS.successors(address.ma_tinh_thanh)
    (ward, *_) = ADMIN_UNITS.successors(address.ma_phuong_xa)  # the default successor first
    return {
        "MaTinhThanh": province.code,
        "TenTinhThanh": province.name,
        "MaPhuongXa": ward.code,
        "TenPhuongXa": ward.name,
        "ChiTiet": address.chi_tiet,
        "QuocGia": address.quoc_gia,
        "legacy": made,
    }


def birth_registration_json(so_dinh_danh: str) -> dict[str, Any] | None:
    """Era 2026: the province of the birth registration the CCCD prefix keeps (it does not
    change), and the province of today that succeeds it (a mock addition)."""
    code = so_dinh_danh[1:3]
    old = ADMIN_UNITS.unit("2024", code)
    today = ADMIN_UNITS.successors(code)
    if old is None or not today:
        return None
    return {
        "MaTinhCu": old.code,
        "TenTinhCu": old.name,
        "MaTinhHienNay": today[0].code,
        "TenTinhHienNay": today[0].name,
    }


def citizen_json(citizen: CitizenRecord, store: CitizenStore, *, era: Era) -> dict[str, Any]:
    head = store.get(citizen.so_dinh_danh_chu_ho)
    born = birth_registration_json(citizen.so_dinh_danh) if era == "2026" else None
    record = {
        "SoDinhDanh": citizen.so_dinh_danh,
        "HoVaTen": citizen.ho_va_ten,
        "NgayThangNamSinh": citizen.ngay_thang_nam_sinh,
        "GioiTinh": citizen.gioi_tinh,
        "DanToc": citizen.dan_toc,
        "QuocTich": citizen.quoc_tich,
        "ThuongTru": address_json(citizen.thuong_tru, era=era),
        # ChuHo{QuanHe, SoDinhDanh, HoVaTen}: QuanHe is this citizen's relation to the head.
        "ChuHo": {
            "QuanHe": citizen.quan_he_voi_chu_ho,
            "SoDinhDanh": citizen.so_dinh_danh_chu_ho,
            "HoVaTen": head.ho_va_ten if head is not None else None,
        },
        "MaHo": citizen.ma_ho,
    }
    if born is not None:
        record["NoiDangKyKhaiSinh"] = born
    return record


def household_json(
    ma_ho: str, members: Sequence[CitizenRecord], store: CitizenStore, *, era: Era
) -> dict[str, Any]:
    return {
        "MaHo": ma_ho,
        "SoThanhVien": len(members),
        "ThanhVien": [citizen_json(member, store, era=era) for member in members],
    }


def install_error_handlers(app: FastAPI) -> None:
    """Every error in the envelope; a malformed request is DATA_TYPE_INVALID naming its fields.

    The router's 404 and 405 are not in the NGSP code list: a mock addition, like its 502/504
    (DOMAIN.md §8.1).
    """
    install_envelope_handlers(
        app, ANSWERS, [Translation(RequestValidationError, _invalid_request), router_errors()]
    )


def _invalid_request(exc: RequestValidationError) -> EnvelopeError:
    problems = "; ".join(
        f"{error['loc'][-1]}: {error['msg']}" for error in exc.errors() if error.get("loc")
    )
    return data_type_invalid(problems)
