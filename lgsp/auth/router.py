"""The OAuth2 token and revocation endpoints, admin revocation by `jti`, and the published keys."""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from lgsp.audit.context import AuditContext
from lgsp.auth.clients import CLIENT_ID_PATTERN
from lgsp.auth.credentials import DUMMY_SECRET_HASH, secret_matches
from lgsp.auth.models import BUS_KINDS, ApiClient
from lgsp.auth.repository import ClientRepository, RevocationRepository
from lgsp.auth.schemas import (
    Jwks,
    OAuthErrorResponse,
    TokenResponse,
    TokenRevocation,
    TokenRevoked,
)
from lgsp.auth.tokens import ADMIN_SCOPE, LONGEST_TOKEN_TTL, issue_token, verify_token
from lgsp.db import write_after_read
from lgsp.deps import (
    AdminDep,
    AuditContextDep,
    BusDep,
    InstanceDep,
    SessionDep,
    SettingsDep,
    record_admin_change,
    record_pending,
)
from lgsp.errors import (
    AccessDenied,
    InvalidRequest,
    InvalidToken,
    OAuthError,
    RateLimited,
    problem_responses,
)
from lgsp.state import BusState, InstanceState

router = APIRouter(tags=["auth"])


def _form_body(*, required: str, **fields: dict[str, Any]) -> dict[str, Any]:
    """An RFC 6749 form body for the OpenAPI document; the client may authenticate in it too."""
    properties = {**fields, "client_id": {"type": "string"}, "client_secret": {"type": "string"}}
    schema = {"type": "object", "required": [required], "properties": properties}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


MAX_FORM_BYTES = 8192
_CLIENT_ID = re.compile(CLIENT_ID_PATTERN)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthErrorResponse},
        401: {"model": OAuthErrorResponse},
        429: {"model": OAuthErrorResponse},
    },
    openapi_extra=_form_body(
        required="grant_type",
        grant_type={"type": "string", "enum": ["client_credentials"]},
        scope={"type": "string"},
    ),
)
async def issue_access_token(
    request: Request,
    instance: InstanceDep,
    session: SessionDep,
    settings: SettingsDep,
    bus: BusDep,
    audit: AuditContextDep,
) -> JSONResponse:
    """Client-credentials grant (RFC 6749 §4.4); the client authenticates by Basic or form."""
    form = await _read_form(request)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        raise OAuthError(
            "unsupported_grant_type", "Only the client_credentials grant is supported."
        )
    client = await _authenticate_client(request, form, instance, session, bus, audit)
    granted = {right.service for right in client.rights} | (
        {ADMIN_SCOPE} if client.is_admin else set()
    )
    requested = set(form.get("scope", "").split())
    if requested - granted:
        raise OAuthError(
            "invalid_scope",
            f"The client may not request: {', '.join(sorted(requested - granted))}.",
        )
    scopes = requested or granted
    ttl = timedelta(seconds=settings.token_ttl_seconds)
    token = issue_token(
        instance.keys,
        issuer=instance.issuer,
        client_id=client.client_id,
        scopes=scopes,
        ttl=ttl,
        now=datetime.now(UTC),
    )
    body = TokenResponse(
        access_token=token, expires_in=int(ttl.total_seconds()), scope=" ".join(sorted(scopes))
    )
    # RFC 6749 §5.1: responses carrying tokens must not be cached.
    return JSONResponse(body.model_dump(), headers=_NO_STORE)


@router.post(
    "/token/revoke",
    responses={
        200: {"description": "Revoked, or nothing to revoke (RFC 7009 §2.2)"},
        400: {"model": OAuthErrorResponse},
        401: {"model": OAuthErrorResponse},
        429: {"model": OAuthErrorResponse},
    },
    openapi_extra=_form_body(
        required="token", token={"type": "string"}, token_type_hint={"type": "string"}
    ),
)
async def revoke_access_token(
    request: Request,
    instance: InstanceDep,
    session: SessionDep,
    bus: BusDep,
    audit: AuditContextDep,
) -> Response:
    """Token revocation (RFC 7009): the client that holds a token ends it before its expiry.

    The client authenticates as at the token endpoint and may revoke only its own tokens. A
    token that is malformed, expired or not this instance's is answered 200 all the same: there
    is nothing left to revoke (§2.2). `token_type_hint` is accepted and ignored, as every token
    here is an access token.
    """
    form = await _read_form(request)
    token = form.get("token")
    if not token:
        raise OAuthError("invalid_request", "token is required.")
    client = await _authenticate_client(request, form, instance, session, bus, audit)
    try:
        claims = verify_token(
            token,
            instance.keys,
            issuer=instance.issuer,
            algorithms=list(bus.settings.jwt_algorithms),
        )
    except InvalidToken:
        return Response(status_code=200, headers=_NO_STORE)
    if claims.client_id != client.client_id:
        raise OAuthError("unauthorized_client", "The token was not issued to this client.")
    await record_pending(bus, instance, client.client_id, None, request, await request.body())
    await _record_revocation(
        bus,
        session,
        instance,
        jti=claims.jti,
        client_id=claims.client_id,
        expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
    )
    return Response(status_code=200, headers=_NO_STORE)


@router.post(
    "/admin/revoked-tokens",
    tags=["admin"],
    dependencies=[Depends(record_admin_change)],
    responses=problem_responses(InvalidToken, AccessDenied, InvalidRequest, RateLimited),
)
async def revoke_token_by_id(
    body: TokenRevocation,
    _admin: AdminDep,
    instance: InstanceDep,
    session: SessionDep,
    bus: BusDep,
) -> TokenRevoked:
    """Revoke any client's token by its `jti` claim (e.g. one found in a leaked log).

    Its expiry is unknown here, so the entry is kept for the longest token lifetime.
    """
    newly = await _record_revocation(
        bus,
        session,
        instance,
        jti=body.jti,
        client_id=None,
        expires_at=datetime.now(UTC) + LONGEST_TOKEN_TTL,
    )
    return TokenRevoked(jti=body.jti, newly_revoked=newly)


async def _record_revocation(
    bus: BusState,
    session: AsyncSession,
    instance: InstanceState,
    *,
    jti: str,
    client_id: str | None,
    expires_at: datetime,
) -> bool:
    """Commit the revocation before answering; it applies in this process at once.

    The session has read (the caller's credentials), so the write begins anew holding SQLite's
    write lock (`write_after_read`), as every other write that follows a read does."""
    await write_after_read(session)
    newly = await RevocationRepository(session).revoke(
        instance=instance.spec.name,
        jti=jti,
        client_id=client_id,
        expires_at=expires_at,
        at=datetime.now(UTC),
    )
    await session.commit()
    bus.deny_list.add(instance.spec.name, jti)
    return newly


async def _authenticate_client(
    request: Request,
    form: dict[str, str],
    instance: InstanceState,
    session: AsyncSession,
    bus: BusState,
    audit: AuditContext,
) -> ApiClient:
    """RFC 6749 §2.3.1 client authentication, with failed attempts throttled (429)."""
    client_id, secret = _client_credentials(request, form)
    audit.caller = client_id
    limiter = bus.login_limiter
    address = request.client.host if request.client else "-"
    who = {"client": client_id, "address": f"{instance.spec.name}:{address}"}
    client = None
    if _CLIENT_ID.fullmatch(client_id):  # anything else is no client of ours, and stays out of SQL
        client = await ClientRepository(session).get(instance.spec.name, client_id)
    secret_ok = await secret_matches(secret, client.secret_hash if client else DUMMY_SECRET_HASH)
    authenticated = client is not None and secret_ok and client.revoked_at is None
    # The bus's own system and federation clients are never locked out: their calls come from
    # the same address as anyone's in-process (127.0.0.1), and their secrets are not guessable.
    bus_client = authenticated and client is not None and client.kind in BUS_KINDS
    wait = 0 if bus_client else limiter.retry_after(**who)
    if wait:
        raise OAuthError(  # RFC 6749 §5.2 has no code for it: 429 (RFC 6585 §4) says the rest
            "invalid_request",
            f"Too many failed attempts; retry in {wait} s.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    if not authenticated or client is None:
        limiter.record_failure(**who)
        raise OAuthError("invalid_client", "Client authentication failed.", status=401)
    limiter.record_success(**who)
    return client


async def _read_form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(
            "invalid_request", "Send the parameters as application/x-www-form-urlencoded."
        )
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError("invalid_request", "The token request is too large.")
    form = await request.form(max_files=0, max_fields=20)
    values: dict[str, str] = {}
    for key in form:
        entries = form.getlist(key)
        if len(entries) != 1 or not isinstance(entries[0], str):
            # RFC 6749 §3.2: parameters must not be included more than once.
            raise OAuthError("invalid_request", f"Parameter {key} must be sent exactly once.")
        values[key] = entries[0]
    return values


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """RFC 6749 §2.3.1: HTTP Basic or form fields, but never both."""
    authorization = request.headers.get("authorization", "")
    in_form = "client_id" in form or "client_secret" in form
    if authorization:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", "Use HTTP Basic authentication.", status=401)
        if in_form:
            raise OAuthError("invalid_request", "Authenticate with Basic or form fields, not both.")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError(
                "invalid_client", "The Basic credentials are not valid base64.", status=401
            ) from None
        client_id, separator, secret = decoded.partition(":")
        if not separator:
            raise OAuthError("invalid_client", "Basic credentials need id:secret.", status=401)
        # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
        return unquote(client_id), unquote(secret)
    if not form.get("client_id") or not form.get("client_secret"):
        raise OAuthError("invalid_client", "Client credentials are required.", status=401)
    return form["client_id"], form["client_secret"]


@router.get("/.well-known/jwks.json", response_model=Jwks)
async def published_keys(instance: InstanceDep) -> dict[str, object]:
    """The public keys that verify this instance's tokens (RFC 7517)."""
    return instance.keys.jwks
