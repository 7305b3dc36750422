"""A first start makes every instance's signing key ahead, in threads, while the mocks seed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.auth import keys as auth_keys
from lgsp.auth.keys import KeyCipher, KeyForge, instances_without_keys, load_or_create_keys
from lgsp.auth.repository import ClientRepository
from lgsp.db import make_session_factory
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
