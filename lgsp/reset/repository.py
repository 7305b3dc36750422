"""The SQL of a reset that is the bus's own: the outboxes, the demo client's provisioning, and
the OpenCPS door's login sessions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from lgsp.auth.clients import ALL_METHODS, conform_client, ensure_client
from lgsp.auth.provisioning import demo_secret_is_chosen
from lgsp.auth.repository import ClientRepository, RevocationRepository
from lgsp.catalog.loader import Catalog
from lgsp.dialects.models import OpenCpsSession
from lgsp.dialects.tokens import token_id
from lgsp.outbox.models import OutboxMessage
from lgsp.settings import Settings


async def delete_outbox_messages(session: AsyncSession, *, instances: Collection[str]) -> int:
    result = await session.execute(
        delete(OutboxMessage).where(OutboxMessage.instance.in_(list(instances)))
    )
    count: int = getattr(result, "rowcount", 0) or 0
    return count


async def restore_demo_clients(
    session: AsyncSession, *, instances: Collection[str], settings: Settings, catalog: Catalog
) -> None:
    """The demo client of each of `instances` as the bus provisions it at start, and not
    revoked: a test that revoked it or changed its rights must not break every test after it.
    All of them loaded in one query: a reset runs before every test of a suite."""
    repository = ClientRepository(session)
    rights = {service.id: ALL_METHODS for service in catalog}
    secret = settings.demo_client_secret.get_secret_value()
    chosen = demo_secret_is_chosen(settings)
    found = {
        client.instance: client
        for client in await repository.get_each(instances, settings.demo_client_id)
    }
    for instance in instances:
        client = found.get(instance)
        if client is None:  # deleted: provisioned again
            await ensure_client(
                repository,
                instance=instance,
                client_id=settings.demo_client_id,
                secret=secret,
                name="Demo client",
                rights=rights,
                is_admin=True,
                chosen=chosen,
            )
            continue
        conform_client(client, secret=secret, rights=rights, is_admin=True, chosen=chosen)
        client.revoked_at = None
    await session.flush()


async def end_opencps_sessions(
    session: AsyncSession, *, instances: Collection[str], now: datetime
) -> list[tuple[str, str]]:
    """End every OpenCPS login session of `instances`: its row deleted (no worker mints its
    token again) and that token revoked (RFC 7009, by its fixed `jti`), so that a worker
    that remembers it is refused too. The (instance, jti) pairs revoked, for this process's
    deny list."""
    # One statement: a login committed between a read and the delete would be deleted but
    # never revoked, and a worker remembering its token would go on honouring it.
    rows = (
        await session.execute(
            delete(OpenCpsSession)
            .where(OpenCpsSession.instance.in_(list(instances)))
            .returning(
                OpenCpsSession.instance,
                OpenCpsSession.token_sha256,
                OpenCpsSession.client_id,
                OpenCpsSession.expires_at,
            )
        )
    ).all()
    revocations = RevocationRepository(session)
    ended = []
    for instance, token_sha256, client_id, expires_at in rows:
        if expires_at <= now:  # expired: nothing to revoke
            continue
        jti = token_id(token_sha256)
        await revocations.revoke(
            instance=instance, jti=jti, client_id=client_id, expires_at=expires_at, at=now
        )
        ended.append((instance, jti))
    return ended
