"""The requests DVCQG accepts: `{service, …}` posted to its one endpoint (DOMAIN.md §2.3).

Field names and string codes are DVCQG's (§4.2 `HoSo`, §4.3 progress entry; dates
`yyyyMMddHHmmss` in Vietnam time). Fields of a real payload this mock does not keep (`Email`,
`TaiLieuNop`, `DanhSachLePhi`, …) are accepted and ignored, as are `session` and `madonvi`: the
bus in front authenticates callers. Mock additions: `MaTinh` (the province, which the real
portal reads from the caller's session), `ThuTu` (an entry's position in the dossier's history,
and on a `HoSo` the position its snapshot reflects: the mock orders by it and keeps each entry
once) and `HanhDong` (the provincial portal's name for a step). Every list is bounded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from formats.codes import (
    DOSSIER_CODE,
    ID_NUMBER,
    ID_NUMBER_DIGITS,
    ORGAN_ID_LENIENT,
    PROCEDURE_CODE,
)
from formats.dates import parse_dvcqg_time

MAX_STEP = 1000
"""Entries one dossier's history may hold (`ThuTu`): more than any lifecycle takes, and a bound."""
MAX_ITEMS = 50
"""Dossiers (`DongBoHoSoMC`) or entries (`CapNhatTienDoHoSoMC`) in one request."""
MAX_ENTRIES_PER_DOSSIER = 100
MAX_PAGE_SIZE = 100

StatusCode = Literal["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]


def _checked_time(value: str) -> str:
    parse_dvcqg_time(value)  # ValueError names the expected shape, not the value
    return value


_Time = Annotated[str, StringConstraints(max_length=14), AfterValidator(_checked_time)]
_Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
_Text = Annotated[str, StringConstraints(max_length=200)]
_Long = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
_Code = Annotated[str, StringConstraints(pattern=DOSSIER_CODE)]


class _Native(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=False)


class DonViXuLy(_Native):
    ma_dinh_danh: Annotated[str, StringConstraints(pattern=ORGAN_ID_LENIENT)] = Field(
        alias="MaDinhDanh"
    )
    ten_co_quan: _Name = Field(alias="TenCoQuan")


class DinhDanh(_Native):
    """`DinhDanhCHS`: `LoaiDinhDanh` 1 a 12-digit CCCD, 2 a 9-digit CMND."""

    loai: Literal["1", "2"] = Field(alias="LoaiDinhDanh")
    so: Annotated[str, StringConstraints(pattern=ID_NUMBER)] = Field(alias="SoDinhDanh")

    @model_validator(mode="after")
    def _length_fits_type(self) -> DinhDanh:
        if len(self.so) != ID_NUMBER_DIGITS[self.loai]:
            raise ValueError("SoDinhDanh has 12 digits for LoaiDinhDanh 1, 9 for 2")
        return self


class TienTrinh(_Native):
    """One progress entry (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3)."""

    ma_ho_so: _Code = Field(alias="MaHoSo")
    thu_tu: int = Field(alias="ThuTu", ge=1, le=MAX_STEP)
    nguoi_xu_ly: _Name = Field(alias="NguoiXuLy")
    chuc_danh: _Text = Field(default="", alias="ChucDanh")
    thoi_diem_xu_ly: _Time = Field(alias="ThoiDiemXuLy")
    phong_ban_xu_ly: _Text = Field(default="", alias="PhongBanXuLy")
    noi_dung_xu_ly: Annotated[str, StringConstraints(max_length=2000)] = Field(
        default="", alias="NoiDungXuLy"
    )
    trang_thai: StatusCode = Field(alias="TrangThai")
    ngay_bat_dau: _Time | None = Field(default=None, alias="NgayBatDau")
    ngay_ket_thuc: _Time | None = Field(default=None, alias="NgayKetThucTheoQuyDinh")
    hanh_dong: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] | None = Field(
        default=None, alias="HanhDong"
    )

    def stored(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


class HoSo(_Native):
    """A dossier of `DongBoHoSoMC` (DOMAIN.md §4.2), with the entries it brings along."""

    ma_ho_so: _Code = Field(alias="MaHoSo")
    ma_tthc: Annotated[str, StringConstraints(pattern=PROCEDURE_CODE)] = Field(alias="MaTTHC")
    ten_tthc: _Long = Field(alias="TenTTHC")
    ma_linh_vuc: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, alias="MaLinhVuc"
    )
    ten_linh_vuc: Annotated[str, StringConstraints(max_length=500)] | None = Field(
        default=None, alias="TenLinhVuc"
    )
    kenh_thuc_hien: Literal["1", "2", "3"] = Field(default="2", alias="KenhThucHien")
    chu_ho_so: _Name = Field(alias="ChuHoSo")
    loai_doi_tuong: Literal["1", "2", "3", "4"] = Field(alias="LoaiDoiTuong")
    so_giay_to: Annotated[str, StringConstraints(max_length=20)] | None = Field(
        default=None, alias="SoGiayToChuHoSo"
    )
    dinh_danh: list[DinhDanh] = Field(default_factory=list, alias="DinhDanhCHS", max_length=1)
    trich_yeu: Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")] = (
        Field(alias="TrichYeuHoSo")
    )
    ngay_nop: _Time = Field(alias="NgayNopHoSo")
    ngay_tiep_nhan: _Time | None = Field(default=None, alias="NgayTiepNhan")
    ngay_hen_tra: _Time | None = Field(default=None, alias="NgayHenTra")
    ngay_yeu_cau_bo_sung: _Time | None = Field(default=None, alias="NgayYeuCauBoSung")
    ngay_ket_thuc_xu_ly: _Time | None = Field(default=None, alias="NgayKetThucXuLy")
    ngay_tra: _Time | None = Field(default=None, alias="NgayTra")
    ngay_tu_choi: _Time | None = Field(default=None, alias="NgayTuChoi")
    trang_thai: StatusCode = Field(alias="TrangThaiHoSo")
    don_vi_xu_ly: DonViXuLy = Field(alias="DonViXuLy")
    ma_tinh: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] = Field(alias="MaTinh")
    thu_tu: int = Field(alias="ThuTu", ge=1, le=MAX_STEP)
    tien_trinh: list[TienTrinh] = Field(
        default_factory=list, alias="TienTrinh", max_length=MAX_ENTRIES_PER_DOSSIER
    )

    @model_validator(mode="after")
    def _consistent(self) -> HoSo:
        if (self.ma_linh_vuc is None) != (self.ten_linh_vuc is None):
            raise ValueError("MaLinhVuc and TenLinhVuc come together")
        if any(entry.ma_ho_so != self.ma_ho_so for entry in self.tien_trinh):
            raise ValueError("every TienTrinh entry names the dossier's own MaHoSo")
        if any(entry.thu_tu > self.thu_tu for entry in self.tien_trinh):
            raise ValueError("a TienTrinh entry comes after the step the HoSo reflects (ThuTu)")
        return self

    def snapshot(self) -> dict[str, Any]:
        """What the national view keeps of it: every accepted field but the entries."""
        return self.model_dump(by_alias=True, exclude={"tien_trinh", "ma_tinh", "thu_tu"})

    @property
    def latest_time(self) -> datetime:
        """When its latest entry happened, or when it was filed: a seeded dossier's sync time."""
        times = [parse_dvcqg_time(entry.thoi_diem_xu_ly) for entry in self.tien_trinh]
        return max(times, default=parse_dvcqg_time(self.ngay_nop))


class DongBoHoSoMC(_Native):
    service: Literal["DongBoHoSoMC"]
    is_updating: Literal["True", "False"] = Field(alias="isUpdating")
    data: list[HoSo] = Field(min_length=1, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _each_dossier_once(self) -> DongBoHoSoMC:
        codes = [item.ma_ho_so for item in self.data]
        if len(codes) != len(set(codes)):
            raise ValueError("a MaHoSo appears twice in data")
        return self


class CapNhatTienDoHoSoMC(_Native):
    service: Literal["CapNhatTienDoHoSoMC"]
    data: list[TienTrinh] = Field(min_length=1, max_length=MAX_ITEMS)


class TraCuuHoSo(_Native):
    service: Literal["TraCuuHoSo"]
    ma_ho_so: _Code = Field(alias="MaHoSo")


class LayDanhSachHoSo(_Native):
    """Mock addition: a page of the national view, newest sync first."""

    service: Literal["LayDanhSachHoSo"]
    ma_tinh: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = Field(
        default=None, alias="MaTinh"
    )
    trang_thai: StatusCode | None = Field(default=None, alias="TrangThaiHoSo")
    trang: int = Field(default=1, alias="Trang", ge=1, le=1_000_000)
    so_ban_ghi: int = Field(default=20, alias="SoBanGhi", ge=1, le=MAX_PAGE_SIZE)


class LayDanhMucCoQuan(_Native):
    """The agencies catalogue (OpenCPS `doSyncGovernmentAgency` reads `MADONVI`, `TENDONVI`,
    `CAPDONVI` of each `result` item). `MaTinh` (mock addition) narrows it to a province."""

    service: Literal["LayDanhMucCoQuan"]
    ma_tinh: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")] | None = Field(
        default=None, alias="MaTinh"
    )


class LayDanhMucLinhVuc(_Native):
    """The fields catalogue (OpenCPS `doSyncServiceDomain` reads `MALINHVUC`, `TENLINHVUC`,
    `MANGANH` of each `result` item)."""

    service: Literal["LayDanhMucLinhVuc"]


SERVICES: dict[str, type[_Native]] = {
    "DongBoHoSoMC": DongBoHoSoMC,
    "CapNhatTienDoHoSoMC": CapNhatTienDoHoSoMC,
    "TraCuuHoSo": TraCuuHoSo,
    "LayDanhSachHoSo": LayDanhSachHoSo,
    "LayDanhMucCoQuan": LayDanhMucCoQuan,
    "LayDanhMucLinhVuc": LayDanhMucLinhVuc,
}
