"""Every SQL statement about clients, access rights, revoked tokens and signing keys.

Never commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from kit.db import conflict_insert
from lgsp.auth.models import (
    TENANT,
    AccessRight,
    ApiClient,
    ClientIdentity,
    ClientRateLimit,
    RevokedToken,
    SigningKey,
)
from lgsp.auth.rate_limit import RateLimit


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance: str, client_id: str) -> ApiClient | None:
        statement = select(ApiClient).where(
            ApiClient.instance == instance, ApiClient.client_id == client_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def get_each(self, instances: Collection[str], client_id: str) -> Sequence[ApiClient]:
        """The client named `client_id` in each of `instances` that has one, in one query."""
        statement = select(ApiClient).where(
            ApiClient.instance.in_(list(instances)), ApiClient.client_id == client_id
        )
        return (await self.session.execute(statement)).scalars().all()

    async def list(self, instance: str | None = None) -> Sequence[ApiClient]:
        statement = select(ApiClient).order_by(ApiClient.instance, ApiClient.created_at)
        if instance is not None:
            statement = statement.where(ApiClient.instance == instance)
        return (await self.session.execute(statement)).scalars().all()

    async def add(
        self,
        *,
        instance: str,
        client_id: str,
        name: str,
        secret_hash: str,
        is_admin: bool,
        rights: dict[str, str],
        created_at: datetime,
        rate_limits: dict[str, RateLimit] | None = None,
        kind: str = TENANT,
        organisation: str | None = None,
        handling: str | None = None,
    ) -> ApiClient:
        identity = None
        if kind != TENANT or organisation is not None:
            identity = ClientIdentity(kind=kind, organisation=organisation)
        client = ApiClient(
            instance=instance,
            client_id=client_id,
            name=name,
            secret_hash=secret_hash,
            is_admin=is_admin,
            handling=handling,
            created_at=created_at,
            rights=[AccessRight(service=s, methods=m) for s, m in sorted(rights.items())],
            rate_limits=[
                ClientRateLimit(service=s, per_second=limit.per_second, burst=limit.burst)
                for s, limit in sorted((rate_limits or {}).items())
            ],
            identity=identity,
        )
        self.session.add(client)
        await self.session.flush()
        return client

    async def set_handling(
        self, instance: str, client_id: str, handling: str | None
    ) -> ApiClient | None:
        """Set how the client's calls are read (`ApiClient.handling`); None if no such client."""
        client = await self.get(instance, client_id)
        if client is not None:
            client.handling = handling
            await self.session.flush()
        return client

    async def revoke(self, instance: str, client_id: str, *, at: datetime) -> ApiClient | None:
        client = await self.get(instance, client_id)
        if client is not None and client.revoked_at is None:
            client.revoked_at = at
            await self.session.flush()
        return client

    async def signing_keys(self, instance: str | None) -> Sequence[SigningKey]:
        """One instance's keys, or every instance's (None)."""
        statement = select(SigningKey)
        if instance is not None:
            statement = statement.where(SigningKey.instance == instance)
        return (await self.session.execute(statement)).scalars().all()

    async def add_signing_key(
        self, *, kid: str, instance: str, algorithm: str, private_pem: str, created_at: datetime
    ) -> None:
        self.session.add(
            SigningKey(
                kid=kid,
                instance=instance,
                algorithm=algorithm,
                private_pem=private_pem,
                created_at=created_at,
            )
        )
        await self.session.flush()


class RevocationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def revoke(
        self,
        *,
        instance: str,
        jti: str,
        client_id: str | None,
        expires_at: datetime,
        at: datetime,
    ) -> bool:
        """Record a revoked token; False when it already was, even by a request under way
        beside this one (`ON CONFLICT DO NOTHING`). Purges rows past their expiry."""
        await self.session.execute(
            delete(RevokedToken).where(
                RevokedToken.instance == instance, RevokedToken.expires_at <= at
            )
        )
        row = {
            "instance": instance,
            "jti": jti,
            "client_id": client_id,
            "expires_at": expires_at,
            "revoked_at": at,
        }
        insert = conflict_insert(self.session.get_bind().dialect.name)
        statement = (
            insert(RevokedToken).values(row).on_conflict_do_nothing().returning(RevokedToken.jti)
        )
        return (await self.session.execute(statement)).scalar_one_or_none() is not None

    async def active_jtis(self, instance: str, *, now: datetime) -> set[str]:
        statement = select(RevokedToken.jti).where(
            RevokedToken.instance == instance, RevokedToken.expires_at > now
        )
        return set((await self.session.execute(statement)).scalars().all())
