"""API Manager's opaque tokens, stored only as hashes (a leaked table gives no token)."""

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
