"""Fixtures shared by every tier: the async backend, a clean environment, and databases.

The `engine` fixture is parametrised over SQLite and PostgreSQL (`tests/fixtures/database.py`
says when the PostgreSQL case runs). Creating the tables costs a third of a second, so SQLite
databases are copies of one made at the start of the run, and PostgreSQL's schema is emptied
and filled again only for the tests that ask for an `engine`.
"""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.db import Base, make_engine, make_session_factory
from lgsp.settings import Settings
from tests.fixtures.database import (
    database_url_for,
    drop_postgresql_schema,
    wipe_postgresql_schema,
)

if TYPE_CHECKING:
    from tests.fixtures.bus import BusPool

pytest_plugins = ["tests.fixtures.bus", "tests.fixtures.cli", "tests.fixtures.console"]

# No time limit per example: Hypothesis's default (200 ms) is a timed assertion, and on a
# loaded 2-core machine (xdist, helpers, CI neighbours) a property test failed for the clock
# alone (tests/unit/journal/test_capture.py, 2026-12-07). Speed lives in benchmarks/.
hypothesis_settings.register_profile("lgsp", deadline=None)
hypothesis_settings.load_profile("lgsp")


TEST_COLLECTION_THRESHOLDS = (50_000, 20, 20)
"""The collector's thresholds in a test process once its tests are collected (CPython's:
700, 10, 10)."""


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection made and make collections rarer, as `settle_heap` does for a
    server (lgsp/cli/_serve.py). A worker holds every test module, item and parametrised value
    of the run and builds and drops buses all along: with CPython's thresholds a full
    collection walked that whole heap every few tests (tests/unit/mocks alone, one process: 23
    full collections, 5.0 s of its 32.7 s of CPU in the collector; 2.5 s with these). A test
    that needs a collection makes one (`gc.collect()`); the tests of `settle_heap` unfreeze
    the heap and put their thresholds back."""
    gc.freeze()
    gc.set_threshold(*TEST_COLLECTION_THRESHOLDS)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


CHECKOUT_DATA_DIR = Path(Settings.model_fields["data_dir"].default).resolve()
"""The bus's default data dir where the suite runs (`./.lgsp`, `make run`'s in the checkout):
the user's bus, which no test may touch; every bus and command in a test gets a folder of
its own under tmp."""
_SQLITE_TRANSIENT = ("-wal", "-shm", "-journal")


def _data_dir_files() -> set[str]:
    """What the checkout's data dir holds, by name (SQLite's transient files aside: a `make
    run` serving in this checkout while the suite runs opens and closes them)."""
    if not CHECKOUT_DATA_DIR.exists():
        return set()
    return {
        str(path.relative_to(CHECKOUT_DATA_DIR.parent))
        for path in [CHECKOUT_DATA_DIR, *CHECKOUT_DATA_DIR.rglob("*")]
        if not path.name.endswith(_SQLITE_TRANSIENT)
    }


def _assert_untouched(before: set[str], during: str) -> None:
    made = sorted(_data_dir_files() - before)
    assert not made, (
        f"{during} wrote into the checkout's default data dir (the user's `make run` bus): "
        f"{made[:10]}; give its bus or command a data dir under tmp (with xdist, a test of "
        "another worker running alongside may be the one)"
    )


@pytest.fixture(scope="session", autouse=True)
def checkout_data_dir_untouched() -> Iterator[None]:
    """Fails the run if its session-scoped fixtures (a module's bus stopping) wrote there."""
    before = _data_dir_files()
    yield
    _assert_untouched(before, "this run's session fixtures")


@pytest.fixture(autouse=True)
def no_test_writes_checkout_data_dir() -> Iterator[None]:
    """Fails the test that made a file in the checkout's `.lgsp` (checked by names: a stat when
    it does not exist, as in CI)."""
    before = _data_dir_files()
    yield
    _assert_untouched(before, "this test")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's shell must not leak LGSP_* settings into a test run. The run is in the
    seeds' era 2024 (kiengiang, tiengiang …), as `bus_settings`: most tests are tests of the
    seeded records; tests of today's map (the default) say era 2026.

    A `Settings()` or in-process command given no data dir gets one of the test's own (made
    when first written, as `./.lgsp` is), not the checkout's: one for the whole run was tried,
    and tests of several workers then shared its database ("database is locked")."""
    for name in list(os.environ):
        if name.startswith("LGSP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LGSP_ERA", "2024")
    monkeypatch.setenv("LGSP_DATA_DIR", str(tmp_path / "default-data-dir"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url_for(request.param, tmp_path)


@pytest.fixture(scope="session", autouse=True)
def drop_test_schema() -> Iterator[None]:
    yield
    drop_postgresql_schema()


@pytest.fixture(scope="session")
async def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table of the gateway, made once per run."""
    import lgsp.models  # noqa: F401 - registers every table

    url = database_url_for("sqlite", tmp_path_factory.mktemp("template"))
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    await engine.dispose()
    return Path(make_url(url).database or "")


@pytest.fixture
def sqlite_file(sqlite_template: Path, tmp_path: Path) -> str:
    """A gateway database file of the test's own, for a test about SQLite itself (its write
    lock, the audit writer's thread): such a test has no PostgreSQL case (rather than one that
    skips)."""
    path = tmp_path / "gateway.db"
    shutil.copyfile(sqlite_template, path)
    return str(path)


@pytest.fixture
async def file_sessions(sqlite_file: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(f"sqlite+aiosqlite:///{sqlite_file}")
    yield make_session_factory(engine)
    await engine.dispose()


@pytest.fixture(name="db_url")
async def fx_db_url(database_url: str, bus_pool: BusPool) -> str:
    """The test's database, holding nothing: a file of the test's own on SQLite, this run's
    schema wiped on PostgreSQL (the module's shared bus, whose tables those are, stopped
    first). For a mock, which creates its own tables, or a test of creating them."""
    if make_url(database_url).get_backend_name() == "postgresql":
        await bus_pool.close()
        wipe_postgresql_schema()
    return database_url


@pytest.fixture
async def engine(
    database_url: str, sqlite_template: Path, bus_pool: BusPool
) -> AsyncIterator[AsyncEngine]:
    """A database with every table freshly created, and no rows: a copy of the template on
    SQLite; on PostgreSQL this run's schema wiped (the mocks' tables too) and filled again, so
    the module's shared bus, whose tables those are, is stopped first. A test that reads the
    database of the bus it calls asks for `bus.engine` instead."""
    await bus_pool.close()

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        shutil.copyfile(sqlite_template, url.database or "")
        engine = make_engine(database_url)
    else:
        wipe_postgresql_schema()
        engine = make_engine(database_url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


# Tiers by cost (pyproject.toml `markers`; `make test` runs all but processes and postgresql).
DATABASE_PARAMS = ("database_url", "bus_database_url", "contract_database_url")
# Cases that exist on SQLite only (fixture, param): their PostgreSQL combination is not a test,
# so it is deselected (and counted as such) rather than collected and skipped.
SQLITE_ONLY = {("new_writer", "sqlite-thread")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the tiers its fixtures put it in; `processes` is marked by hand."""
    two_databases = []
    kept, impossible = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgresql = any(params.get(name) == "postgresql" for name in DATABASE_PARAMS)
        if on_postgresql and any(params.get(name) == value for name, value in SQLITE_ONLY):
            impossible.append(item)
        else:
            kept.append(item)
    if impossible:
        config.hook.pytest_deselected(items=impossible)
        items[:] = kept
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if len([name for name in DATABASE_PARAMS if name in params]) > 1:
            two_databases.append(item.nodeid)
        if fixtures & {"shared_bus", "contract_bus"}:
            item.add_marker("bus")
        if fixtures & {"engine", *DATABASE_PARAMS}:
            item.add_marker("database")
        if any(params.get(name) == "postgresql" for name in DATABASE_PARAMS):
            item.add_marker("postgresql")
    items[:] = bus_groups_together(items)
    if two_databases:
        raise pytest.UsageError(
            "These tests ask for two databases, the module bus's (`settings`) and a fresh one "
            "(`engine`, `database_url`); use `bus.engine` or `fresh_settings`:\n"
            + "\n".join(two_databases)
        )


def bus_groups_together(items: list[pytest.Item]) -> list[pytest.Item]:
    """Each module's tests in an order that builds its bus as few times as it can.

    The shared bus is built again whenever a test asks for other settings than the test before
    (`BusPool`), or after a test stopped it: one asking for an `engine` or `fresh_settings`, one
    with a bus of its own (`bus_pool` itself), one that spoils it. A class of other settings in
    the middle of a module, or such a test, made the module build its bus again after it (ten
    modules: 42 buses for 34 settings). So within each run of a module's tests on one database
    (what pytest keeps together), the tests of the bus of each settings run together, in the
    order the first of each comes in, the others after them; every group in file order."""
    ordered: list[pytest.Item] = []
    run: list[pytest.Item] = []
    for item in items:
        if run and _run_of(item) != _run_of(run[0]):
            ordered += _grouped(run)
            run = []
        run.append(item)
    return ordered + _grouped(run)


def _run_of(item: pytest.Item) -> tuple[object, ...]:
    """The module, and the values of the parameters of wider scope than a test (the database)."""
    info = getattr(item, "_fixtureinfo", None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    if info is None:
        return (item.nodeid.split("::")[0],)
    wide = sorted(
        (name, repr(value))
        for name, value in params.items()
        if name in info.name2fixturedefs and info.name2fixturedefs[name][-1].scope != "function"
    )
    return (item.nodeid.split("::")[0], *wide)


def _grouped(run: list[pytest.Item]) -> list[pytest.Item]:
    groups: dict[tuple[object, ...], list[pytest.Item]] = {}
    for item in run:
        groups.setdefault(_bus_group(item), []).append(item)
    first = [group for key, group in groups.items() if key[0] == 0]
    last = [group for key, group in groups.items() if key[0] == 1]
    return [item for group in first + last for item in group]


def _bus_group(item: pytest.Item) -> tuple[object, ...]:
    """(0, the settings) for a test of the shared bus; (1,) for one that stops it or builds its
    own; (0,) for one that does neither."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return (0,)
    closure = set(info.names_closure)
    if "bus_pool" not in closure:
        return (0,)
    if "shared_bus" not in closure or {"bus_pool", "spoiled_bus"} & set(info.initialnames):
        return (1,)
    seen: set[str] = set()
    pending = ["settings"]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending += [n for d in info.name2fixturedefs.get(name, ())[-1:] for n in d.argnames]
    (settings,) = info.name2fixturedefs["settings"][-1:]
    params = getattr(getattr(item, "callspec", None), "params", {})
    chosen = sorted((name, repr(value)) for name, value in params.items() if name in seen)
    return (0, settings.baseid, settings.func.__qualname__, *chosen)
