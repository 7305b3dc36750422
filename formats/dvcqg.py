"""DVCQG's own JSON records (DOMAIN.md §4.3) as both sides write them.

The gateway's `dvcqg` adapter writes a canonical progress entry as the national portal takes it,
and the `dvc` mock writes its own history in the same record (its `TienTrinh`, which the `dvcqg`
mock also seeds from): one function, so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from formats.dates import format_dvcqg_time


class ProgressStep(Protocol):
    """What a step of a dossier's history says, whoever keeps it (read-only: the adapter's
    contract is frozen)."""

    @property
    def actor(self) -> str: ...

    @property
    def at(self) -> datetime: ...

    @property
    def department(self) -> str: ...

    @property
    def note(self) -> str: ...

    @property
    def status(self) -> int: ...

    @property
    def action(self) -> str | None: ...

    @property
    def started_at(self) -> datetime | None: ...

    @property
    def due_at(self) -> datetime | None: ...


def progress_record(code: str, step: ProgressStep, *, title: str) -> dict[str, Any]:
    """One `CapNhatTienDoHoSoMC` entry of the dossier `code` (DOMAIN.md §4.3); `title` is the
    actor's ChucDanh. Times are `yyyyMMddHHmmss` in Vietnam time."""
    record: dict[str, Any] = {
        "MaHoSo": code,
        "NguoiXuLy": step.actor,
        "ChucDanh": title,
        "ThoiDiemXuLy": format_dvcqg_time(step.at),
        "PhongBanXuLy": step.department,
        "NoiDungXuLy": step.note,
        "TrangThai": str(step.status),
        "NgayBatDau": format_dvcqg_time(step.started_at),
        "NgayKetThucTheoQuyDinh": format_dvcqg_time(step.due_at),
    }
    if step.action is not None:
        record["HanhDong"] = step.action  # mock addition: the portal's name for the step
    return record
