"""Reading a DVC portal's answers (`HoSo`, `TienTrinh`, `ThuTuc`) into canonical JSON.

Every field is checked as it is read; anything unexpected is `DvcAnswerInvalid` naming the
field, never its value. Times are `yyyyMMddHHmmss` in Vietnam time (DOMAIN.md §8.2, UTC+7 all
year) and come out as ISO 8601 with `+07:00`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from adapters._common import FieldReader
from adapters.base import AnswerInvalid
from formats.dates import parse_dvcqg_time

# TrangThaiHoSo (DOMAIN.md §4.1) → canonical name; the codes are DVCQG's, the names ours.
STATUS_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "new",  # Mới đăng ký
        2: "received",  # Được tiếp nhận
        3: "refused",  # Không được tiếp nhận
        4: "processing",  # Đang xử lý
        5: "supplement_requested",  # Yêu cầu bổ sung giấy tờ
        6: "financial_obligation",  # Yêu cầu thực hiện nghĩa vụ tài chính
        7: "withdrawn",  # Công dân yêu cầu rút hồ sơ
        8: "stopped",  # Dừng xử lý
        9: "completed",  # Đã xử lý xong
        10: "result_returned",  # Đã trả kết quả
    }
)
_LEVELS = {"tinh": "province", "huyen": "district", "xa": "commune"}  # CapThucHien
_ONLINE = {"toan_trinh": "full", "mot_phan": "partial"}  # MucDo


class DvcAnswerInvalid(AnswerInvalid):
    code = "DVC_INVALID_RESPONSE"
    title = "The public-service portal gave an answer that could not be read"


@dataclass(frozen=True)
class PortalFields(FieldReader):
    """The readers of a DVCQG-style `HoSo`, times `yyyyMMddHHmmss` among them."""

    def time(self, record: Mapping[str, Any], key: str, *, optional: bool = False) -> str | None:
        value = record.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.invalid(f"{self.owner} {key} is missing or not a string.")
        try:
            return parse_dvcqg_time(value).isoformat()
        except ValueError:
            raise self.invalid(f"{self.owner} {key} is not a yyyyMMddHHmmss time.") from None

    def dossier_times(self, item: Mapping[str, Any]) -> dict[str, str | None]:
        """A `HoSo`'s dates, under the canonical keys and in the order both readers publish."""
        return {
            "submitted_at": self.time(item, "NgayNopHoSo"),
            "received_at": self.time(item, "NgayTiepNhan", optional=True),
            "due_at": self.time(item, "NgayHenTra", optional=True),
            "supplement_requested_at": self.time(item, "NgayYeuCauBoSung", optional=True),
            "completed_at": self.time(item, "NgayKetThucXuLy", optional=True),
            "returned_at": self.time(item, "NgayTra", optional=True),
            "refused_at": self.time(item, "NgayTuChoi", optional=True),
        }


_FIELDS = PortalFields("The portal's", DvcAnswerInvalid)
_mapping = _FIELDS.mapping
_text = _FIELDS.text
_count = _FIELDS.count
_time = _FIELDS.time


def status_of(code: int) -> dict[str, Any]:
    return {"code": code, "name": STATUS_NAMES[code]}


def procedure_to_canonical(record: Any) -> dict[str, Any]:
    """One `ThuTuc` of the portal's catalogue."""
    item = _mapping(record, "procedure")
    agency = _mapping(item.get("CoQuanThucHien"), "CoQuanThucHien")
    return {
        "code": _text(item, "MaTTHC"),
        "national_code": _text(item, "MaTTHCQuocGia"),
        "name": _text(item, "TenTTHC"),
        "field": {"code": _text(item, "MaLinhVuc"), "name": _text(item, "TenLinhVuc")},
        "level": _choice(item, "CapThucHien", _LEVELS),
        "online_service": _choice(item, "MucDo", _ONLINE),
        "processing_days": _count(item, "ThoiHanGiaiQuyet"),
        "fee_vnd": _count(item, "LePhi"),
        "agency": {"id": _text(agency, "MaDinhDanh"), "name": _text(agency, "TenCoQuan")},
        "assigned": _assigned(item.get("MaGiaDinh")),
    }


_ASSIGNED = {
    "MaTTHC": "code",
    "MaTTHCQuocGia": "national_code",
    "MaLinhVuc": "field.code",
    "CoQuanThucHien.MaDinhDanh": "agency.id",
}


def _assigned(names: Any) -> list[str]:
    """The portal's `MaGiaDinh` (the fields whose codes it assigned) as canonical paths; a
    portal that does not say (a real one) assigns none."""
    if names is None:
        return []
    if not isinstance(names, list) or not all(name in _ASSIGNED for name in names):
        raise DvcAnswerInvalid("The procedure's MaGiaDinh is not a list of its code fields.")
    return [_ASSIGNED[name] for name in names]


def dossier_to_canonical(record: Any, *, full: bool = True) -> dict[str, Any]:
    """One `HoSo`; `full` also reads its files (`TaiLieuNop`) and history (`TienTrinh`)."""
    item = _mapping(record, "dossier")
    ids = item.get("DinhDanhCHS")
    if not isinstance(ids, list) or len(ids) != 1:
        raise DvcAnswerInvalid("The dossier's DinhDanhCHS is not one identification.")
    agency = _mapping(item.get("DonViXuLy"), "DonViXuLy")
    body: dict[str, Any] = {
        "code": _text(item, "MaHoSo"),
        "procedure_code": _text(item, "MaTTHC"),
        "procedure_name": _text(item, "TenTTHC"),
        "field": {"code": _text(item, "MaLinhVuc"), "name": _text(item, "TenLinhVuc")},
        "status": status_of(_status(item, "TrangThaiHoSo")),
        "allowed_actions": text_list(item.get("HanhDongHopLe"), "HanhDongHopLe"),
        "applicant": {
            "cccd": _text(_mapping(ids[0], "DinhDanhCHS"), "SoDinhDanh"),
            "full_name": _text(item, "ChuHoSo"),
        },
        "summary": _text(item, "TrichYeuHoSo"),
        "contact": {
            "email": _FIELDS.optional_text(item, "Email"),
            "phone": _FIELDS.optional_text(item, "SoDienThoai"),
        },
        "form_data": _mapping(item.get("DuLieuBieuMau", {}), "DuLieuBieuMau"),
        "agency": {"id": _text(agency, "MaDinhDanh"), "name": _text(agency, "TenCoQuan")},
        **_FIELDS.dossier_times(item),
    }
    if full:
        body["attachments"] = [_attachment(entry) for entry in _list(item, "TaiLieuNop")]
        body["history"] = [_progress(entry) for entry in _list(item, "TienTrinh")]
    return body


def read_page(data: Any, read_item: Any) -> dict[str, Any]:
    """`{TongSo, Trang, SoBanGhi, DanhSach}` as `{items, page, size, total}`."""
    page = _mapping(data, "page")
    return {
        "items": [read_item(entry) for entry in _list(page, "DanhSach")],
        "page": _count(page, "Trang"),
        "size": _count(page, "SoBanGhi"),
        "total": _count(page, "TongSo"),
    }


def text_list(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
        raise DvcAnswerInvalid(f"The portal's {name} is not a list of strings.")
    return list(value)


def _attachment(record: Any) -> dict[str, Any]:
    item = _mapping(record, "TaiLieuNop")
    return {
        "id": _count(item, "TepDinhKemId"),
        "name": _text(item, "TenTepDinhKem"),
        "content_type": _text(item, "LoaiTep"),
        "size_bytes": _count(item, "KichThuoc"),
        "sha256": _text(item, "MaBamSHA256"),
    }


def _progress(record: Any) -> dict[str, Any]:
    """One `TienTrinh` entry (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3)."""
    item = _mapping(record, "TienTrinh")
    return {
        "action": _text(item, "HanhDong"),
        "status": status_of(_status(item, "TrangThai")),
        "actor": _text(item, "NguoiXuLy"),
        "position": _text(item, "ChucDanh"),
        "department": _text(item, "PhongBanXuLy"),
        "note": _text(item, "NoiDungXuLy"),
        "at": _time(item, "ThoiDiemXuLy"),
        "started_at": _time(item, "NgayBatDau"),
        "due_at": _time(item, "NgayKetThucTheoQuyDinh", optional=True),
    }


def _status(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if not isinstance(value, str) or not value.isdigit() or int(value) not in STATUS_NAMES:
        raise DvcAnswerInvalid(f"The portal's {key} is not a TrangThaiHoSo code 1-10.")
    return int(value)


def _list(record: Mapping[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if not isinstance(value, list):
        raise DvcAnswerInvalid(f"The portal's {key} is not a list.")
    return value


def _choice(record: Mapping[str, Any], key: str, names: Mapping[str, str]) -> str:
    value = record.get(key)
    if not isinstance(value, str) or value not in names:
        raise DvcAnswerInvalid(f"The portal's {key} is not one of {', '.join(names)}.")
    return names[value]
