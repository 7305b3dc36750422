"""Every SQL statement of the DVCQG mock, and the rules a sync follows.

The store never commits: the app runs one transaction per request (`BEGIN IMMEDIATE` on SQLite),
so an idempotency key, the snapshot and the entries are written together or not at all.
- A snapshot only moves forward: a `HoSo` whose `ThuTu` is not after the stored one leaves the
  snapshot as it is (a retry, or a change that overtook an earlier one on the way).
- An entry is kept once per (dossier, `ThuTu`), whatever order entries arrive in.
- Concurrency is the database's: inserts use `ON CONFLICT DO NOTHING`, which on PostgreSQL waits
  for a concurrent insert of the same key to commit, and a dossier is updated under
  `SELECT … FOR UPDATE`; SQLite's single write lock orders everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from formats.dates import format_dvcqg_time
from kit.db import conflict_insert
from mocks.dvcqg.models import NationalDossier, NationalProgress, ProcessedRequest
from mocks.dvcqg.schemas import HoSo, TienTrinh
from mocks.store import given, paged

# KetQua of a synced HoSo (mock addition): created, snapshot moved on, already there, older.
Outcome = Literal["TAO_MOI", "CAP_NHAT", "KHONG_DOI", "CU_HON"]


class DossierError(Exception):
    """A write refused for one dossier, `code` (the app answers it in DVCQG's envelope)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DossierExists(DossierError):
    """`isUpdating: "False"` for a known `MaHoSo`: DVCQG's "-3 … đã tồn tại" (§2.3)."""


class DossierUnknown(DossierError):
    """A progress entry of a `MaHoSo` never synced."""


class OtherProvince(DossierError):
    """A province syncs a `MaHoSo` the national portal holds for another one."""


@dataclass(frozen=True)
class Synced:
    code: str
    outcome: Outcome
    step: int  # the step the national snapshot reflects afterwards
    new_entries: int

    def json(self) -> dict[str, Any]:
        return {
            "MaHoSo": self.code,
            "KetQua": self.outcome,
            "ThuTu": self.step,
            "SoTienTrinhMoi": self.new_entries,
        }


class NationalStore:
    """Reads and writes the national view within the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        dialect = session.get_bind().dialect.name
        self._insert = conflict_insert(dialect)

    # --- idempotency keys ------------------------------------------------------------------

    async def claim(
        self, key: str, *, service: str, request_sha256: str, at: datetime
    ) -> ProcessedRequest | None:
        """Take `key` for this request: None if it is new, else the request that had it.

        On PostgreSQL a concurrent claim of the same key waits here until the first commits
        (or rolls back, and then this one takes it).
        """
        statement = (
            self._insert(ProcessedRequest)
            .values(key=key, service=service, request_sha256=request_sha256, processed_at=at)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(ProcessedRequest.key)
        )
        if (await self._session.execute(statement)).scalar_one_or_none() is not None:
            return None
        earlier = await self._session.get(ProcessedRequest, key, populate_existing=True)
        if earlier is None:  # pragma: no cover - a claimed key is only removed by a rollback
            raise RuntimeError(f"idempotency key {key!r} vanished")
        return earlier

    async def answer(self, key: str, result: list[Any]) -> None:
        """Keep the answer of the request that claimed `key`, to replay to its duplicates."""
        claimed = await self._session.get(ProcessedRequest, key)
        if claimed is None:  # pragma: no cover - `claim` inserted it in this transaction
            raise RuntimeError(f"idempotency key {key!r} was not claimed")
        claimed.result = result
        await self._session.flush()

    # --- syncs -----------------------------------------------------------------------------

    async def sync(self, item: HoSo, *, updating: bool, at: datetime) -> Synced:
        """Apply one `HoSo` of `DongBoHoSoMC` and the entries it carries."""
        code = item.ma_ho_so
        dossier = await self._dossier(code, for_update=True)
        if dossier is None:
            created = await self._create(item, at=at)
            if created is not None:
                new = await self._add_entries(created, item.tien_trinh)
                return Synced(code, "TAO_MOI", item.thu_tu, new)
            # Created meanwhile by a concurrent sync of another step (PostgreSQL waited for it).
            dossier = await self._dossier(code, for_update=True)
            if dossier is None:  # pragma: no cover - the conflicting row is committed
                raise RuntimeError(f"dossier {code} neither created nor found")
        if not updating:
            raise DossierExists(code)
        if dossier.province_code != item.ma_tinh:
            raise OtherProvince(code)
        outcome: Outcome
        if item.thu_tu > dossier.step:
            dossier.snapshot = item.snapshot()
            dossier.status = int(item.trang_thai)
            dossier.step = item.thu_tu
            outcome = "CAP_NHAT"
        else:
            outcome = "KHONG_DOI" if item.thu_tu == dossier.step else "CU_HON"
        new = await self._add_entries(dossier.id, item.tien_trinh)
        if outcome == "CAP_NHAT" or new:
            dossier.synced_at = at  # the national view changed
        await self._session.flush()
        return Synced(code, outcome, dossier.step, new)

    async def add_known(self, items: Sequence[HoSo]) -> None:
        """Dossiers the portal knows without a sync having come (the seed), each stored as a
        first sync at its `latest_time` would store it: one batched INSERT per table instead
        of a few statements per dossier and per entry. For codes it does not hold yet."""
        dossiers = [NationalDossier(**_first_sync(item, at=item.latest_time)) for item in items]
        self._session.add_all(dossiers)
        await self._session.flush()
        self._session.add_all(
            NationalProgress(dossier_id=dossier.id, step=step, entry=entry.stored())
            for dossier, item in zip(dossiers, items, strict=True)
            for step, entry in _first_of_each_step(item.tien_trinh).items()
        )
        await self._session.flush()

    async def add_progress(
        self, entries: Sequence[TienTrinh], *, province_code: str | None = None
    ) -> list[dict[str, Any]]:
        """`CapNhatTienDoHoSoMC`: entries of dossiers already synced; `DossierUnknown` if not,
        `OtherProvince` if one is not of `province_code` (when the caller's is known)."""
        results = []
        for entry in entries:
            dossier = await self._dossier(entry.ma_ho_so, for_update=True)
            if dossier is None:
                raise DossierUnknown(entry.ma_ho_so)
            if province_code is not None and dossier.province_code != province_code:
                raise OtherProvince(entry.ma_ho_so)
            recorded = await self._add_entries(dossier.id, [entry])
            results.append(
                {"MaHoSo": entry.ma_ho_so, "ThuTu": entry.thu_tu, "DaGhiNhan": recorded > 0}
            )
        return results

    async def _create(self, item: HoSo, *, at: datetime) -> int | None:
        statement = (
            self._insert(NationalDossier)
            .values(**_first_sync(item, at=at))
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(NationalDossier.id)
        )
        return (await self._session.execute(statement)).scalar_one_or_none()

    async def _add_entries(self, dossier_id: int, entries: Sequence[TienTrinh]) -> int:
        added = 0
        for entry in entries:
            statement = (
                self._insert(NationalProgress)
                .values(dossier_id=dossier_id, step=entry.thu_tu, entry=entry.stored())
                .on_conflict_do_nothing(index_elements=["dossier_id", "step"])
                .returning(NationalProgress.id)
            )
            if (await self._session.execute(statement)).scalar_one_or_none() is not None:
                added += 1
        return added

    async def _dossier(self, code: str, *, for_update: bool = False) -> NationalDossier | None:
        statement = select(NationalDossier).where(NationalDossier.code == code)
        if for_update:
            statement = statement.with_for_update()
        result = await self._session.execute(statement.execution_options(populate_existing=True))
        return result.scalar_one_or_none()

    # --- reads -----------------------------------------------------------------------------

    async def count(self, *, province_code: str | None = None) -> int:
        statement = select(func.count()).select_from(NationalDossier)
        if province_code is not None:
            statement = statement.where(NationalDossier.province_code == province_code)
        return (await self._session.execute(statement)).scalar_one()

    async def lookup(self, code: str) -> dict[str, Any] | None:
        """`TraCuuHoSo`: the dossier's `HoSo` with every entry in step order; None if unknown.

        One statement, so one snapshot: PostgreSQL's READ COMMITTED gives each statement its
        own, and a sync committed between a read of the dossier and one of its entries showed
        a history a step ahead of its status (a loaded CI run: 2 entries, status 1)."""
        statement = (
            select(NationalDossier, NationalProgress.entry)
            .outerjoin(NationalProgress, NationalProgress.dossier_id == NationalDossier.id)
            .where(NationalDossier.code == code)
            .order_by(NationalProgress.step)
            .execution_options(populate_existing=True)
        )
        rows = (await self._session.execute(statement)).all()
        if not rows:
            return None
        entries = [entry for _, entry in rows if entry is not None]
        return {**native(rows[0][0]), "TienTrinh": entries}

    async def page(
        self,
        *,
        province_codes: Sequence[str] | None,
        status: int | None,
        page: int,
        size: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """A page of dossiers of these provinces, most recently changed first, without their
        entries."""
        conditions = given((NationalDossier.status, status))
        if province_codes is not None:
            conditions.append(NationalDossier.province_code.in_(province_codes))
        statement = (
            select(NationalDossier)
            .where(*conditions)
            .order_by(NationalDossier.synced_at.desc(), NationalDossier.id.desc())
        )
        rows, total = await paged(self._session, statement, page=page, size=size)
        return [native(dossier) for dossier in rows.scalars()], total


def native(dossier: NationalDossier) -> dict[str, Any]:
    """The stored `HoSo` with the mock's own fields: `MaTinh`, `ThuTu`, `NgayDongBo`."""
    return {
        **dossier.snapshot,
        "MaTinh": dossier.province_code,
        "ThuTu": dossier.step,
        "NgayDongBo": format_dvcqg_time(dossier.synced_at),
    }


def _first_sync(item: HoSo, *, at: datetime) -> dict[str, Any]:
    """The columns of a dossier's row as its first sync at `at` stores them: the seed's batch
    and a sync's INSERT write the same row."""
    return {
        "code": item.ma_ho_so,
        "province_code": item.ma_tinh,
        "status": int(item.trang_thai),
        "step": item.thu_tu,
        "snapshot": item.snapshot(),
        "first_synced_at": at,
        "synced_at": at,
    }


def _first_of_each_step(entries: Sequence[TienTrinh]) -> dict[int, TienTrinh]:
    """One entry per `ThuTu`, as `_add_entries` keeps them: the first of a step wins."""
    kept: dict[int, TienTrinh] = {}
    for entry in entries:
        kept.setdefault(entry.thu_tu, entry)
    return kept
