"""A PostgreSQL schema of its own for a bus a test session starts, dropped when the bus stops.

The bus keeps its signing keys in the database, sealed with a secret of its data dir, and a
test session's data dir is new every time: a bus started on the tables an earlier session (or
another pytest-xdist worker) filled cannot open their keys. In a schema of its own, every
session's bus seeds an empty database, and the user's database is left as it was found.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text

from lgsp.settings import Settings

SCHEMA_PREFIX = "lgsp_pytest_"
"""Schemas the plugin creates: `lgsp_pytest_<pid>_<random>`; a run killed before its end
leaves one behind (`DROP SCHEMA … CASCADE` removes it)."""


@contextmanager
def own_schema(database_url: str) -> Iterator[str]:
    """`database_url` in a new schema (its connections' `search_path`) while the block runs;
    any other database's URL as it is."""
    url = make_url(Settings(database_url=database_url).resolved_database_url)
    if url.get_backend_name() != "postgresql":
        yield database_url
        return
    schema = f"{SCHEMA_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    _execute(database_url, f'CREATE SCHEMA "{schema}"')
    try:
        # libpq `options`, after the user's own: every connection of the bus and its mocks.
        given = url.query.get("options", "")
        options = " ".join(
            [*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"]
        )
        yield url.update_query_dict({"options": options.strip()}).render_as_string(
            hide_password=False
        )
    finally:
        _execute(database_url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _execute(database_url: str, statement: str) -> None:
    """One DDL statement, committed, through the bus's own driver (psycopg), synchronously."""
    engine = create_engine(Settings(database_url=database_url).resolved_database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()
