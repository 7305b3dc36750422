"""Bodies of the token, revocation and JWKS endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from formats.codes import ORGAN_ID


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


METHODS_PATTERN = r"^(\*|(GET|POST|PUT|PATCH|DELETE)(,(GET|POST|PUT|PATCH|DELETE)){0,4})$"
"""`*` (every method) or a comma list of methods, as `lgsp clients create --service id:GET,POST`."""
MAX_RIGHTS = 64

Rights = dict[
    Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")],
    Annotated[str, Field(pattern=METHODS_PATTERN)],
]


class ClientIn(BaseModel):
    """A client to register on the instance (`lgsp clients create`, over HTTP)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    rights: Rights = Field(default_factory=dict, max_length=MAX_RIGHTS)
    """Service id → `*` or the methods it may call there."""
    is_admin: bool = False
    organisation: str | None = Field(default=None, pattern=ORGAN_ID)
    """The agency (QĐ 20/2020 organ id) the client acts for, if it is bound to one."""


class RightsIn(BaseModel):
    """A client's access rights, replaced as a whole."""

    model_config = ConfigDict(extra="forbid")

    rights: Rights = Field(max_length=MAX_RIGHTS)


class ClientOut(BaseModel):
    """A client as an admin sees it: never its secret."""

    # Validated straight from the `ApiClient` row (its rights and instants by the validators).
    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    kind: str
    is_admin: bool
    organisation: str | None
    rights: dict[str, str]
    created_at: datetime
    revoked_at: datetime | None

    @field_validator("rights", mode="before")
    @classmethod
    def _methods_by_service(cls, rights: Any) -> Any:
        """The row's `AccessRight`s, shown as service → methods."""
        if isinstance(rights, list):
            return {right.service: right.methods for right in rights}
        return rights

    @field_validator("created_at", "revoked_at")
    @classmethod
    def _aware(cls, moment: datetime | None) -> datetime | None:
        """SQLite gives back the UTC instant without its offset; PostgreSQL with it."""
        if moment is None or moment.tzinfo is not None:
            return moment
        return moment.replace(tzinfo=UTC)


class ClientList(BaseModel):
    clients: list[ClientOut]


class ClientCreated(ClientOut):
    client_secret: str
    """Shown this once: the bus keeps only its hash."""
