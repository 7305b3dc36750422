"""Every SQL statement about clients, access rights and signing keys. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from lgsp.auth.models import AccessRight, ApiClient, SigningKey


class ClientRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance: str, client_id: str) -> ApiClient | None:
        statement = select(ApiClient).where(
            ApiClient.instance == instance, ApiClient.client_id == client_id
        )
        return (await self.session.execute(statement)).scalar_one_or_none()

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
    ) -> ApiClient:
        client = ApiClient(
            instance=instance,
            client_id=client_id,
            name=name,
            secret_hash=secret_hash,
            is_admin=is_admin,
            created_at=created_at,
            rights=[AccessRight(service=s, methods=m) for s, m in sorted(rights.items())],
        )
        self.session.add(client)
        await self.session.flush()
        return client

    async def revoke(self, instance: str, client_id: str, *, at: datetime) -> ApiClient | None:
        client = await self.get(instance, client_id)
        if client is not None and client.revoked_at is None:
            client.revoked_at = at
            await self.session.flush()
        return client

    async def signing_keys(self, instance: str) -> Sequence[SigningKey]:
        statement = select(SigningKey).where(SigningKey.instance == instance)
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
