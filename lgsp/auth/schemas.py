"""Bodies of the token and JWKS endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


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
