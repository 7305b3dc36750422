"""Every SQL statement about the audit log. Never commits: the writer owns the transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Executable, insert, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert
from lgsp.audit.chain import GENESIS_HASH, AuditEntry
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.db import Base, row_values

Link = tuple[AuditEntry, int, str, str]
"""An entry with its place in the chain: (entry, seq, prev_hash, hash)."""

# The writer's statements are Core, on the tables: no ORM objects to build, track and flush on
# the path every call waits on.
_RECORDS = Base.metadata.tables[AuditRecord.__tablename__]
_HEADS = Base.metadata.tables[AuditHead.__tablename__]


@dataclass(frozen=True)
class AuditFilters:
    """What `GET {base}/admin/audit` narrows records by; None matches anything."""

    since: datetime | None = None
    """Inclusive."""
    until: datetime | None = None
    """Exclusive."""
    client: str | None = None
    service: str | None = None
    statuses: tuple[int, int] | None = None
    """An inclusive range: one status, or a class such as 500-599."""
    hop: str | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.since is not None:
            clauses.append(AuditRecord.occurred_at >= self.since)
        if self.until is not None:
            clauses.append(AuditRecord.occurred_at < self.until)
        if self.client is not None:
            clauses.append(AuditRecord.caller == self.client)
        if self.service is not None:
            clauses.append(AuditRecord.service == self.service)
        if self.statuses is not None:
            clauses.append(AuditRecord.status.between(*self.statuses))
        if self.hop is not None:
            clauses.append(AuditRecord.hop == self.hop)
        return clauses

    def admit(self, record: AuditRecord) -> bool:
        """The same test as `clauses`, on a record already read."""
        return (
            (self.since is None or record.occurred_at >= self.since)
            and (self.until is None or record.occurred_at < self.until)
            and (self.client is None or record.caller == self.client)
            and (self.service is None or record.service == self.service)
            and (self.statuses is None or self.statuses[0] <= record.status <= self.statuses[1])
            and (self.hop is None or record.hop == self.hop)
        )


class ChainLink(NamedTuple):
    """A chain's newest link, as the writer reads and moves it."""

    seq: int
    hash: str


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def head(self, instance: str, *, for_update: bool = False) -> AuditHead | None:
        """The chain's head; `for_update` row-locks it on PostgreSQL (SQLite locks the file)."""
        statement = select(AuditHead).where(AuditHead.instance == instance)
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def lock_head(self, instance: str) -> ChainLink:
        """Lock the head for appending, first creating it at the genesis link if missing.

        `INSERT … ON CONFLICT DO NOTHING` makes creation race-free: a concurrent creator waits
        for ours and then inserts nothing, and both go on to lock the same row. On PostgreSQL
        the row stays locked until the transaction ends (SQLite locks the whole file).
        """
        locked = (
            select(_HEADS.c.seq, _HEADS.c.hash)
            .where(_HEADS.c.instance == instance)
            .with_for_update()
        )
        row = (await self.session.execute(locked)).first()
        if row is None:
            dialect = self.session.get_bind().dialect.name
            await self.session.execute(_insert_genesis_head(dialect, instance))
            row = (await self.session.execute(locked)).first()
        if row is None:  # pragma: no cover - the row was just inserted or found
            raise RuntimeError(f"audit head for {instance!r} vanished while locked")
        return ChainLink(row.seq, row.hash)

    async def move_head(self, instance: str, head: ChainLink) -> None:
        """Point the (locked) head at the chain's new newest link."""
        await self.session.execute(
            update(_HEADS).where(_HEADS.c.instance == instance).values(seq=head.seq, hash=head.hash)
        )

    async def add_linked(self, links: Sequence[Link]) -> None:
        """Insert linked records in one executemany: no ORM objects, no ids read back."""
        if links:
            await self.session.execute(
                insert(_RECORDS),
                [
                    {**row_values(entry), "seq": seq, "prev_hash": prev_hash, "hash": digest}
                    for entry, seq, prev_hash, digest in links
                ],
            )

    async def by_request_id(
        self, request_id: str, *, instance: str | None = None
    ) -> list[AuditRecord]:
        """Every hop of one request in the order they began (`occurred_at`); ties in the order
        the log took them (`id` follows `seq` in each instance: ids are drawn under the head's
        lock). Not chain order: a call's `inbound` hop is recorded last, once its answer is
        known, after the hops it caused and the `pending` one."""
        statement = (
            select(AuditRecord)
            .where(AuditRecord.request_id == request_id)
            .order_by(AuditRecord.occurred_at, AuditRecord.id)
        )
        if instance is not None:
            statement = statement.where(AuditRecord.instance == instance)
        return list((await self.session.execute(statement)).scalars())

    async def page(
        self, instance: str, filters: AuditFilters, *, after: int, limit: int
    ) -> list[AuditRecord]:
        """One page of an instance's records in chain (`seq`) order, after the `after` seq."""
        statement = (
            select(AuditRecord)
            .where(AuditRecord.instance == instance, AuditRecord.seq > after, *filters.clauses())
            .order_by(AuditRecord.seq)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def iter_chain(
        self, instance: str, *, batch_size: int = 1000
    ) -> AsyncIterator[AuditRecord]:
        """One instance's records in `seq` order, fetched by keyset so memory stays bounded.

        The session's identity map holds loaded records weakly, so records the caller has
        finished with are freed.
        """
        after = 0  # seq starts at 1
        while True:
            statement = (
                select(AuditRecord)
                .where(AuditRecord.instance == instance, AuditRecord.seq > after)
                .order_by(AuditRecord.seq)
                .limit(batch_size)
            )
            batch: Sequence[AuditRecord] = (await self.session.execute(statement)).scalars().all()
            for record in batch:
                yield record
            if len(batch) < batch_size:
                return
            after = batch[-1].seq

    async def instances(self) -> list[str]:
        """Instances that have records or a head: a head without records is a finding too."""
        both = union(select(AuditRecord.instance), select(AuditHead.instance)).subquery()
        statement = select(both.c.instance).order_by(both.c.instance)
        return list((await self.session.execute(statement)).scalars())


def _insert_genesis_head(dialect: str, instance: str) -> Executable:
    values = {"instance": instance, "seq": 0, "hash": GENESIS_HASH}
    if dialect in ("postgresql", "sqlite"):
        return conflict_insert(dialect)(AuditHead).values(values).on_conflict_do_nothing()
    raise ValueError(f"the audit log runs on SQLite and PostgreSQL, not on {dialect!r}")
