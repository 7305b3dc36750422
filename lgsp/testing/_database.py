"""A database of its own for a bus a test session starts, removed when the bus stops.

The bus keeps its signing keys in the database, sealed with a secret of its data dir, and a
test session's data dir is new every time: a bus started on the tables an earlier session (or
another pytest-xdist worker) filled cannot open their keys, and two buses on one SQLite file
wait on each other's locks and reset each other's data. So each session works apart from the
others: on PostgreSQL in a schema of its own, on SQLite in a file of its own beside the one
given. Every session's bus seeds an empty database, and the user's is left as it was found.

The bus's own test suite builds its PostgreSQL schemas with the same helpers
(`tests/fixtures/database.py`).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from lgsp.settings import Settings

SESSION_PREFIX = "lgsp_pytest_"
"""Schemas the plugin creates are `lgsp_pytest_<pid>_<random>`, SQLite files
`<name>-lgsp_pytest_<pid>_<random>.db` (and their `-systems` twin) beside the given one; a run
killed before its end leaves its own behind (`DROP SCHEMA … CASCADE`, `rm` remove it)."""
SQLITE_TRANSIENT = ("", "-wal", "-shm", "-journal")
_SEARCH_PATH = "-csearch_path="


@contextmanager
def own_database(database_url: str) -> Iterator[str]:
    """A database URL of this session's own while the block runs, made from `database_url`:
    a new schema of a PostgreSQL database, a new file beside a SQLite one; any other URL (an
    in-memory SQLite) as it is."""
    url = make_url(_normalised(database_url))
    name = f"{SESSION_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    if url.get_backend_name() == "postgresql":
        execute(database_url, f'CREATE SCHEMA "{name}"')
        try:
            yield in_schema(database_url, name)
        finally:
            execute(database_url, f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    elif url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        given = Path(url.database or "")
        own = given.with_name(f"{given.stem}-{name}{given.suffix}")
        own_url = url.set(database=str(own)).render_as_string(hide_password=False)
        systems = make_url(Settings(database_url=own_url).systems_database_url).database
        try:
            yield own_url
        finally:
            for path in (str(own), systems):
                for suffix in SQLITE_TRANSIENT:
                    with suppress(FileNotFoundError):
                        Path(f"{path}{suffix}").unlink()
    else:
        yield database_url


def in_schema(database_url: str, schema: str) -> str:
    """`database_url` with every connection's `search_path` set to `schema`: libpq `options`,
    after the URL's own, so that the bus, its mocks and any process given the URL use it."""
    url = make_url(_normalised(database_url))
    given = url.query.get("options", "")
    options = " ".join([*([given] if isinstance(given, str) else given), f"{_SEARCH_PATH}{schema}"])
    return url.update_query_dict({"options": options.strip()}).render_as_string(hide_password=False)


def schema_of(database_url: str) -> str | None:
    """The schema `in_schema` put `database_url` in; None for any other URL."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return None
    given = url.query.get("options", "")
    for option in " ".join([given] if isinstance(given, str) else given).split():
        if option.startswith(_SEARCH_PATH):
            return option.removeprefix(_SEARCH_PATH)
    return None


def execute(database_url: str, *statements: str) -> None:
    """DDL statements, committed together, through the bus's own driver (psycopg),
    synchronously: a fixture of any scope may call it while an event loop runs."""
    engine = create_engine(_normalised(database_url))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _normalised(database_url: str) -> str:
    """The URL as the bus reads it (`postgresql://` means psycopg)."""
    return Settings(database_url=database_url).resolved_database_url
