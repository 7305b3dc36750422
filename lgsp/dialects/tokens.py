"""Credentials a dialect presents, resolved to a token of the bus's own for the core to check.

API Manager's opaque tokens and OpenCPS's sessions are kept as SHA-256 hashes in the database
(so any worker knows them); each maps to the client and scopes of the JWT it was issued for,
which a worker mints again, with the same `jti`, when it has not seen it yet. A VDXP SDK
system's secret keys an HMAC, which a hash cannot check: it is kept sealed (`KeyCipher`).
`lgspaccesstoken`
credentials are never stored: the door asks the core's token endpoint, and remembers the
answer in memory under the hash of the header until the token expires.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.auth.keys import KeyCipher
from lgsp.auth.revocation import DenyList
from lgsp.auth.tokens import issue_token
from lgsp.dialects.models import IssuedCredential, SdkSecret
from lgsp.state import InstanceState

MAX_REMEMBERED = 4096
EARLY_SECONDS = 30
"""A remembered token is given up this long before it expires, so that none expires in flight."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Remembered:
    """A bounded map from a credential's hash to the bus token (and client) it stands for."""

    def __init__(self, *, max_entries: int = MAX_REMEMBERED) -> None:
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[str, str, float]] = OrderedDict()

    def get(self, key: str) -> tuple[str, str] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        token, client_id, expires_at = entry
        if time.time() >= expires_at - EARLY_SECONDS:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return token, client_id

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def put(self, key: str, token: str, client_id: str, expires_at: float) -> None:
        self._entries[key] = (token, client_id, expires_at)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


async def store_issued(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[IssuedCredential],
    *,
    instance: str,
    key: str,
    client_id: str,
    scope: str,
    expires_at: datetime,
) -> None:
    """Keep a credential a door hands out, as `key` (the hash of what the caller presents)."""
    now = datetime.now(UTC)
    async with session_factory.begin() as session:
        # Expired credentials of the instance go as new ones come: the table stays small.
        await session.execute(
            delete(model).where(model.instance == instance, model.expires_at < now)
        )
        session.add(
            model(
                instance=instance,
                token_sha256=key,
                client_id=client_id,
                scope=scope,
                expires_at=expires_at,
            )
        )


async def forget_issued(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[IssuedCredential],
    *,
    instance: str,
    key: str,
    remembered: Remembered,
) -> None:
    """A credential ended before its expiry: no worker mints its token again."""
    remembered.forget(key)
    async with session_factory.begin() as session:
        await session.execute(
            delete(model).where(model.instance == instance, model.token_sha256 == key)
        )


def token_id(key: str) -> str:
    """The `jti` of every token minted for the credential stored as `key`: the same in every
    worker, so that revoking it (RFC 7009, by `jti`) ends them all."""
    return digest(f"jti\n{key}")[:32]


async def bus_token_for(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[IssuedCredential],
    instance: InstanceState,
    key: str,
    remembered: Remembered,
    deny_list: DenyList,
) -> tuple[str, str] | None:
    """The JWT (and client) the credential stored as `key` stands for: remembered while this
    process's fresh copy of the revoked tokens does not name it (a reset ends OpenCPS sessions
    so) or while its row is there, else minted again from its stored row (another worker
    issued it, or this one restarted), else None (unknown, ended or expired). An ended
    credential's row is deleted as its token is revoked (`forget_issued`, a reset)."""
    known = remembered.get(key)
    if known is not None and deny_list.cached(instance.spec.name, token_id(key)) is False:
        return known
    now = datetime.now(UTC)
    async with session_factory() as session:
        row = await session.scalar(
            select(model).where(
                model.instance == instance.spec.name,
                model.token_sha256 == key,
                model.expires_at > now,
            )
        )
    if row is None:
        remembered.forget(key)
        return None
    if known is not None:
        return known
    minted, expires_at = mint_again(instance, row, key, now)
    remembered.put(key, minted, row.client_id, expires_at.timestamp())
    return minted, row.client_id


def mint_again(
    instance: InstanceState, row: IssuedCredential, key: str, now: datetime
) -> tuple[str, datetime]:
    """The JWT a stored credential stands for, with its fixed `jti`, and when it expires."""
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    minted = issue_token(
        instance.keys,
        issuer=instance.issuer,
        client_id=row.client_id,
        scopes=row.scope.split(),
        ttl=timedelta(seconds=max(1, int((expires_at - now).total_seconds()))),
        now=now,
        jti=token_id(key),
    )
    return minted, expires_at


async def store_sdk_secret(
    session: AsyncSession, cipher: KeyCipher, *, instance: str, client_id: str, secret: str
) -> None:
    """Keep a client's secret sealed for the VDXP SDK door, which keys its HMAC with it."""
    session.add(
        SdkSecret(instance=instance, client_id=client_id, sealed_secret=cipher.seal(secret))
    )
    await session.flush()


async def sdk_secret(
    session_factory: async_sessionmaker[AsyncSession],
    cipher: KeyCipher | None,
    *,
    instance: str,
    client_id: str,
) -> str | None:
    """The secret of the SDK system `client_id` of `instance`, opened; None if it has none (or
    the bus has no sealing key yet, so nothing was ever sealed)."""
    if cipher is None:
        return None
    async with session_factory() as session:
        sealed = await session.scalar(
            select(SdkSecret.sealed_secret).where(
                SdkSecret.instance == instance, SdkSecret.client_id == client_id
            )
        )
    return None if sealed is None else cipher.open(f"sdk secret of {client_id}", sealed)
