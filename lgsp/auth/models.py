"""Tables for API clients, their rights and rates, revoked tokens and instances' signing keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lgsp.db import Base, UTCDateTime


class ApiClient(Base):
    """A caller registered on one instance (WSO2's "application": consumer key and secret)."""

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("instance", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(200))
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    handling: Mapped[str | None] = mapped_column(String(16), default=None)
    """`strict`: every call of the client is read as if it sent `Prefer: handling=strict` (RFC
    7240; issue 17), so a nonconforming edXML message is refused rather than taken with
    warnings. None: the call's own `Prefer` decides. Nullable, so that an existing data
    directory gains it in place."""
    rights: Mapped[list[AccessRight]] = relationship(
        back_populates="client", cascade="all, delete-orphan", lazy="selectin"
    )
    rate_limits: Mapped[list[ClientRateLimit]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    identity: Mapped[ClientIdentity | None] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def kind(self) -> str:
        """`tenant` (a client an operator made), `system` or `federation` (the bus's own)."""
        return self.identity.kind if self.identity is not None else TENANT

    @property
    def organisation(self) -> str | None:
        return self.identity.organisation if self.identity is not None else None


TENANT, SYSTEM, FEDERATION = "tenant", "system", "federation"
STRICT = "strict"
"""The one value of `ApiClient.handling` (a client's calls read strictly)."""
BUS_KINDS = frozenset({SYSTEM, FEDERATION})
"""The bus's own clients: made only by provisioning, never by `lgsp clients create`."""


class ClientIdentity(Base):
    """Who a client acts for: its kind and, for a tenant, the organisation (agency id) it is
    bound to. A client without a row is an unbound tenant.

    A table of its own, as `client_rate_limits`, so that databases made before it gain it with
    `create_all` (issue 15: every caller acts for someone, as X-Road's member/subsystem).
    """

    __tablename__ = "client_identities"

    client_pk: Mapped[int] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), default=TENANT)
    organisation: Mapped[str | None] = mapped_column(String(64), default=None)


class AccessRight(Base):
    """Permission for one client to call one service, with `*` or a comma list of methods."""

    __tablename__ = "access_rights"
    __table_args__ = (UniqueConstraint("client_pk", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(64))
    methods: Mapped[str] = mapped_column(String(64), default="*")
    client: Mapped[ApiClient] = relationship(back_populates="rights")


class SigningKey(Base):
    """An instance's private key for signing tokens, generated on first start and kept."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClientRateLimit(Base):
    """A client's own call rate, for one service or for every service (`*`).

    A table of its own rather than columns on `api_clients`, so that databases created before
    it gain it with `create_all` (there are no migrations yet).
    """

    __tablename__ = "client_rate_limits"
    __table_args__ = (UniqueConstraint("client_pk", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    service: Mapped[str] = mapped_column(String(64), default="*")
    per_second: Mapped[float] = mapped_column(Float)
    burst: Mapped[int] = mapped_column(Integer, default=0)


class RevokedToken(Base):
    """A token refused before its expiry (RFC 7009), kept until it would have expired."""

    __tablename__ = "revoked_tokens"

    instance: Mapped[str] = mapped_column(String(64), primary_key=True)
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str | None] = mapped_column(String(64), default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)
