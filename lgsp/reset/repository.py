"""The SQL of a reset that is the bus's own: the outboxes, the demo client's provisioning, and
the OpenCPS door's login sessions."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy import delete, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from lgsp.auth.credentials import is_slow_hash, verify_secret
from lgsp.auth.models import AccessRight, ApiClient, ClientIdentity, ClientRateLimit
from lgsp.auth.provisioning import demo_client_draft, provision_demo_client
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
    """The demo client of each of `instances` as provisioning makes it on a fresh bus
    (`demo_client_draft`): every column of its row (not revoked, its name, its handling), its
    rights, its rate limits and its identity; the row keeps its id, its creation time and, if
    the secret still matches it, its hash. A deleted one is provisioned again. A test that
    revoked it, changed its rights or set it strict must not change every test after it.
    All of them loaded in one query: a reset runs before every test of a suite."""
    repository = ClientRepository(session)
    secret = settings.demo_client_secret.get_secret_value()
    found = {
        client.instance: client
        for client in await repository.get_each(instances, settings.demo_client_id)
    }
    for instance in instances:
        client = found.get(instance)
        if client is None:  # deleted: provisioned again
            await provision_demo_client(repository, instance, catalog, settings)
            continue
        _conform(client, await _DRAFTS.draft(instance, catalog, settings), secret=secret)
    await session.flush()


@dataclass
class _DraftMemo:
    """The drafts of the last bus reset: drafting hashes the demo secret, slowly when an
    operator chose it (scrypt, 50 ms an instance), and a reset runs before every test."""

    settings: Settings | None = None
    catalog: Catalog | None = None
    drafts: dict[str, ApiClient] = field(default_factory=dict)

    async def draft(self, instance: str, catalog: Catalog, settings: Settings) -> ApiClient:
        if self.settings is not settings or self.catalog is not catalog:
            self.settings, self.catalog, self.drafts = settings, catalog, {}
        if instance not in self.drafts:
            self.drafts[instance] = await demo_client_draft(instance, catalog, settings)
        return self.drafts[instance]


_DRAFTS = _DraftMemo()


class _PerService(Protocol):
    """A row of a client's, one per service (its rights, its rate limits)."""

    @property
    def service(self) -> str: ...


_Row = TypeVar("_Row", bound=_PerService)


def _conform(client: ApiClient, draft: ApiClient, *, secret: str) -> None:
    _copy_columns(draft, client, kept={"id", "created_at", "secret_hash"})
    same_scheme = is_slow_hash(client.secret_hash) == is_slow_hash(draft.secret_hash)
    if not (same_scheme and verify_secret(secret, client.secret_hash)):
        client.secret_hash = draft.secret_hash
    _conform_each(client.rights, draft.rights, AccessRight)
    _conform_each(client.rate_limits, draft.rate_limits, ClientRateLimit)
    if draft.identity is None:  # provisioning makes the demo client a tenant without a row
        client.identity = None
        return
    if client.identity is None:
        client.identity = ClientIdentity()
    _copy_columns(draft.identity, client.identity, kept={"client_pk"})


def _conform_each(rows: list[_Row], drafts: list[_Row], make: Callable[[], _Row]) -> None:
    """`rows` as `drafts`, keeping the row of each service they share: a row deleted and one
    inserted for the same service would break its unique key within one flush."""
    kept = {row.service: row for row in rows}
    wanted = []
    for draft in drafts:
        row = kept.get(draft.service) or make()
        _copy_columns(draft, row, kept={"id", "client_pk"})
        wanted.append(row)
    if [id(row) for row in rows] != [id(row) for row in wanted]:
        rows[:] = wanted


def _copy_columns(source: object, target: object, *, kept: Collection[str]) -> None:
    """Every column of `source` onto `target` but those `kept`; a column `source` never set
    (a draft is never flushed) as its default would be inserted."""
    state = inspect(source)
    for column in state.mapper.column_attrs:
        if column.key in kept:
            continue
        value = state.attrs[column.key].loaded_value
        if value is NO_VALUE:
            default = column.columns[0].default
            value = default.arg if isinstance(default, ScalarElementColumnDefault) else None
        if getattr(target, column.key) != value:
            setattr(target, column.key, value)


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
