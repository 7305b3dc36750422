"""Deletes journal rows past their retention, in the background, off the request path.

Queries already ignore such rows (`store.matching`); pruning only gives the space back. Each
process prunes the instances it serves; a failed round is logged and tried again next time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.journal import store
from lgsp.settings import Settings

logger = logging.getLogger(__name__)

LONGEST_INTERVAL = 60.0


def prune_interval(settings: Settings) -> float:
    """A tenth of the retention, at most a minute: rows outlive it by at most 10%."""
    return min(LONGEST_INTERVAL, settings.journal_retention_seconds / 10)


async def prune_forever(
    session_factory: async_sessionmaker[AsyncSession],
    instances: Sequence[str],
    settings: Settings,
) -> None:
    """Run until cancelled (the bus's lifespan cancels it on shutdown)."""
    while True:
        await asyncio.sleep(prune_interval(settings))
        try:
            deleted = await store.prune(
                session_factory,
                instances,
                now=datetime.now(UTC),
                retention_seconds=settings.journal_retention_seconds,
                max_entries=settings.journal_max_entries,
            )
        except Exception:
            logger.warning("journal pruning failed; trying again later", exc_info=True)
            continue
        if deleted:
            logger.debug("journal: pruned %d exchanges", deleted)
