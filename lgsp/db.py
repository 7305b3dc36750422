"""The gateway's database: its declarative base and the helpers every feature's tables use.

The engine recipe and column types are `kit.db`'s, shared with the mock systems; they are
re-exported here so that the gateway's modules have one place to import from. This module knows
no feature: `lgsp.models` gathers their tables and creates them.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from kit.db import (
    MAX_BIGINT,
    NAMING_CONVENTION,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    BigId,
    UTCDateTime,
    create_tables,
    make_engine,
    make_session_factory,
    named_metadata,
)

__all__ = [
    "MAX_BIGINT",
    "NAMING_CONVENTION",
    "SQLITE_BUSY_TIMEOUT_SECONDS",
    "Base",
    "BigId",
    "UTCDateTime",
    "column_values",
    "create_tables",
    "make_engine",
    "make_session_factory",
    "row_values",
    "write_after_read",
]


class Base(DeclarativeBase):
    metadata = named_metadata()


def row_values(record: Any) -> dict[str, Any]:
    """A dataclass's fields by name, for an insert: `dataclasses.asdict` without its deep copy.

    The audit and journal rows hold only immutable values, and `asdict`'s recursive copy was a
    tenth of the gateway's CPU on the audit path (benchmarks/bus.py --profile).
    """
    return {field.name: getattr(record, field.name) for field in fields(record)}


def column_values(row: Base, *, exclude: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A row's columns by attribute name (but `exclude`'s): what an admin view validates, adding
    what it derives, instead of copying each column into the response model by hand."""
    return {
        column.key: getattr(row, column.key)
        for column in row.__mapper__.column_attrs
        if column.key not in exclude
    }


async def write_after_read(session: AsyncSession) -> None:
    """End the session's reading transaction and begin one that holds SQLite's write lock from
    its `BEGIN` (other dialects ignore the option): on SQLite a read cannot become a write once
    another connection has committed, and fails at once with "database is locked"."""
    await session.commit()
    await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
