"""What dialects keep of credentials: API Manager's opaque tokens only as hashes (a leaked table
gives no token); VDXP SDK secrets sealed, since an HMAC cannot be checked against a hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lgsp.db import Base, UTCDateTime


class OpaqueToken(Base):
    __tablename__ = "dialect_opaque_tokens"
    __table_args__ = (UniqueConstraint("instance", "token_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    token_sha256: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
