"""Every table of the gateway, and creating them on start.

Importing this module registers each feature's ORM module on `Base.metadata`. It sits above the
features (they import `lgsp.db`, this imports them), so that the database module itself knows
none of them and no import goes back down.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.audit import models as audit_models
from lgsp.auth import models as auth_models
from lgsp.db import Base, create_tables
from lgsp.dialects import models as dialect_models
from lgsp.faults import models as fault_models
from lgsp.journal import models as journal_models
from lgsp.outbox import models as outbox_models

__all__ = [
    "audit_models",
    "auth_models",
    "create_schema",
    "dialect_models",
    "fault_models",
    "journal_models",
    "outbox_models",
]


async def create_schema(engine: AsyncEngine) -> None:
    """Create missing tables (Alembic takes over once the schema settles, DESIGN.md §3)."""
    await create_tables(engine, Base.metadata)
