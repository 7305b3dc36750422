"""Signing keys are sealed in the database with a key kept outside it (probe, informational)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.auth import keys as auth_keys
from lgsp.auth.keys import KEY_FILE, KeyCipher, load_or_create_keys
from lgsp.auth.models import SigningKey
from lgsp.auth.repository import ClientRepository
from lgsp.db import make_session_factory
from lgsp.settings import Settings

pytestmark = pytest.mark.anyio


def settings_in(data_dir: Path, secret: str | None = None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=data_dir,
        signing_key_secret=None if secret is None else SecretStr(secret),
    )


async def stored_pems(engine: AsyncEngine) -> list[str]:
    async with make_session_factory(engine)() as session:
        return list(await session.scalars(select(SigningKey.private_pem)))


async def test_a_new_key_is_stored_sealed_and_the_key_file_is_private(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    cipher = KeyCipher.from_settings(settings_in(tmp_path))
    async with make_session_factory(engine).begin() as session:
        created = await load_or_create_keys(ClientRepository(session), "kiengiang", cipher)

    (stored,) = await stored_pems(engine)
    assert stored.startswith("fernet:")
    assert "PRIVATE KEY" not in stored
    assert stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode) == 0o600
    async with make_session_factory(engine)() as session:
        again = await load_or_create_keys(ClientRepository(session), "kiengiang", cipher)
    assert again.signing.private_pem == created.signing.private_pem


async def test_a_plain_pem_key_of_an_older_database_is_read_and_sealed(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    plain = auth_keys.generate_private_pem()
    async with make_session_factory(engine).begin() as session:
        await ClientRepository(session).add_signing_key(
            kid="kiengiang-old",
            instance="kiengiang",
            algorithm="RS256",
            private_pem=plain,
            created_at=datetime.now(UTC),
        )
    cipher = KeyCipher.from_settings(settings_in(tmp_path))

    async with make_session_factory(engine).begin() as session:
        keys = await load_or_create_keys(ClientRepository(session), "kiengiang", cipher)

    assert (keys.signing.kid, keys.signing.private_pem) == ("kiengiang-old", plain)
    (stored,) = await stored_pems(engine)
    assert stored.startswith("fernet:")
    assert cipher.open("kiengiang-old", stored) == plain


async def test_a_key_sealed_by_another_bus_is_refused_with_a_clear_error(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    async with make_session_factory(engine).begin() as session:
        await load_or_create_keys(
            ClientRepository(session), "kiengiang", KeyCipher.from_settings(settings_in(tmp_path))
        )
    other = KeyCipher.from_settings(settings_in(tmp_path / "elsewhere"))

    async with make_session_factory(engine)() as session:
        with pytest.raises(ValueError, match="LGSP_SIGNING_KEY_SECRET"):
            await load_or_create_keys(ClientRepository(session), "kiengiang", other)


def test_the_same_secret_opens_what_another_process_sealed(tmp_path: Path) -> None:
    one = KeyCipher.from_settings(settings_in(tmp_path / "a", secret="s" * 32))
    two = KeyCipher.from_settings(settings_in(tmp_path / "b", secret="s" * 32))

    assert two.open("k", one.seal("pem")) == "pem"
    assert not (tmp_path / "a" / KEY_FILE).exists()  # the secret replaces the key file


def test_reading_commands_do_not_create_a_key_file(tmp_path: Path) -> None:
    assert KeyCipher.existing(settings_in(tmp_path)) is None
    assert not (tmp_path / KEY_FILE).exists()
