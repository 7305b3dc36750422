"""Credentials the dialects hand out, stored only as hashes (a leaked table gives none of them).

Each row stands for a token of the bus's own: the client and scopes it was issued for and when
it expires, so that any worker on the database can mint it again (`lgsp.dialects.tokens`).
Two tables of one shape rather than a column telling them apart: databases made before the
second gain it with `create_all` (there are no migrations yet). The one secret kept otherwise is
a VDXP SDK system's, sealed: an HMAC cannot be checked against a hash (`SdkSecret`).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.db import Base, UTCDateTime


class _IssuedCredential:
    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OpaqueToken(_IssuedCredential, Base):
    """API Manager's opaque tokens (`lgsp.dialects.apim_door`)."""

    __tablename__ = "dialect_opaque_tokens"
    __table_args__ = (UniqueConstraint("instance", "token_sha256"),)


class OpenCpsSession(_IssuedCredential, Base):
    """OpenCPS sessions (`lgsp.dialects.opencps_door`), hashed with the `dstcode` they are
    bound to: every worker honours a session any of them answered, until it expires."""

    __tablename__ = "dialect_opencps_sessions"
    __table_args__ = (UniqueConstraint("instance", "token_sha256"),)


class ConsoleSignIn(_IssuedCredential, Base):
    """A console sign-in (`lgsp.console.sessions`), one row per instance the admin client
    signed in to, hashed from the session cookie: every worker honours a sign-in any of them
    made, until it expires; the admin token behind it is minted again, never stored."""

    __tablename__ = "console_sign_ins"
    __table_args__ = (UniqueConstraint("instance", "token_sha256"),)


IssuedCredential = TypeVar("IssuedCredential", OpaqueToken, OpenCpsSession, ConsoleSignIn)


class SdkSecret(Base):
    """A client's secret as the VDXP SDK keys its HMAC with (`adapters.dialects.vdxpsdk`).

    The HMAC needs the secret itself, so it is kept sealed with the key that seals the
    instances' signing keys (`lgsp.auth.keys.KeyCipher`, Fernet), never in the clear; the
    client's own `secret_hash` stays the only thing the token endpoint checks.
    """

    __tablename__ = "dialect_sdk_secrets"
    __table_args__ = (UniqueConstraint("instance", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    sealed_secret: Mapped[str] = mapped_column(Text)
