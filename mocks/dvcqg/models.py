"""DVCQG's own tables, prefixed `dvcqg_`: the national dossiers, their progress, and the
idempotency keys of the requests already processed.

A dossier keeps its latest snapshot as the `HoSo` JSON it was synced as (DOMAIN.md §4.2, the
fields this mock accepts), beside the few columns it is found and ordered by. Progress entries
are kept once per (dossier, step). A processed key is written in the same transaction as the
effect of its request, so a request either took effect and is known, or neither.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kit.db import UTCDateTime, named_metadata


class DvcqgBase(DeclarativeBase):
    metadata = named_metadata()


class NationalDossier(DvcqgBase):
    __tablename__ = "dvcqg_dossier"
    __table_args__ = (Index("ix_dvcqg_dossier_listing", "province_code", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)  # MaHoSo
    province_code: Mapped[str] = mapped_column(String(2))  # MaTinh (mock addition)
    status: Mapped[int] = mapped_column(SmallInteger)  # TrangThaiHoSo of the snapshot
    step: Mapped[int] = mapped_column(Integer)  # ThuTu: the step the snapshot reflects
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)  # the HoSo, without TienTrinh
    first_synced_at: Mapped[datetime] = mapped_column(UTCDateTime)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime)  # NgayDongBo (mock addition)


class NationalProgress(DvcqgBase):
    __tablename__ = "dvcqg_progress_entry"
    __table_args__ = (UniqueConstraint("dossier_id", "step"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dvcqg_dossier.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)  # ThuTu
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)  # the CapNhatTienDoHoSoMC entry


class ProcessedRequest(DvcqgBase):
    """An `Idempotency-Key` already answered, with a digest of its body and the answer."""

    __tablename__ = "dvcqg_processed_request"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    service: Mapped[str] = mapped_column(String(40))
    request_sha256: Mapped[str] = mapped_column(String(64))
    result: Mapped[list[Any] | None] = mapped_column(JSON)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)
