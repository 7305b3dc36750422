"""DVCQG's progress record, as the `dvcqg` adapter and the `dvc` mock both write it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from formats.dvcqg import progress_record


@dataclass(frozen=True)
class Step:
    actor: str = "Nguyễn Văn A"
    at: datetime = datetime(2026, 3, 2, 2, 30, tzinfo=UTC)
    department: str = "Bộ phận một cửa"
    note: str = "Tiếp nhận hồ sơ"
    status: int = 2
    action: str | None = "receive"
    started_at: datetime | None = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    due_at: datetime | None = None


def test_a_step_is_the_portals_record_with_times_in_vietnam_time() -> None:
    assert progress_record("000.00.07.H33-260302-0001", Step(), title="Chuyên viên") == {
        "MaHoSo": "000.00.07.H33-260302-0001",
        "NguoiXuLy": "Nguyễn Văn A",
        "ChucDanh": "Chuyên viên",
        "ThoiDiemXuLy": "20260302093000",
        "PhongBanXuLy": "Bộ phận một cửa",
        "NoiDungXuLy": "Tiếp nhận hồ sơ",
        "TrangThai": "2",
        "NgayBatDau": "20260302090000",
        "NgayKetThucTheoQuyDinh": None,
        "HanhDong": "receive",
    }


def test_a_step_without_the_portals_name_for_it_has_no_hanhdong() -> None:
    assert "HanhDong" not in progress_record("X", Step(action=None), title="")
