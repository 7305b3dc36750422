"""Storage for stateful mocks: each keeps its own tables, in the database the bus gives it.

A mock defines its tables on its own `DeclarativeBase` with `kit.db.named_metadata()`, so its
schema stays its own, and opens its engine in its lifespan with `open_mock_database`. The engine
recipe is `kit.db`'s, shared with the bus but not the bus's: a mock imports nothing of `lgsp`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from kit.db import create_tables, make_engine, make_session_factory

DEFAULT_DATABASE = "mocks.db"


@dataclass(frozen=True)
class MockDatabase:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]


@asynccontextmanager
async def open_mock_database(
    url: str | None, metadata: MetaData, *, data_dir: Path = Path(".lgsp")
) -> AsyncIterator[MockDatabase]:
    """Open the database (SQLite in `data_dir` when no URL is given) and create missing tables."""
    engine = make_engine(url or f"sqlite+aiosqlite:///{(data_dir / DEFAULT_DATABASE).resolve()}")
    try:
        await create_tables(engine, metadata)
        yield MockDatabase(engine, make_session_factory(engine))
    finally:
        await engine.dispose()


__all__ = ["DeclarativeBase", "MockDatabase", "open_mock_database"]
