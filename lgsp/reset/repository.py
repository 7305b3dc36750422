"""The SQL of a reset that is the bus's own: the outboxes, and the demo client's provisioning."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from lgsp.auth.clients import ALL_METHODS, ensure_client
from lgsp.auth.repository import ClientRepository
from lgsp.catalog.loader import Catalog
from lgsp.outbox.models import OutboxMessage
from lgsp.settings import Settings


async def delete_outbox_messages(session: AsyncSession, *, instances: Collection[str]) -> int:
    result = await session.execute(
        delete(OutboxMessage).where(OutboxMessage.instance.in_(list(instances)))
    )
    count: int = getattr(result, "rowcount", 0) or 0
    return count


async def restore_demo_client(
    session: AsyncSession, *, instance: str, settings: Settings, catalog: Catalog
) -> None:
    """The demo client as the bus provisions it at start, and not revoked: a test that revoked
    it or changed its rights must not break every test after it."""
    repository = ClientRepository(session)
    await ensure_client(
        repository,
        instance=instance,
        client_id=settings.demo_client_id,
        secret=settings.demo_client_secret.get_secret_value(),
        name="Demo client",
        rights={service.id: ALL_METHODS for service in catalog},
        is_admin=True,
    )
    client = await repository.get(instance, settings.demo_client_id)
    if client is not None and client.revoked_at is not None:
        client.revoked_at = None
        await session.flush()
