"""A first start makes every instance's signing key ahead, in threads, while the mocks seed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.auth import keys as auth_keys
from lgsp.auth.keys import KeyCipher, KeyForge, instances_without_keys, load_or_create_keys
from lgsp.auth.repository import ClientRepository
from lgsp.cli._serve import early_key_forge
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.apps import running
from tests.fixtures.bus import plain_settings

pytestmark = pytest.mark.anyio


@pytest.fixture(name="made_on")
def fx_made_on(monkeypatch: pytest.MonkeyPatch, key_pool: list[str]) -> list[str]:
    """The thread each key is made on, in order; the keys are the run's real ones."""
    threads: list[str] = []

    def make() -> str:
        threads.append(threading.current_thread().name)
        return key_pool[len(threads) % len(key_pool)]

    monkeypatch.setattr(auth_keys, "generate_private_pem", make)
    return threads


async def test_the_forge_makes_its_keys_off_the_event_loop_thread(made_on: list[str]) -> None:
    forge = KeyForge(2)
    try:
        made = [await forge.take(), await forge.take(), await forge.take()]
    finally:
        forge.close()

    assert len(made_on) == 3
    assert all(name != threading.current_thread().name for name in made_on)
    assert [name.startswith("lgsp-keys") for name in made_on[:2]] == [True, True]
    assert all(pem.startswith("-----BEGIN PRIVATE KEY-----") for pem in made)


async def test_an_instance_without_keys_takes_one_from_the_forge_and_then_has_one(
    engine: AsyncEngine, database_url: str, tmp_path: Path, made_on: list[str]
) -> None:
    cipher = KeyCipher.from_settings(plain_settings(database_url, tmp_path))
    forge = KeyForge(1)
    try:
        async with make_session_factory(engine).begin() as session:
            repository = ClientRepository(session)
            before = await instances_without_keys(repository, ["ndxp", "kiengiang"])
            keys = await load_or_create_keys(repository, "kiengiang", cipher, forge)
            after = await instances_without_keys(repository, ["ndxp", "kiengiang"])
    finally:
        forge.close()

    assert (before, after) == (["ndxp", "kiengiang"], ["ndxp"])
    assert keys.signing.kid.startswith("kiengiang-")
    assert made_on[0].startswith("lgsp-keys")


def early_forge_for(database_url: str, data_dir: Path) -> bool:
    forge = early_key_forge(plain_settings(database_url, data_dir), 1)
    if forge is not None:
        forge.close()
    return forge is not None


@pytest.mark.usefixtures("made_on")
def test_serve_begins_the_keys_before_the_bus_is_built_only_on_a_first_start(
    tmp_path: Path,
) -> None:
    sqlite_file = tmp_path / "lgsp.db"
    first = early_forge_for(f"sqlite+aiosqlite:///{sqlite_file}", tmp_path)
    sqlite_file.touch()  # what the first start left

    again = early_forge_for(f"sqlite+aiosqlite:///{sqlite_file}", tmp_path)
    postgresql = early_forge_for("postgresql+psycopg://lgsp@127.0.0.1/lgsp", tmp_path)

    assert (first, again, postgresql) == (True, False, False)


async def test_the_bus_takes_its_keys_from_a_forge_begun_before_it_was_built(
    fresh_settings: Settings, key_pool: list[str]
) -> None:
    """`lgsp serve` hands over the forge it began while importing the bus."""
    from lgsp.composition import create_bus

    class Begun(KeyForge):
        async def take(self) -> str:
            return key_pool[-1]  # not the first the pool hands out

    built: list[BusState] = []
    app = create_bus(fresh_settings, instances=["kiengiang"], on_ready=built.append, forge=Begun(0))
    async with running(app):
        pass

    assert built[0].instances["kiengiang"].keys.signing.private_pem == key_pool[-1]
