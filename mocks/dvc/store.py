"""Every SQL statement of the DVC mock, and what a step does to a dossier's dates.

The store never commits: the app opens one transaction per request (`BEGIN IMMEDIATE` on
SQLite), so a dossier, its number, its files and its first progress entry are written together
or not at all. Concurrency is the database's job:
- dossier numbers come from one `INSERT … ON CONFLICT DO UPDATE … RETURNING` per number, which
  PostgreSQL runs under the counter row's lock and SQLite under its single write lock;
- a transition reads its dossier `FOR UPDATE` (a row lock on PostgreSQL; SQLite's write lock
  already holds off every other writer), so two steps on one dossier run one after the other
  and the second is checked against the first one's result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from kit.db import conflict_insert
from mocks.dvc.codes import DossierCode, next_dossier_code
from mocks.dvc.deadlines import due_date, resume_due_date
from mocks.dvc.lifecycle import Action, DossierStatus, TransitionRecord
from mocks.dvc.models import Attachment, Dossier, DossierCounter, ProgressEntry
from mocks.store import InstanceStore, given, paged

SUBMIT = "submit"
"""The `HanhDong` of the entry written when a dossier is filed; not a `lifecycle.Action`."""


@dataclass(frozen=True)
class NewAttachment:
    name: str
    content_type: str
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class Filing:
    """What a citizen files, once the applicant is verified: the fields of a new `HoSo`."""

    procedure_code: str  # national MaTTHC
    agency_id: str
    applicant_name: str
    applicant_birth_date: date
    applicant_id_number: str
    summary: str
    email: str | None
    phone: str | None
    form_data: dict[str, Any]
    attachments: Sequence[NewAttachment]


@dataclass(frozen=True)
class Step:
    """Who took a step and how they describe it: `NguoiXuLy`, `ChucDanh`, `PhongBanXuLy`."""

    actor: str
    title: str = ""
    department: str = ""


class DossierStore(InstanceStore):
    """Reads and writes one instance's dossiers within the caller's transaction."""

    async def count(self) -> int:
        statement = select(func.count()).where(Dossier.instance == self._instance)
        return (await self._session.execute(statement)).scalar_one()

    async def allocate_code(self, agency_id: str, day: date) -> DossierCode:
        """The agency's next `MaHoSo` of `day`; rolled back with the transaction on error."""
        dialect = self._session.get_bind().dialect.name
        insert = conflict_insert(dialect)
        statement = (
            insert(DossierCounter)
            .values(instance=self._instance, agency_id=agency_id, day=day, last_sequence=1)
            .on_conflict_do_update(
                index_elements=["instance", "agency_id", "day"],
                set_={"last_sequence": DossierCounter.last_sequence + 1},
            )
            .returning(DossierCounter.last_sequence)
        )
        issued = (await self._session.execute(statement)).scalar_one()
        return next_dossier_code(agency_id, day, issued - 1)

    async def file(self, filing: Filing, *, code: DossierCode, at: datetime) -> Dossier:
        """Store a new dossier in status 1 with its files and the filing's progress entry."""
        dossier = new_dossier(self._instance, filing, code=code, at=at)
        self._session.add(dossier)
        await self._session.flush()
        return dossier

    async def add(self, dossier: Dossier) -> None:
        """Store a dossier built in memory (`new_dossier`, `append_step`) with its history."""
        self._session.add(dossier)
        await self._session.flush()

    async def issued_codes(self) -> dict[tuple[str, date], int]:
        """The last sequence each agency issued on each day: the instance's code counters."""
        statement = select(
            DossierCounter.agency_id, DossierCounter.day, DossierCounter.last_sequence
        ).where(DossierCounter.instance == self._instance)
        rows = (await self._session.execute(statement)).all()
        return {(agency_id, day): last for agency_id, day, last in rows}

    async def add_many(
        self, dossiers: Sequence[Dossier], *, issued: Mapping[tuple[str, date], int]
    ) -> None:
        """Store dossiers built in memory, whose codes were allocated in memory from
        `issued_codes` (`codes.InMemoryDossierCodeAllocator`), and the counters after them:
        one batched INSERT per table instead of a few statements per dossier (the seed)."""
        if not dossiers:
            return
        dialect = self._session.get_bind().dialect.name
        insert = conflict_insert(dialect)
        counters = insert(DossierCounter)
        await self._session.execute(
            counters.on_conflict_do_update(
                index_elements=["instance", "agency_id", "day"],
                set_={"last_sequence": counters.excluded.last_sequence},
            ),
            [
                {"instance": self._instance, "agency_id": agency_id, "day": day,
                 "last_sequence": last}
                for (agency_id, day), last in issued.items()
            ],
        )  # fmt: skip
        self._session.add_all(dossiers)
        await self._session.flush()

    async def get(self, code: str, *, for_update: bool = False) -> Dossier | None:
        """One dossier with its history and files; `for_update` locks it until commit.

        The dossier and its history in one statement, so one snapshot: PostgreSQL's READ
        COMMITTED gives each statement its own, and a step committed between a read of the
        dossier and one of its history showed a history a step ahead of its status (as the
        DVCQG mock's lookup did). The files are written with the dossier, never after."""
        statement = (
            select(Dossier)
            .where(Dossier.instance == self._instance, Dossier.code == code)
            .options(joinedload(Dossier.progress), selectinload(Dossier.attachments))
            .execution_options(populate_existing=True)
        )
        if for_update:
            statement = statement.with_for_update(of=Dossier)
        return (await self._session.execute(statement)).unique().scalar_one_or_none()

    async def page(
        self,
        *,
        id_number: str | None,
        status: int | None,
        page: int,
        size: int,
        agency_id: str | None = None,
    ) -> tuple[list[Dossier], int]:
        """A page of dossiers, newest first, without history or files; and how many match."""
        conditions = [
            Dossier.instance == self._instance,
            *given(
                (Dossier.applicant_id_number, id_number),
                (Dossier.agency_id, agency_id),
                (Dossier.status, status),
            ),
        ]
        statement = (
            select(Dossier)
            .where(*conditions)
            .order_by(Dossier.submitted_at.desc(), Dossier.id.desc())
        )
        rows, total = await paged(self._session, statement, page=page, size=size)
        return list(rows.scalars()), total

    async def record(
        self, dossier: Dossier, step: TransitionRecord, by: Step, *, processing_days: int
    ) -> None:
        """Apply a checked step: new status, the dates it sets, and its progress entry."""
        append_step(dossier, step, by, processing_days=processing_days)
        await self._session.flush()


def new_dossier(instance: str, filing: Filing, *, code: DossierCode, at: datetime) -> Dossier:
    """A dossier in status 1 with its files and the filing's entry, not yet in any session.

    Pure, like `append_step`: the seed builds the same dossiers without a database, so that the
    national portal can know what the provinces' portals were seeded with (`seeded_dossiers`).
    """
    own = {f.name: getattr(filing, f.name) for f in fields(filing) if f.name != "attachments"}
    return Dossier(
        instance=instance,
        code=str(code),
        **own,
        status=int(DossierStatus.NEW),
        submitted_at=at,
        progress=[
            ProgressEntry(
                position=1,
                action=SUBMIT,
                actor=filing.applicant_name,
                title="Chủ hồ sơ",
                department="",
                note="Nộp hồ sơ trực tuyến",
                status=int(DossierStatus.NEW),
                at=at,
                started_at=at,
                due_at=None,
            )
        ],
        attachments=[
            Attachment(
                position=index,
                name=item.name,
                content_type=item.content_type,
                size_bytes=item.size_bytes,
                sha256=item.sha256,
            )
            for index, item in enumerate(filing.attachments, start=1)
        ],
    )


def append_step(
    dossier: Dossier, step: TransitionRecord, by: Step, *, processing_days: int
) -> None:
    """Apply a checked step to `dossier` in memory: status, dates and a new progress entry."""
    started_at = dossier.progress[-1].at if dossier.progress else dossier.submitted_at
    apply_dates(dossier, step, processing_days=processing_days)
    dossier.status = int(step.to_status)
    dossier.progress.append(
        ProgressEntry(
            position=len(dossier.progress) + 1,
            action=step.action,
            actor=by.actor,
            title=by.title,
            department=by.department,
            note=step.note or step.to_status.vietnamese_name,
            status=int(step.to_status),
            at=step.at,
            started_at=started_at,
            due_at=dossier.due_at,
        )
    )


def apply_dates(dossier: Dossier, step: TransitionRecord, *, processing_days: int) -> None:
    """The DOMAIN.md §4.2 dates a step sets; deadlines follow `mocks.dvc.deadlines`."""
    action = Action(step.action)
    if action is Action.RECEIVE:
        dossier.received_at = step.at  # NgayTiepNhan
        dossier.due_at = due_date(step.at, processing_days)  # NgayHenTra
    elif action is Action.REFUSE:
        dossier.refused_at = step.at  # NgayTuChoi
    elif action is Action.REQUEST_SUPPLEMENT:
        dossier.supplement_requested_at = step.at  # NgayYeuCauBoSung: the clock stops
    elif action is Action.SUPPLEMENT_RECEIVED:
        paused_at, due = dossier.supplement_requested_at, dossier.due_at
        if paused_at is None or due is None:
            raise ValueError(f"dossier {dossier.code} resumes without a pause or a due date")
        # NgayHenTraMoi (DanhSachHoSoBoSung, DOMAIN.md §4.2): the days left count again.
        dossier.due_at = resume_due_date(due, paused_at=paused_at, resumed_at=step.at)
    elif action is Action.COMPLETE:
        dossier.finished_at = step.at  # NgayKetThucXuLy
    elif action is Action.RETURN_RESULT:
        dossier.returned_at = step.at  # NgayTra
