"""The DVC mock's own JSON: requests it accepts and the `HoSo`, `TienTrinh` and `ThuTuc` it serves.

Field names are those of the DVCQG payloads (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`, DOMAIN.md
§4.2, §4.3): dates `yyyyMMddHHmmss` in Vietnam time, `TrangThaiHoSo` as a string code (§4.1).
Fields marked "mock addition" have no counterpart there.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from formats.dates import format_dvcqg_time
from formats.dvcqg import progress_record
from mocks.directory.agencies import SOURCED_LETTER_CODES, AgencyLevel, find_agency
from mocks.dvc.lifecycle import DossierStatus, allowed_actions
from mocks.dvc.models import Dossier, ProgressEntry
from mocks.dvc.procedures import BY_CODE, Procedure, procedure_code_under
from mocks.dvc.store import NewAttachment

# CapThucHien and MucDo: the mock's own spellings of the procedure's level and online service.
LEVELS: dict[AgencyLevel, str] = {"province": "tinh", "district": "huyen", "commune": "xa"}
ONLINE_SERVICES = {"full": "toan_trinh", "partial": "mot_phan"}

# The portal's bounds on what one filing may cost it. TrichYeuHoSo: real clients cut the summary
# near 1,000 characters (the Thanh Hóa client, DOMAIN.md §4.2); the rest are this portal's.
MAX_SUMMARY_LENGTH = 1000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
MAX_FORM_DEPTH = 5  # objects and lists alike; `{"a": 1}` is 1 deep
MAX_FORM_KEYS = 50  # counted at every level
MAX_FORM_ITEMS = 200  # list items, counted in every list
MAX_FORM_STRING = 2000

_Text = Annotated[str, StringConstraints(max_length=200)]
_Named = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
_BASE64_LIMIT = -(-MAX_ATTACHMENT_BYTES // 3) * 4


def check_form(form: Mapping[str, Any]) -> None:
    """Refuse (ValueError) `DuLieuBieuMau` past the portal's bounds: nested too deep, too many
    keys or list items in all, or a string too long. A wide object or a long list cannot get
    past, however its size is spread over the levels."""
    _FormSize().take(form, depth=1)


class _FormSize:
    """What a form has used so far of the bounds that count across all its levels."""

    def __init__(self) -> None:
        self.keys = self.items = 0

    def take(self, node: Any, *, depth: int) -> None:
        if isinstance(node, str):
            if len(node) > MAX_FORM_STRING:
                raise ValueError(
                    f"form data holds a string longer than {MAX_FORM_STRING} characters"
                )
            return
        if not isinstance(node, Mapping | list):
            return  # numbers, booleans and null cost nothing
        if depth > MAX_FORM_DEPTH:
            raise ValueError(f"form data is nested more than {MAX_FORM_DEPTH} levels deep")
        if isinstance(node, Mapping):
            self.keys += len(node)
            children = list(node.values())
        else:
            self.items += len(node)
            children = node
        if self.keys > MAX_FORM_KEYS:
            raise ValueError(f"form data has more than {MAX_FORM_KEYS} keys")
        if self.items > MAX_FORM_ITEMS:
            raise ValueError(f"form data has more than {MAX_FORM_ITEMS} list items")
        for child in children:
            self.take(child, depth=depth + 1)


class DinhDanh(BaseModel):
    """`DinhDanhCHS` entry: the portal files for CCCD holders only (`LoaiDinhDanh` 1, §4.2)."""

    loai_dinh_danh: Literal["1"] = Field(alias="LoaiDinhDanh")
    so_dinh_danh: str = Field(alias="SoDinhDanh", max_length=12)


class TepNop(BaseModel):
    """One `TaiLieuNop` file as filed, its content inline in base64 (RFC 4648 §4)."""

    ten_tep: _Named = Field(alias="TenTepDinhKem")
    loai_tep: str = Field(alias="LoaiTep", max_length=127, pattern=r"^[\w.+-]+/[\w.+-]+$")
    noi_dung: str = Field(alias="NoiDungBase64", max_length=_BASE64_LIMIT)

    def checked(self) -> NewAttachment:
        try:
            content = base64.b64decode(self.noi_dung, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{self.ten_tep}: NoiDungBase64 is not base64") from None
        if len(content) > MAX_ATTACHMENT_BYTES:
            raise ValueError(f"{self.ten_tep}: larger than {MAX_ATTACHMENT_BYTES} bytes")
        return NewAttachment(
            name=self.ten_tep,
            content_type=self.loai_tep,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
        )


class NopHoSo(BaseModel):
    """A dossier as a citizen files it; other fields of a real `HoSo` are accepted and ignored."""

    model_config = ConfigDict(strict=True)

    ma_tthc: str = Field(alias="MaTTHC", max_length=40)
    chu_ho_so: _Named = Field(alias="ChuHoSo")
    ngay_sinh: str = Field(alias="NgaySinhChuHoSo", description="dd/MM/yyyy (mock addition).")
    dinh_danh: list[DinhDanh] = Field(alias="DinhDanhCHS", min_length=1, max_length=1)
    trich_yeu: Annotated[
        str, StringConstraints(min_length=1, max_length=MAX_SUMMARY_LENGTH, pattern=r"\S")
    ] = Field(alias="TrichYeuHoSo")
    email: str | None = Field(default=None, alias="Email", max_length=254)
    so_dien_thoai: str | None = Field(default=None, alias="SoDienThoai", max_length=20)
    du_lieu_bieu_mau: dict[str, Any] = Field(default_factory=dict, alias="DuLieuBieuMau")
    tai_lieu: list[TepNop] = Field(
        default_factory=list, alias="TaiLieuNop", max_length=MAX_ATTACHMENTS
    )

    @field_validator("du_lieu_bieu_mau")
    @classmethod
    def _bounded_form(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_form(value)
        return value


class XuLyHoSo(BaseModel):
    """A step on a dossier: `HanhDong` is a `lifecycle.Action` name; the rest is §4.3's entry."""

    model_config = ConfigDict(strict=True)

    hanh_dong: str = Field(alias="HanhDong", max_length=40)
    nguoi_xu_ly: _Named = Field(alias="NguoiXuLy")
    chuc_danh: _Text = Field(default="", alias="ChucDanh")
    phong_ban: _Text = Field(default="", alias="PhongBanXuLy")
    noi_dung: str = Field(default="", alias="NoiDungXuLy", max_length=2000)


def procedure_json(procedure: Procedure, *, province_code: str, agency_id: str) -> dict[str, Any]:
    agency = find_agency(agency_id)
    return {
        # under the receiving body's level-1 code: the one its province has on that day
        "MaTTHC": procedure_code_under(procedure.code, agency_id.rpartition(".")[2]),
        "MaTTHCQuocGia": procedure.code,  # mock addition
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field.code,
        "TenLinhVuc": procedure.field.name,
        "CapThucHien": LEVELS[agency.level if agency is not None else procedure.level],
        "MucDo": ONLINE_SERVICES[procedure.online_service],
        "ThoiHanGiaiQuyet": procedure.processing_days,  # working days; 0: the same day
        "LePhi": procedure.fee_vnd,  # VND
        "CoQuanThucHien": {
            "MaDinhDanh": agency_id,
            "TenCoQuan": agency.name if agency is not None else "",
        },
        "MaGiaDinh": assigned_codes(procedure, agency_id),  # mock addition
    }


def assigned_codes(procedure: Procedure, agency_id: str) -> list[str]:
    """The fields of a `ThuTuc` whose values the mock assigned rather than sourced
    (FIDELITY-2026.md §1: mark every mock-assigned code in answers): a 3.999xxx national code
    (and the provincial code built on it), a letter code not verified, the `Z00-` field code
    and the unit number of the receiving body (below the province, all assigned)."""
    letter = agency_id.rpartition(".")[2]
    fields = []
    if not procedure.code_sourced or letter not in SOURCED_LETTER_CODES:
        fields.append("MaTTHC")
    if not procedure.code_sourced:
        fields.append("MaTTHCQuocGia")
    fields.append("MaLinhVuc")  # every field code is Z00-…
    if letter not in SOURCED_LETTER_CODES or not agency_id.startswith("000.00.00."):
        fields.append("CoQuanThucHien.MaDinhDanh")
    return fields


def dossier_json(dossier: Dossier, *, province_code: str, full: bool = True) -> dict[str, Any]:
    """A `HoSo`; `full` adds `TaiLieuNop` and `TienTrinh` (the listing leaves them out)."""
    procedure = BY_CODE[dossier.procedure_code]
    agency = find_agency(dossier.agency_id)
    status = DossierStatus(dossier.status)
    body: dict[str, Any] = {
        "MaHoSo": dossier.code,
        "MaTTHC": procedure_code_under(procedure.code, dossier.agency_id.rpartition(".")[2]),
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field.code,
        "TenLinhVuc": procedure.field.name,
        "KenhThucHien": "2",  # filed online (INFERENCE: 1 direct, 2 online, 3 postal)
        "ChuHoSo": dossier.applicant_name,
        "LoaiDoiTuong": "1",  # citizen (DOMAIN.md §4.2)
        "SoGiayToChuHoSo": dossier.applicant_id_number,
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": dossier.applicant_id_number}],
        "Email": dossier.email,
        "SoDienThoai": dossier.phone,
        "TrichYeuHoSo": dossier.summary,
        "DuLieuBieuMau": dossier.form_data,  # mock addition
        "NgayNopHoSo": format_dvcqg_time(dossier.submitted_at),
        "NgayTiepNhan": format_dvcqg_time(dossier.received_at),
        "NgayHenTra": format_dvcqg_time(dossier.due_at),
        "NgayYeuCauBoSung": format_dvcqg_time(dossier.supplement_requested_at),
        "NgayKetThucXuLy": format_dvcqg_time(dossier.finished_at),
        "NgayTra": format_dvcqg_time(dossier.returned_at),
        "NgayTuChoi": format_dvcqg_time(dossier.refused_at),
        "TrangThaiHoSo": str(int(status)),
        "TenTrangThaiHoSo": status.vietnamese_name,  # mock addition
        "HanhDongHopLe": allowed_actions(status),  # mock addition
        "DonViXuLy": {
            "MaDinhDanh": dossier.agency_id,
            "TenCoQuan": agency.name if agency is not None else "",
        },
    }
    if full:
        body["TaiLieuNop"] = [
            {
                "TepDinhKemId": item.position,
                "TenTepDinhKem": item.name,
                "LoaiTep": item.content_type,  # mock addition, as the next two
                "KichThuoc": item.size_bytes,
                "MaBamSHA256": item.sha256,
            }
            for item in dossier.attachments
        ]
        body["TienTrinh"] = [progress_entry_json(dossier.code, entry) for entry in dossier.progress]
    return body


def progress_entry_json(code: str, entry: ProgressEntry) -> dict[str, Any]:
    """One `TienTrinh` entry (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3)."""
    return progress_record(code, entry, title=entry.title)
