"""The stateful mocks' skeleton: the lifespan opens the database, seeds it once and opens the
mock's state; the reset route seeds again in one transaction; a store adds a row, and keeps a key,
once.

On SQLite only, but for a write interleaved with a reset (`db_url`): the recipes underneath
(`mocks.reset`, `kit.db`) run on both databases through each mock's own tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import String, UniqueConstraint, event, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import mocks.stateful
from kit.db import make_engine, make_session_factory, named_metadata
from mocks.config import SystemConfig
from mocks.db import ChangeWatch, MockDatabase
from mocks.reset import RESET_PATH, Reseeded
from mocks.stateful import lifespan_state, stateful_app, write_transaction
from mocks.store import InstanceStore
from tests.fixtures.apps import serving

pytestmark = pytest.mark.anyio

STATE_KEY = "toy"


class ToyBase(DeclarativeBase):
    metadata = named_metadata()


class Thing(ToyBase):
    """A row of one instance, known by its key (unique in the instance), with a body."""

    __tablename__ = "toy_thing"
    __table_args__ = (UniqueConstraint("instance", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(String(40), default="")


@dataclass
class Toy:
    """What the toy mock's lifespan opened, and a trace of what the skeleton asked of it."""

    database: MockDatabase
    seeds: list[str] = field(default_factory=list)
    closed: bool = False


@dataclass
class Calls:
    seeds: int = 0
    opened: list[Toy] = field(default_factory=list)


def toy_app(
    url: str,
    calls: Calls,
    *,
    instance: str = "kiengiang",
    sole_writer: bool = False,
    **options: Any,
) -> FastAPI:
    """A mock with one table, seeded with two things unless it has some of its instance."""

    async def seed(session: AsyncSession) -> int:
        calls.seeds += 1
        mine = select(func.count()).select_from(Thing).where(Thing.instance == instance)
        if await session.scalar(mine):
            return 0
        session.add_all([Thing(instance=instance, key=name) for name in ("a", "b")])
        return 2

    async def open_state(database: MockDatabase, stack: AsyncExitStack) -> Toy:
        toy = Toy(database)
        calls.opened.append(toy)

        async def close() -> None:
            toy.closed = True

        stack.push_async_callback(close)
        return toy

    config = SystemConfig(instance=instance, database_url=url, sole_writer=sole_writer)
    app = stateful_app(
        config,
        title="Toy",
        description="A mock with one table.",
        metadata=ToyBase.metadata,
        state_key=STATE_KEY,
        open_state=open_state,
        **{"seed": seed, **options},
    )

    @app.post("/things/{name}")
    async def add(name: str, request: Request) -> dict[str, str]:
        toy = lifespan_state(request, STATE_KEY, Toy)
        async with write_transaction(toy.database.sessions) as session:
            session.add(Thing(instance=instance, key=name))
        return {"added": name}

    return app


def reseeded(deleted: int, seeded: int = 2) -> dict[str, object]:
    """What a reset answers that deleted `deleted` rows and seeded again."""
    return {"deleted": deleted, "seeded": seeded, "unchanged": False}


LEFT_AS_SEEDED = {"deleted": 0, "seeded": 2, "unchanged": True}
"""What a reset answers that found a sole writer's rows as seeded: it changes nothing."""


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app, "http://toy.test") as client:
        yield client


async def names(url: str, instance: str | None = None) -> list[str]:
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            query = select(Thing.key).order_by(Thing.id)
            if instance is not None:
                query = query.where(Thing.instance == instance)
            return list((await session.scalars(query)).all())
    finally:
        await engine.dispose()


@pytest.fixture(name="url")
def fx_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'toy.db'}"


async def test_lifespan_seeds_then_opens_the_state_and_closes_it_at_shutdown(url: str) -> None:
    calls = Calls()

    async with running(toy_app(url, calls)) as client:
        assert (await client.post("/things/c")).json() == {"added": "c"}
        assert calls.opened[0].closed is False

    assert calls.seeds == 1
    assert calls.opened[0].closed is True
    assert await names(url) == ["a", "b", "c"]


async def test_a_second_start_on_the_same_database_seeds_nothing_again(url: str) -> None:
    async with running(toy_app(url, Calls())):
        pass
    async with running(toy_app(url, Calls())):
        pass

    assert await names(url) == ["a", "b"]


async def test_reset_deletes_the_instances_rows_and_seeds_again_from_the_snapshot(
    url: str,
) -> None:
    calls = Calls()
    async with running(toy_app(url, Calls(), instance="tiengiang")):
        pass

    async with running(toy_app(url, calls)) as client:
        await client.post("/things/c")
        first = await client.post(RESET_PATH)
        await client.post("/things/d")
        second = await client.post(RESET_PATH)

    assert first.json() == second.json() == reseeded(3)
    assert calls.seeds == 1  # at start, on no row of its own: both resets copy what it wrote
    assert await names(url, "kiengiang") == ["a", "b"]
    assert await names(url, "tiengiang") == ["a", "b"]  # another instance's rows stay


async def test_after_a_start_on_kept_rows_the_first_reset_seeds_through_the_mocks_code(
    url: str,
) -> None:
    async with running(toy_app(url, Calls())) as client:
        await client.post("/things/c")
    calls = Calls()

    async with running(toy_app(url, calls, sole_writer=True)) as client:
        first = await client.post(RESET_PATH)
        await client.post("/things/d")
        second = await client.post(RESET_PATH)

    # the kept rows may be anyone's: not a snapshot, nor known to be as seeded
    assert first.json() == second.json() == reseeded(3)
    assert calls.seeds == 2  # at start (it found rows: wrote none), and at the first reset
    assert await names(url) == ["a", "b"]


async def test_a_sole_writer_untouched_since_its_last_reset_is_left_as_it_is(url: str) -> None:
    async with running(toy_app(url, Calls(), sole_writer=True)) as client:
        first = await client.post(RESET_PATH)
        await client.get("/openapi.json")
        second = await client.post(RESET_PATH)

    # its start seeded an empty database: the rows are known to be as seeded
    assert first.json() == second.json() == LEFT_AS_SEEDED
    assert await names(url) == ["a", "b"]


async def test_a_sole_writer_written_since_its_last_reset_is_seeded_again(url: str) -> None:
    async with running(toy_app(url, Calls(), sole_writer=True)) as client:
        await client.post(RESET_PATH)
        await client.post("/things/c")
        again = await client.post(RESET_PATH)

    assert again.json() == reseeded(3)
    assert await names(url) == ["a", "b"]


async def test_a_write_in_plain_sql_on_the_mocks_engine_counts_as_a_change(url: str) -> None:
    calls = Calls()
    async with running(toy_app(url, calls, sole_writer=True)) as client:
        await client.post(RESET_PATH)
        async with calls.opened[0].database.engine.begin() as connection:
            await connection.execute(text("DELETE FROM toy_thing WHERE key = 'a'"))
        again = await client.post(RESET_PATH)

    assert again.json() == reseeded(1)
    assert await names(url) == ["a", "b"]


async def test_a_reset_whose_commit_failed_is_not_taken_for_a_clean_mock(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = Calls()
    async with running(toy_app(url, calls, sole_writer=True)) as client:
        await client.post(RESET_PATH)
        await client.post("/things/c")
        real_commit = AsyncSession.commit

        async def failing(_session: AsyncSession) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(AsyncSession, "commit", failing)
        with pytest.raises(OSError, match="disk full"):
            await client.post(RESET_PATH)
        monkeypatch.setattr(AsyncSession, "commit", real_commit)
        again = await client.post(RESET_PATH)

    assert again.json() == reseeded(3)
    assert await names(url) == ["a", "b"]


async def test_without_a_sole_writer_every_reset_deletes_and_seeds_again(url: str) -> None:
    async with running(toy_app(url, Calls())) as client:
        await client.post(RESET_PATH)
        again = await client.post(RESET_PATH)

    assert again.json() == reseeded(2)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT * FROM toy_thing", 0),
        ("  select 1", 0),
        ("PRAGMA foreign_keys=ON", 0),
        ("BEGIN IMMEDIATE", 0),
        ("SAVEPOINT sa_1", 0),
        ("INSERT INTO toy_thing (key) VALUES (?)", 1),
        ("update toy_thing set body = ''", 1),
        ("DELETE FROM toy_thing", 1),
        ("WITH gone AS (SELECT 1) DELETE FROM toy_thing", 1),
        ("CREATE TABLE t (x)", 1),
    ],
)
def test_a_change_watch_counts_every_statement_but_the_reading_ones(
    statement: str, writes: int
) -> None:
    watch, connection = ChangeWatch(), object()
    watch.mark_clean(watch.reset_began(connection))

    watch.executed(connection, statement)
    watch.committing(connection)
    watch.released(connection)

    assert watch.writes == writes
    assert watch.unchanged is (writes == 0)


async def test_a_national_reset_deletes_every_row(url: str) -> None:
    async with running(toy_app(url, Calls(), instance="tiengiang")):
        pass

    async with running(toy_app(url, Calls(), per_instance=False)) as client:
        answer = await client.post(RESET_PATH)
        again = await client.post(RESET_PATH)

    assert answer.json() == reseeded(4)
    assert again.json() == reseeded(2)
    assert await names(url) == ["a", "b"]


async def test_a_national_mock_started_on_an_empty_database_resets_from_its_start(url: str) -> None:
    calls = Calls()
    async with running(toy_app(url, calls, per_instance=False)) as client:
        await client.post("/things/c")
        answer = await client.post(RESET_PATH)

    assert answer.json() == reseeded(3)
    assert calls.seeds == 1
    assert await names(url) == ["a", "b"]


async def test_a_mock_without_seed_starts_empty_and_resets_to_empty(url: str) -> None:
    app = toy_app(url, Calls(), seed=None)

    async with running(app) as client:
        await client.post("/things/c")
        answer = await client.post(RESET_PATH)

    assert answer.json() == reseeded(1, seeded=0)
    assert await names(url) == []


async def test_a_sole_writer_without_seed_started_on_no_rows_is_left_as_it_is(url: str) -> None:
    async with running(toy_app(url, Calls(), seed=None, sole_writer=True)) as client:
        answer = await client.post(RESET_PATH)

    assert answer.json() == {"deleted": 0, "seeded": 0, "unchanged": True}


async def test_a_seed_that_loses_a_race_to_another_process_does_not_stop_the_start(
    url: str,
) -> None:
    async def losing(_session: AsyncSession) -> int:
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    async with running(toy_app(url, Calls(), seed=losing)) as client:
        assert (await client.post("/things/c")).status_code == 200

    assert await names(url) == ["c"]


async def test_the_reset_route_is_not_in_the_mocks_openapi(url: str) -> None:
    async with running(toy_app(url, Calls())) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]

    assert RESET_PATH not in paths
    assert "/things/{name}" in paths


async def test_state_without_a_lifespan_is_a_clear_error(url: str) -> None:
    app = toy_app(url, Calls())
    transport = httpx.ASGITransport(app=app)  # no LifespanManager: STYLE.md Part 2, trap 2
    async with httpx.AsyncClient(transport=transport, base_url="http://toy.test") as client:
        with pytest.raises(RuntimeError, match="lifespan"):
            await client.post("/things/c")


async def insert_then_fail(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with write_transaction(sessions) as session:
        session.add(Thing(instance="kiengiang", key="lost"))
        raise ValueError("refused")


@asynccontextmanager
async def toy_database(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The toy's tables without its app, for the pieces the app is built from."""
    engine = make_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(ToyBase.metadata.create_all)
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


async def test_write_transaction_commits_at_the_end_and_rolls_back_on_an_error(url: str) -> None:
    async with toy_database(url) as sessions:
        async with write_transaction(sessions) as session:
            session.add(Thing(instance="kiengiang", key="kept"))
        with pytest.raises(ValueError, match="refused"):
            await insert_then_fail(sessions)

    assert await names(url) == ["kept"]


class ToyStore(InstanceStore):
    async def add(self, name: str) -> bool:
        return await self._added(Thing(instance=self.instance, key=name))

    async def claim(self, key: str, body: str) -> tuple[str, bool]:
        kept, new = await self._claim(Thing(instance=self.instance, key=key, body=body))
        return kept.body, new


async def test_a_store_adds_a_row_once_and_its_transaction_goes_on(url: str) -> None:
    async with toy_database(url) as sessions, write_transaction(sessions) as session:
        store = ToyStore(session, "kiengiang")
        added = [await store.add("a"), await store.add("a"), await store.add("b")]

    assert added == [True, False, True]
    assert await names(url) == ["a", "b"]


async def test_a_store_keeps_a_key_once_per_instance_and_finds_the_first(url: str) -> None:
    async with toy_database(url) as sessions, write_transaction(sessions) as session:
        here, there = ToyStore(session, "kiengiang"), ToyStore(session, "tiengiang")
        claims = [
            await here.claim("k1", "first"),
            await here.claim("k1", "second"),
            await there.claim("k1", "elsewhere"),
        ]

    assert claims == [("first", True), ("first", False), ("elsewhere", True)]


# A write interleaved with a reset, on both databases: the reset must not leave the mock
# marked as seeded while that write's row may have outlived it (`ChangeWatch`).


def engine_of(calls: Calls) -> AsyncEngine:
    return calls.opened[0].database.engine


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_write_uncommitted_while_a_reset_ran_is_not_taken_for_a_clean_mock(
    db_url: str,
) -> None:
    """PostgreSQL only: the reset's DELETE does not see the row, which lands when the write
    commits after the reset. (On SQLite the write holds the file's lock: the reset waits.)"""
    calls, written, reset_done = Calls(), asyncio.Event(), asyncio.Event()
    async with running(toy_app(db_url, calls, sole_writer=True)) as client:

        async def write_across_the_reset() -> None:
            async with engine_of(calls).connect() as connection:
                await connection.execute(insert(Thing).values(instance="kiengiang", key="late"))
                written.set()
                await reset_done.wait()
                await connection.commit()

        writer = asyncio.create_task(write_across_the_reset())
        await written.wait()
        first = await client.post(RESET_PATH)
        reset_done.set()
        await writer
        second = await client.post(RESET_PATH)

    assert first.json()["unchanged"] is False  # the write was open: the mock is not clean
    assert second.json() == reseeded(3)
    assert await names(db_url) == ["a", "b"]


async def test_a_write_sent_while_a_reset_holds_its_transaction_is_not_taken_for_clean(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite: the write's INSERT waits for the reset's lock, then commits after it (a count
    taken when the statement was sent, before it ran, was inside the reset's). PostgreSQL: it
    runs and commits while the reset's transaction is open, unseen by its DELETE."""
    calls, holding, release, sent = Calls(), asyncio.Event(), asyncio.Event(), asyncio.Event()
    real_reseed = mocks.stateful.reseed

    async def reseed_then_hold(*args: Any, **kwargs: Any) -> Reseeded:
        done = await real_reseed(*args, **kwargs)
        holding.set()
        await release.wait()  # still in the reset's transaction, before its commit
        return done

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if holding.is_set() and statement.lstrip().upper().startswith("INSERT"):
            sent.set()  # the reset's own inserts are done: the writer's, handed to the driver

    async with running(toy_app(db_url, calls, sole_writer=True)) as client:
        await client.post("/things/c")  # the next reset has rows to delete
        monkeypatch.setattr(mocks.stateful, "reseed", reseed_then_hold)
        event.listen(engine_of(calls).sync_engine, "before_cursor_execute", seen)

        async def write() -> None:
            await holding.wait()
            async with engine_of(calls).begin() as connection:
                await connection.execute(insert(Thing).values(instance="kiengiang", key="late"))

        resetting = asyncio.create_task(client.post(RESET_PATH))
        writer = asyncio.create_task(write())
        await sent.wait()
        release.set()
        first, _ = await asyncio.gather(resetting, writer)
        monkeypatch.undo()
        second = await client.post(RESET_PATH)

    assert first.json() == second.json() == reseeded(3)
    assert await names(db_url) == ["a", "b"]


async def test_a_write_rolled_back_leaves_a_sole_writer_as_seeded(url: str) -> None:
    """A write changes the rows only once committed: one rolled back is no reason to seed."""
    calls = Calls()
    async with running(toy_app(url, calls, sole_writer=True)) as client:
        async with engine_of(calls).connect() as connection:
            await connection.execute(insert(Thing).values(instance="kiengiang", key="undone"))
            await connection.rollback()
        answer = await client.post(RESET_PATH)

    assert answer.json() == LEFT_AS_SEEDED
    assert await names(url) == ["a", "b"]


def test_a_connection_holding_an_uncommitted_write_keeps_the_mock_from_being_unchanged() -> None:
    watch, reset, writer = ChangeWatch(), object(), object()
    watch.mark_clean(watch.reset_began(reset))

    watch.executed(writer, "INSERT INTO toy_thing (key) VALUES (?)")
    held = watch.unchanged
    watch.rolling_back(writer)
    watch.released(writer)

    assert (held, watch.unchanged, watch.writes) == (False, True, 0)
