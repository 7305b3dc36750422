"""How the bus puts a stateful mock back to its seeded state: one internal route per mock.

`POST /_lgsp/reset` deletes the mock's rows of its instance and seeds them again from the
configured seed, in **one** transaction: a request running beside it sees the old data or the
new, never a half-seeded mock. The first reset seeds through the mock's own code and keeps a
copy of the rows it wrote (`SeedSnapshot`), unless the mock's first seed at start kept it
already (`mocks.stateful`); later ones insert that copy again, one statement
per table, which is what makes a reset of the whole bus take tens of milliseconds rather than
the second that replaying every seeded step costs. A mock that is the sole writer of its rows
and has sent its database no write since the last reset is left alone (`mocks.db.ChangeWatch`).

The bus calls the route through the system's own transport (`lgsp.reset`), in-process or over
HTTP to a mock run as its own process. It is left out of the mock's OpenAPI and cannot be
reached through the gateway, whose adapters build every upstream path from a catalog
operation, and no operation names it. A mock without state has no such route: its 404 tells
the bus there is nothing to reset.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import ForeignKeyConstraint, MetaData, Select, Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from kit.protocol import RESET_PATH


@dataclass(frozen=True)
class Reseeded:
    deleted: int
    """Rows deleted (rows of child tables that go with them by cascade not counted)."""
    seeded: int
    """Top-level records seeded again (dossiers, documents)."""
    unchanged: bool = False
    """Nothing had changed the rows since the last reset: left alone (`mocks.db.ChangeWatch`)."""


ResetFunction = Callable[[Request], Awaitable[Reseeded]]


def add_reset_route(app: FastAPI, reset: ResetFunction) -> None:
    """Publish `reset` at `RESET_PATH`; it finds what it needs in the request's lifespan state."""

    @app.post(RESET_PATH, include_in_schema=False)
    async def reset_to_seed(request: Request) -> JSONResponse:
        done = await reset(request)
        return JSONResponse(
            {"deleted": done.deleted, "seeded": done.seeded, "unchanged": done.unchanged}
        )


@dataclass
class SeedSnapshot:
    """The rows one mock's seed wrote for its instance, table by table, once it has run."""

    seeded: int | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


async def reseed(
    session: AsyncSession,
    metadata: MetaData,
    *,
    instance: str | None,
    snapshot: SeedSnapshot,
    seed: Callable[[], Awaitable[int]],
) -> Reseeded:
    """Delete the instance's rows (`delete_rows`), then seed them again: by `seed()` the first
    time, keeping what it wrote in `snapshot`, and from `snapshot` afterwards.

    The caller owns the transaction; the snapshot keeps primary keys, so the rows come back
    exactly as seeded (the ids were the instance's own, and are free once deleted).
    """
    deleted = await delete_rows(session, metadata, instance=instance)
    if snapshot.seeded is None:
        seeded = await seed()
        taken = await take_snapshot(session, metadata, instance=instance, seeded=seeded)
        snapshot.rows, snapshot.seeded = taken.rows, taken.seeded
        return Reseeded(deleted=deleted, seeded=seeded)
    for table in metadata.sorted_tables:  # parents first
        rows = snapshot.rows.get(table.name)
        if rows:
            await session.execute(insert(table), rows)
    return Reseeded(deleted=deleted, seeded=snapshot.seeded)


async def take_snapshot(
    session: AsyncSession, metadata: MetaData, *, instance: str | None, seeded: int
) -> SeedSnapshot:
    """The rows of `metadata`'s tables that belong to `instance`, as the session sees them
    once flushed: taken in the transaction that seeded them, so they are the seed's own."""
    await session.flush()
    rows = {
        table.name: [
            dict(row) for row in (await session.execute(_rows_of(table, instance))).mappings()
        ]
        for table in metadata.sorted_tables
    }
    return SeedSnapshot(seeded=seeded, rows=rows)


async def holds_no_rows(session: AsyncSession, metadata: MetaData, *, instance: str | None) -> bool:
    """Whether `metadata`'s tables hold no row of `instance` (None: no row at all)."""
    for table in metadata.sorted_tables:
        if "instance" in table.c or instance is None:
            found = await session.execute(_rows_of(table, instance).limit(1))
            if found.first() is not None:
                return False
    return True


async def delete_rows(session: AsyncSession, metadata: MetaData, *, instance: str | None) -> int:
    """Delete every row of `metadata`'s tables that belongs to `instance` (None: every row).

    A table without an `instance` column must hang from one that has it through a foreign key
    with `ON DELETE CASCADE` (SQLite enforces it: `lgsp.db` turns `foreign_keys` on); any other
    table is refused, so that a new table cannot silently survive a reset.
    """
    deleted = 0
    for table in reversed(metadata.sorted_tables):
        if instance is None:
            deleted += await _delete(session, table, None)
        elif "instance" in table.c:
            deleted += await _delete(session, table, instance)
        elif not _cascades(table):
            raise ValueError(
                f"table {table.name} has no instance column and no ON DELETE CASCADE parent"
            )
    return deleted


async def _delete(session: AsyncSession, table: Table, instance: str | None) -> int:
    statement = delete(table)
    if instance is not None:
        statement = statement.where(table.c.instance == instance)
    result = await session.execute(statement)
    count: int = getattr(result, "rowcount", 0) or 0
    return count


def _cascades(table: Table) -> bool:
    return _parent_key(table) is not None


def _parent_key(table: Table) -> ForeignKeyConstraint | None:
    """The `ON DELETE CASCADE` key to a table with an `instance` column, if there is one."""
    for constraint in table.constraints:
        if (
            isinstance(constraint, ForeignKeyConstraint)
            and (constraint.ondelete or "").upper() == "CASCADE"
            and "instance" in constraint.referred_table.c
        ):
            return constraint
    return None


def _rows_of(table: Table, instance: str | None) -> Select[Any]:
    """The rows of `table` that `delete_rows` deletes for `instance`."""
    statement = select(table)
    if instance is None:
        return statement
    if "instance" in table.c:
        return statement.where(table.c.instance == instance)
    key = _parent_key(table)
    if key is None:  # pragma: no cover - delete_rows refused such a table first
        raise ValueError(f"table {table.name} has no instance column")
    parent = key.referred_table
    (element,) = key.elements
    owned = select(element.column).where(parent.c.instance == instance)
    return statement.where(element.parent.in_(owned))
