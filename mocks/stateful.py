"""The app every stateful mock is built on: its database, its seed, its reset route.

A stateful mock keeps its data in its own tables (`mocks.db`). Its lifespan opens that
database, seeds it once, and opens whatever else the mock needs (its state, found by each
request in `request.state`); `POST /_lgsp/reset` seeds it again (`mocks.reset`). Each mock used
to write that skeleton itself; `stateful_app` is it once, and a mock adds its routes and its
envelope's error handlers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from fastapi import FastAPI, Request
from sqlalchemy import MetaData
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mocks.bus import BusClient
from mocks.config import NO_TELEMETRY, SystemConfig
from mocks.db import MockDatabase, connection_of, open_mock_database
from mocks.reset import (
    Reseeded,
    SeedSnapshot,
    add_reset_route,
    holds_no_rows,
    reseed,
    take_snapshot,
)

DATABASE_KEY = "mock_database"
"""Where the lifespan state keeps the mock's database, for the reset route."""

Seed = Callable[[AsyncSession], Awaitable[int]]
"""Write the mock's seeded records in the session's transaction unless they are there already;
answer how many top-level records it wrote (dossiers, documents)."""

OpenState = Callable[[MockDatabase, AsyncExitStack], Awaitable[object]]
"""Build the mock's state once its database is open and seeded; whatever must be closed at
shutdown goes on the stack."""

_State = TypeVar("_State")
_Store = TypeVar("_Store")


def stateful_app(
    config: SystemConfig,
    *,
    title: str,
    description: str,
    metadata: MetaData,
    state_key: str,
    open_state: OpenState,
    seed: Seed | None = None,
    per_instance: bool = True,
) -> FastAPI:
    """A mock's app with its lifespan and reset route; no routes or error handlers yet.

    `metadata` holds the mock's tables; `seed` (none: the mock starts empty) fills them.
    A reset deletes the rows of `config.instance`, or every row when `per_instance` is False
    (a national system, whose tables have no instance column).
    """

    # Without a seed the reset only deletes: a snapshot of nothing, taken once and for all.
    snapshot = SeedSnapshot() if seed is not None else SeedSnapshot(seeded=0)
    instance = config.instance if per_instance else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, object]]:
        async with AsyncExitStack() as stack:
            database = await stack.enter_async_context(
                open_mock_database(config.database_url, metadata)
            )
            await _seed_once(database, seed, metadata, instance=instance, snapshot=snapshot)
            state = await open_state(database, stack)
            yield {state_key: state, DATABASE_KEY: database}

    app = FastAPI(title=title, description=description, lifespan=lifespan, telemetry=NO_TELEMETRY)

    async def reset(request: Request) -> Reseeded:
        database = lifespan_state(request, DATABASE_KEY, MockDatabase)
        if config.sole_writer and snapshot.seeded is not None and database.watch.unchanged:
            return Reseeded(deleted=0, seeded=snapshot.seeded, unchanged=True)
        try:
            async with write_transaction(database.sessions) as session:
                mark = database.watch.reset_began(await connection_of(session))

                async def seed_again() -> int:
                    return await seed(session) if seed is not None else 0

                done = await reseed(
                    session, metadata, instance=instance, snapshot=snapshot, seed=seed_again
                )
                await session.flush()  # anything the commit would flush is counted as its own
                database.watch.reset_ends(mark)
        except BaseException:
            database.watch.forget()  # not committed: the rows are whatever they were
            raise
        database.watch.mark_clean(mark)  # committed: as seeded, unless a write came between
        return done

    add_reset_route(app, reset)
    return app


@dataclass(frozen=True)
class StoreContext(Generic[_Store]):
    """What the lifespan of a mock that keeps a store and calls its LGSP opens for every request,
    and the transactions its routes open the store in (always for `config.instance`)."""

    sessions: async_sessionmaker[AsyncSession]
    config: SystemConfig
    now: Callable[[], datetime]
    bus: BusClient
    """The system's client on its LGSP: what crosses instances is handed over there."""
    open_store: Callable[[AsyncSession, str], _Store]
    """The mock's store over a session, for an instance."""

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[_Store]:
        """One write transaction (`write_transaction`) with the instance's store."""
        async with write_transaction(self.sessions) as session:
            yield self.open_store(session, self.config.instance)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[_Store]:
        async with self.sessions() as session:
            yield self.open_store(session, self.config.instance)


def lifespan_state(request: Request, key: str, kind: type[_State]) -> _State:
    """What the lifespan put under `key`, or RuntimeError when no lifespan ran (STYLE.md Part 2,
    trap 2: without one, requests would fail far from the cause)."""
    state = getattr(request.state, key, None)
    if not isinstance(state, kind):
        raise RuntimeError(f"the lifespan of the mock keeping {key!r} has not run")
    return state


@asynccontextmanager
async def write_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One write transaction, committed when the block ends without an error.

    On SQLite `BEGIN IMMEDIATE` takes the write lock before the first read, so a transaction
    that reads and then writes cannot be overtaken between the two.
    """
    async with sessions() as session:
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session
        await session.commit()


async def _seed_once(
    database: MockDatabase,
    seed: Seed | None,
    metadata: MetaData,
    *,
    instance: str | None,
    snapshot: SeedSnapshot,
) -> None:
    """Seed in one transaction; a second process seeding at the same time loses harmlessly.

    When the seed wrote every row there is (it found none of its scope; a mock without a seed
    started on none), they are kept as the
    reset's snapshot and known to be as seeded: the first reset then has nothing to replay,
    and nothing to do at all if nothing wrote since. Rows that were there already (a restart
    on a kept database) may be anyone's: the first reset seeds through the mock's code.
    """
    taken: SeedSnapshot | None = None
    try:
        async with write_transaction(database.sessions) as session:
            mark = database.watch.reset_began(await connection_of(session))
            empty = await holds_no_rows(session, metadata, instance=instance)
            seeded = await seed(session) if seed is not None else 0
            if empty and (seeded or seed is None):
                taken = await take_snapshot(session, metadata, instance=instance, seeded=seeded)
            await session.flush()  # anything the commit would flush is counted as its own
            database.watch.reset_ends(mark)
    except IntegrityError:  # PostgreSQL: the other process's rows came first
        database.watch.forget()
        return
    except BaseException:
        database.watch.forget()
        raise
    if taken is not None:
        database.watch.mark_clean(mark)  # committed
        snapshot.rows, snapshot.seeded = taken.rows, taken.seeded
