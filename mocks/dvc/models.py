"""The DVC mock's own tables: dossiers (`HoSo`), their progress entries and files, and counters.

They live on the mock's own `MetaData` (`kit.db.named_metadata`), prefixed `dvc_`, in whatever
database the bus hands the mock; every row carries the bus instance that owns it, because all
provinces' portals share that database. Column names are English; the Vietnamese names of the
DVCQG payload (DOMAIN.md §4.2, §4.3) are the app's business (`mocks/dvc/schemas.py`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

from kit.db import UTCDateTime, named_metadata


class DvcBase(DeclarativeBase):
    metadata = named_metadata()


class Dossier(DvcBase):
    """One `HoSo`; dates as DOMAIN.md §4.2 names them, in comments beside each column."""

    __tablename__ = "dvc_dossier"
    __table_args__ = (UniqueConstraint("instance", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(40))  # MaHoSo
    procedure_code: Mapped[str] = mapped_column(String(16))  # national MaTTHC, e.g. 1.001193
    agency_id: Mapped[str] = mapped_column(String(16))  # DonViXuLy, QĐ 20/2020 organ id
    applicant_name: Mapped[str] = mapped_column(String(200))  # ChuHoSo
    applicant_birth_date: Mapped[date] = mapped_column(Date)  # checked, never served
    applicant_id_number: Mapped[str] = mapped_column(String(12), index=True)  # SoDinhDanh
    summary: Mapped[str] = mapped_column(Text)  # TrichYeuHoSo
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))  # SoDienThoai
    form_data: Mapped[dict[str, Any]] = mapped_column(JSON)  # DuLieuBieuMau (mock addition)
    status: Mapped[int] = mapped_column(SmallInteger, index=True)  # TrangThaiHoSo
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # NgayNopHoSo
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayTiepNhan
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayHenTra
    supplement_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayKetThucXuLy
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayTra
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayTuChoi

    progress: Mapped[list[ProgressEntry]] = relationship(
        order_by="ProgressEntry.position", cascade="all, delete-orphan", lazy="raise"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.position", cascade="all, delete-orphan", lazy="raise"
    )


class _DossierPart:
    """A row of one of a dossier's ordered lists (its progress, its files): deleted with the
    dossier, at its own `position` in the list."""

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[UniqueConstraint]:
        return (UniqueConstraint("dossier_id", "position"),)

    # sort_order: the table's first columns (a mixin's would otherwise come after the class's).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dvc_dossier.id", ondelete="CASCADE"), sort_order=-1
    )
    position: Mapped[int] = mapped_column(Integer, sort_order=-1)


class ProgressEntry(_DossierPart, DvcBase):
    """One `TienTrinh` step (`CapNhatTienDoHoSoMC`, DOMAIN.md §4.3), written with its status."""

    __tablename__ = "dvc_progress_entry"

    action: Mapped[str] = mapped_column(String(40))  # HanhDong (mock addition)
    actor: Mapped[str] = mapped_column(String(200))  # NguoiXuLy
    title: Mapped[str] = mapped_column(String(200))  # ChucDanh
    department: Mapped[str] = mapped_column(String(200))  # PhongBanXuLy
    note: Mapped[str] = mapped_column(Text)  # NoiDungXuLy
    status: Mapped[int] = mapped_column(SmallInteger)  # TrangThai, the status after the step
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # ThoiDiemXuLy
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)  # NgayBatDau
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NgayKetThucTheoQuyDinh


class Attachment(_DossierPart, DvcBase):
    """A filed document (`TaiLieuNop`): its name, type, size and digest; the bytes are not kept."""

    __tablename__ = "dvc_attachment"

    name: Mapped[str] = mapped_column(String(255))  # TenTepDinhKem
    content_type: Mapped[str] = mapped_column(String(127))  # LoaiTep
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))


class DossierCounter(DvcBase):
    """The last `MaHoSo` sequence an agency issued on a (Vietnam-time) day (`codes.py`)."""

    __tablename__ = "dvc_dossier_counter"

    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class NationalSync(DvcBase):
    """One status change waiting for (or done with) its `DongBoHoSoMC` call, when the portal
    syncs in the OpenCPS dialect (`opencps_sync.py`): OpenCPS keeps such a queue too
    (`DossierSync`), since that protocol answers at once and has no store-and-forward.

    `item` is the dossier as it stood after the change, in the protocol's names; the change is
    sent from it however late. Rows of one dossier go in `id` order."""

    __tablename__ = "dvc_national_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    dossier_code: Mapped[str] = mapped_column(String(40))  # MaHoSo
    step: Mapped[int] = mapped_column(Integer)  # the TienTrinh position the change appended
    item: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str] = mapped_column(String(128))  # the change's, for the bus's trail
    state: Mapped[str] = mapped_column(String(8), index=True)  # pending, synced, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Calls made: the refused ones while it waits or has failed, and the delivering one too."""
    error_code: Mapped[str | None] = mapped_column(String(16))  # the last refusal's error_code
    message: Mapped[str | None] = mapped_column(String(500))  # …and its message
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """A worker sending the row holds it until then; another takes it only after."""
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
