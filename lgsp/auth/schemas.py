"""Bodies of the token, revocation and JWKS endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TokenResponse(BaseModel):
    """RFC 6749 §5.1 successful access-token response."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int
    scope: str


class OAuthErrorResponse(BaseModel):
    """RFC 6749 §5.2 error response."""

    error: str
    error_description: str


class Jwks(BaseModel):
    keys: list[dict[str, str]]


class TokenRevocation(BaseModel):
    """An admin's revocation of one token by its `jti` claim."""

    jti: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")


class ClientHandling(BaseModel):
    """How a client's calls are read: `strict` as if each sent `Prefer: handling=strict`
    (a nonconforming edXML message refused with its rule), `lenient` as each call asks."""

    handling: Literal["strict", "lenient"]


class ClientHandlingSet(ClientHandling):
    client_id: str


class TokenRevoked(BaseModel):
    jti: str
    newly_revoked: bool
    """False when the token was already revoked."""
