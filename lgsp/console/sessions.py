"""Who is signed in to the console: a random cookie, and what each worker knows of it.

The cookie is a random id, HttpOnly and SameSite=Strict; it carries no token. The database
keeps only its SHA-256, per instance the admin client signed in to, with the client, the scopes
the token endpoint granted and when that token expires (`ConsoleSignIn`), so that every process
serving the bus (`lgsp serve --workers N`) honours a sign-in any of them made. The admin tokens
themselves are minted again from those rows, never stored; each form carries a CSRF token
derived from the cookie, which a page of another origin cannot read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from lgsp.dialects.models import ConsoleSignIn
from lgsp.dialects.tokens import EARLY_SECONDS, Remembered, digest, mint_again, store_issued
from lgsp.state import BusState

COOKIE = "lgsp_console"
MAX_SESSIONS = 100
"""Live sign-ins an admin client keeps per instance; a new one ends the oldest beyond it."""


@dataclass(frozen=True)
class ConsoleSession:
    client_id: str
    tokens: dict[str, str]
    """Admin access token per instance the client administers, by instance name."""
    csrf: str

    def admits(self, csrf: str | None) -> bool:
        return csrf is not None and hmac.compare_digest(csrf.encode(), self.csrf.encode())


def _csrf(cookie: str) -> str:
    return hashlib.sha256(f"console csrf\n{cookie}".encode()).hexdigest()[:32]


class SessionStore:
    """Sign-ins in the bus's database; the tokens minted from them remembered in this process
    until they expire (bounded, `Remembered`)."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._tokens = Remembered()
        self._limit = limit

    async def open(
        self, bus: BusState, client_id: str, scopes: dict[str, str], *, expires_in: float
    ) -> str:
        """A new sign-in with the scopes granted at each instance; the cookie's value. It ends
        with the first of its tokens (`expires_in`: a session never holds an expired token)."""
        cookie = secrets.token_urlsafe(32)
        lifetime = max(1.0, expires_in - EARLY_SECONDS)
        expires_at = datetime.now(UTC) + timedelta(seconds=lifetime)
        for instance, scope in scopes.items():
            await store_issued(
                bus.session_factory,
                ConsoleSignIn,
                instance=instance,
                key=digest(cookie),
                client_id=client_id,
                scope=scope,
                expires_at=expires_at,
            )
        async with bus.session_factory.begin() as session:
            for instance in scopes:  # the client's oldest sign-ins beyond the limit end
                mine = (ConsoleSignIn.instance == instance) & (ConsoleSignIn.client_id == client_id)
                newest = select(ConsoleSignIn.id).where(mine).order_by(ConsoleSignIn.id.desc())
                await session.execute(
                    delete(ConsoleSignIn).where(
                        mine, ConsoleSignIn.id.not_in(newest.limit(self._limit).scalar_subquery())
                    )
                )
        return cookie

    async def get(self, bus: BusState, cookie: str | None) -> ConsoleSession | None:
        if not cookie or len(cookie) > 128:
            return None
        key, now = digest(cookie), datetime.now(UTC)
        async with bus.session_factory() as session:
            rows = (
                await session.scalars(
                    select(ConsoleSignIn).where(
                        ConsoleSignIn.token_sha256 == key, ConsoleSignIn.expires_at > now
                    )
                )
            ).all()
        tokens: dict[str, str] = {}
        for row in rows:
            instance = bus.instances.get(row.instance)
            if instance is None:
                continue
            remembered = self._tokens.get(f"{row.instance}\n{key}")
            if remembered is None:
                minted, expires_at = mint_again(instance, row, key, now)
                self._tokens.put(
                    f"{row.instance}\n{key}", minted, row.client_id, expires_at.timestamp()
                )
                remembered = (minted, row.client_id)
            tokens[row.instance] = remembered[0]
        if not tokens:
            return None
        return ConsoleSession(client_id=rows[0].client_id, tokens=tokens, csrf=_csrf(cookie))

    async def close(self, bus: BusState, cookie: str | None) -> None:
        """Sign out in every process: the rows go; this process forgets its tokens now, the
        others cannot mint them again."""
        if not cookie:
            return
        key = digest(cookie)
        for instance in bus.instances:
            self._tokens.forget(f"{instance}\n{key}")
        async with bus.session_factory.begin() as session:
            await session.execute(delete(ConsoleSignIn).where(ConsoleSignIn.token_sha256 == key))
