"""The CLI's small rules: how a token's expiry is read, and how long SQLite waits for a lock."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lgsp.cli import main
from lgsp.cli._clients import parse_expiry
from lgsp.db import SQLITE_BUSY_TIMEOUT_SECONDS
from lgsp.settings import Settings

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("1748854800", datetime(2025, 6, 2, 9, 0, tzinfo=UTC)),  # a JWT's exp claim
        ("2025-06-02T17:00:00+07:00", datetime(2025, 6, 2, 10, 0, tzinfo=UTC)),
        ("2025-06-02T09:30:00Z", datetime(2025, 6, 2, 9, 30, tzinfo=UTC)),
    ],
)
def test_expiry_is_read_as_epoch_seconds_or_iso_8601_with_an_offset(
    given: str, expected: datetime
) -> None:
    assert parse_expiry(given, now=NOW) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("soon", "give seconds since 1970"),
        ("2025-06-02T17:00:00", "has no offset"),
        ("2025-06-02T07:59:59Z", "is past"),
        ("1748840400", "is past"),  # exactly now
        ("inf", "out of range"),
        ("1e300", "out of range"),
        ("9999-12-31T23:59:59-07:00", "out of range"),  # past year 9999 once in UTC
    ],
)
def test_expiry_that_cannot_be_used_is_refused(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_expiry(given, now=NOW)


def test_sqlite_busy_timeout_is_a_setting() -> None:
    assert Settings(_env_file=None).sqlite_busy_timeout_seconds == 30.0  # type: ignore[call-arg]


def test_a_locked_database_fails_the_command_after_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command gives up after the setting's 0.3 s, before a writer that waits the default
    30 s for the same lock, and began waiting first, does: that writer gets the lock once it
    is let go. Had the command waited the default, the writer would have given up first."""
    database = tmp_path / "lgsp.db"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")  # as the bus leaves it: only writers wait
    holder.execute("CREATE TABLE holder (x)")
    holder.execute("BEGIN IMMEDIATE")  # another process writing, lock held
    patient = sqlite3.connect(
        database,
        timeout=SQLITE_BUSY_TIMEOUT_SECONDS,
        isolation_level=None,
        check_same_thread=False,
    )
    monkeypatch.setenv("LGSP_SQLITE_BUSY_TIMEOUT_SECONDS", "0.3")
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(patient.execute, "BEGIN IMMEDIATE")
        try:
            code = main(
                ["clients", "create", "--instance", "kiengiang", "--name", "x"]
                + ["--data-dir", str(tmp_path)]
            )
        finally:
            holder.rollback()
            holder.close()
        waiting.result()  # raises "database is locked" had the patient writer given up
    patient.rollback()
    patient.close()

    assert code == 1
    assert capsys.readouterr().err == "lgsp: the database refused: database is locked\n"
