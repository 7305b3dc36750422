"""DVCQG's own JSON (DOMAIN.md §2.3, §4.2, §4.3), written from canonical values and read back.

Writing: a canonical snapshot becomes a `DongBoHoSoMC` `HoSo`, a progress entry a
`CapNhatTienDoHoSoMC` entry, dates `yyyyMMddHHmmss` in Vietnam time, codes as strings. Reading:
every field is checked as it is read; anything unexpected is `DvcqgAnswerInvalid` naming the
field, never its value. Three fields are mock additions, marked where they are written: `MaTinh`
(the province, which the real portal knows from the caller's session), `ThuTu` (the entry's
position in the history, by which the mock orders entries and keeps each once) and
`NgayDongBo` (when the national portal last changed the dossier).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from adapters._dvc_answers import PortalFields, status_of
from adapters._dvcqg_contracts import DossierSnapshot, ProgressEntry
from adapters.base import AnswerInvalid
from formats.codes import ID_TYPES
from formats.dates import format_dvcqg_time
from formats.dvcqg import progress_record

# KenhThucHien: 1 direct, 2 online, 3 postal (INFERENCE, as the `dvc` mock writes it).
CHANNELS: Mapping[str, str] = MappingProxyType({"direct": "1", "online": "2", "postal": "3"})
# LoaiDoiTuong (DOMAIN.md §4.2, the Thanh Hóa client's values).
APPLICANT_KINDS: Mapping[str, str] = MappingProxyType(
    {"citizen": "1", "business": "2", "agency": "3", "organisation": "4"}
)
_KEEP_HEAD, _KEEP_TAIL = 3, 2  # as lgsp/masking.py keeps them in logs


class DvcqgAnswerInvalid(AnswerInvalid):
    code = "DVCQG_INVALID_RESPONSE"
    title = "The national public-service portal gave an answer that could not be read"


_FIELDS = PortalFields("The national portal's", DvcqgAnswerInvalid)
mapping = _FIELDS.mapping
text = _FIELDS.text
count = _FIELDS.count
_optional = _FIELDS.optional_text
_time = _FIELDS.time


def snapshot_to_native(
    dossier: DossierSnapshot, *, province_code: str, step: int
) -> dict[str, Any]:
    """A `HoSo` of `DongBoHoSoMC`, without its `TienTrinh`."""
    applicant = dossier.applicant
    identification = applicant.identification
    ids = (
        [{"LoaiDinhDanh": ID_TYPES[identification.type], "SoDinhDanh": identification.number}]
        if identification is not None
        else []
    )
    field = dossier.field
    return {
        "MaHoSo": dossier.code,
        "MaTTHC": dossier.procedure.code,
        "TenTTHC": dossier.procedure.name,
        "MaLinhVuc": field.code if field is not None else None,
        "TenLinhVuc": field.name if field is not None else None,
        "KenhThucHien": CHANNELS[dossier.channel],
        "ChuHoSo": applicant.full_name,
        "LoaiDoiTuong": APPLICANT_KINDS[applicant.kind],
        "SoGiayToChuHoSo": identification.number if identification is not None else None,
        "DinhDanhCHS": ids,
        "TrichYeuHoSo": dossier.summary,
        "NgayNopHoSo": format_dvcqg_time(dossier.submitted_at),
        "NgayTiepNhan": format_dvcqg_time(dossier.received_at),
        "NgayHenTra": format_dvcqg_time(dossier.due_at),
        "NgayYeuCauBoSung": format_dvcqg_time(dossier.supplement_requested_at),
        "NgayKetThucXuLy": format_dvcqg_time(dossier.completed_at),
        "NgayTra": format_dvcqg_time(dossier.returned_at),
        "NgayTuChoi": format_dvcqg_time(dossier.refused_at),
        "TrangThaiHoSo": str(dossier.status),
        "DonViXuLy": {"MaDinhDanh": dossier.agency.id, "TenCoQuan": dossier.agency.name},
        "MaTinh": province_code,  # mock addition
        "ThuTu": step,  # mock addition: the step this snapshot reflects
    }


def progress_to_native(code: str, step: int, entry: ProgressEntry) -> dict[str, Any]:
    """One `CapNhatTienDoHoSoMC` entry (DOMAIN.md §4.3), with the step it is (`ThuTu`)."""
    return {**progress_record(code, entry, title=entry.position), "ThuTu": step}  # mock addition


def mask_id_number(number: str) -> str:
    """`091087000123` as `091*******23`: enough to tell records apart, not to identify."""
    hidden = max(len(number) - _KEEP_HEAD - _KEEP_TAIL, 0)
    return number[:_KEEP_HEAD] + "*" * hidden + number[len(number) - _KEEP_TAIL :]


def dossier_to_canonical(record: Any, *, full: bool = True) -> dict[str, Any]:
    """A national `HoSo` (`TraCuuHoSo`, `LayDanhSachHoSo`); `full` also reads `TienTrinh`."""
    item = mapping(record, "HoSo")
    agency = mapping(item.get("DonViXuLy"), "DonViXuLy")
    field_code, field_name = _optional(item, "MaLinhVuc"), _optional(item, "TenLinhVuc")
    if (field_code is None) != (field_name is None):
        raise DvcqgAnswerInvalid("The national portal's MaLinhVuc and TenLinhVuc disagree.")
    body: dict[str, Any] = {
        "code": text(item, "MaHoSo"),
        "province_code": text(item, "MaTinh"),
        "step": count(item, "ThuTu", low=1),
        "status": status_of(_status(item, "TrangThaiHoSo")),
        "procedure": {"code": text(item, "MaTTHC"), "name": text(item, "TenTTHC")},
        "field": None if field_code is None else {"code": field_code, "name": field_name},
        "agency": {"id": text(agency, "MaDinhDanh"), "name": text(agency, "TenCoQuan")},
        "channel": _reverse(item, "KenhThucHien", CHANNELS),
        "applicant": _applicant(item),
        "summary": text(item, "TrichYeuHoSo"),
        **_FIELDS.dossier_times(item),
        "synced_at": _time(item, "NgayDongBo"),
    }
    if full:
        entries = item.get("TienTrinh")
        if not isinstance(entries, list):
            raise DvcqgAnswerInvalid("The national portal's TienTrinh is not a list.")
        body["history"] = [_progress(entry) for entry in entries]
    return body


def _applicant(item: Mapping[str, Any]) -> dict[str, Any]:
    ids = item.get("DinhDanhCHS")
    if not isinstance(ids, list) or len(ids) > 1:
        raise DvcqgAnswerInvalid("The national portal's DinhDanhCHS is not one identification.")
    identification = None
    if ids:
        entry = mapping(ids[0], "DinhDanhCHS")
        identification = {
            "type": _reverse(entry, "LoaiDinhDanh", ID_TYPES),
            "number_masked": mask_id_number(text(entry, "SoDinhDanh")),
        }
    return {
        "kind": _reverse(item, "LoaiDoiTuong", APPLICANT_KINDS),
        "full_name": text(item, "ChuHoSo"),
        "identification": identification,
    }


def _progress(record: Any) -> dict[str, Any]:
    item = mapping(record, "TienTrinh")
    return {
        "step": count(item, "ThuTu", low=1),
        "status": status_of(_status(item, "TrangThai")),
        "action": _optional(item, "HanhDong"),
        "actor": text(item, "NguoiXuLy"),
        "position": text(item, "ChucDanh"),
        "department": text(item, "PhongBanXuLy"),
        "note": text(item, "NoiDungXuLy"),
        "at": _time(item, "ThoiDiemXuLy"),
        "started_at": _time(item, "NgayBatDau", optional=True),
        "due_at": _time(item, "NgayKetThucTheoQuyDinh", optional=True),
    }


def _status(record: Mapping[str, Any], key: str) -> int:
    value = record.get(key)
    if not isinstance(value, str) or value not in {str(code) for code in range(1, 11)}:
        raise DvcqgAnswerInvalid(f"The national portal's {key} is not a TrangThaiHoSo 1-10.")
    return int(value)


def _reverse(record: Mapping[str, Any], key: str, names: Mapping[str, str]) -> str:
    value = record.get(key)
    for name, code in names.items():
        if value == code:
            return name
    raise DvcqgAnswerInvalid(
        f"The national portal's {key} is not one of {', '.join(names.values())}."
    )
