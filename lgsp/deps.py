"""The only module that reads request state: typed accessors and their `Annotated` aliases.

Handlers declare what they need (`BusDep`, `InstanceDep`, `SessionDep`, `CallerDep`, …); below
the router layer everything is passed as arguments.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from kit.values import value_object
from lgsp.audit.context import AUDIT_SCOPE_KEY, SAFE_METHODS, AuditContext, pending_entry
from lgsp.auth.client_cache import ClientSnapshot
from lgsp.auth.models import BUS_KINDS, STRICT
from lgsp.auth.rate_limit import RateLimit, limit_for
from lgsp.auth.repository import ClientRepository, RevocationRepository
from lgsp.auth.tokens import ADMIN_SCOPE, TokenClaims
from lgsp.errors import (
    AccessDenied,
    AuditUnavailable,
    InvalidToken,
    LgspError,
    RateLimited,
    problem_responses,
)
from lgsp.logging import request_id_var
from lgsp.masking import audit_text
from lgsp.settings import Settings
from lgsp.state import BusState, InstanceState, bus_state_from_scope


async def get_bus(request: Request) -> BusState:
    return bus_state_from_scope(request.scope)


BusDep = Annotated[BusState, Depends(get_bus)]


async def get_settings(bus: BusDep) -> Settings:
    return bus.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_instance(request: Request, bus: BusDep) -> InstanceState:
    name: str = request.app.state.instance_name
    instance: InstanceState = bus.instances[name]
    return instance


InstanceDep = Annotated[InstanceState, Depends(get_instance)]


async def get_audit_context(request: Request) -> AuditContext:
    context = request.scope.get(AUDIT_SCOPE_KEY)
    if not isinstance(context, AuditContext):
        raise RuntimeError("instance apps must be wrapped in AuditRecorder")
    return context


AuditContextDep = Annotated[AuditContext, Depends(get_audit_context)]


async def get_session(bus: BusDep) -> AsyncIterator[AsyncSession]:
    async with bus.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


@value_object
class Caller:
    """An authenticated client, as of this request: its token's scopes and its current rights."""

    client_id: str
    scopes: frozenset[str]
    grant: ClientSnapshot
    """What the client is granted as of this request: admin, rights, kind, organisation, and
    strict handling (its calls read as under `Prefer: handling=strict`, whatever they send)."""

    @property
    def is_bus_client(self) -> bool:
        """One of the bus's own systems or a federation peer: never a tenant's client."""
        return self.grant.kind in BUS_KINDS

    def may_call(self, service: str, method: str) -> bool:
        return service in self.scopes and self.may_call_with_any_scope(service, method)

    def may_call_with_any_scope(self, service: str, method: str) -> bool:
        """Whether the client's rights allow the call, whatever its token's scopes."""
        methods = self.grant.rights.get(service)
        if methods is None:
            return False
        return methods == "*" or method in methods.split(",")


async def get_caller(
    request: Request,
    bus: BusDep,
    instance: InstanceDep,
    audit: AuditContextDep,
) -> Caller:
    return await authenticate(request, bus, instance, audit)


async def authenticate(
    request: Request,
    bus: BusState,
    instance: InstanceState,
    audit: AuditContext,
    authorization: str | None = None,
) -> Caller:
    """The token's client, refused if the token or the client is revoked, then rate-limited.

    Checked in that order on every call: signature and claims (401; a token already verified
    is taken from `instance.verified_tokens` until it expires), revoked token (401), revoked or
    unknown client (401), the client's rate for this service (429). A plain function, for the
    invocation route that runs without dependency injection (`lgsp.routing.dispatch`), which
    gives the `Authorization` field it has read already (`""` when absent); None: read here.
    """
    if authorization is None:
        authorization = _authorization(request.scope)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send the access token as `Authorization: Bearer <token>`.")
    claims = instance.verified_tokens.verify(
        token.strip(),
        instance.keys,
        issuer=instance.issuer,
        algorithms=bus.settings.jwt_algorithms,
    )
    audit.caller = claims.client_id
    name = instance.spec.name
    # Both copies are read directly while fresh: no coroutine or loader per call (issue 21).
    revoked = bus.deny_list.cached(name, claims.jti)
    if revoked is None:
        revoked = await _is_revoked(bus, name, claims)
    if revoked:
        raise InvalidToken("The access token has been revoked; request a new one.")
    hit, snapshot = bus.client_cache.get(name, claims.client_id)
    if not hit:
        snapshot = await _client_snapshot(bus, name, claims.client_id)
    if snapshot is None or snapshot.revoked:
        raise InvalidToken("The client this token was issued to is revoked or unknown.")
    # Gateway endpoints of its own (catalog, admin) share one bucket per client, named `-`.
    service = str(request.path_params.get("service_id", "-"))
    _enforce_rate(bus, name, claims.client_id, service, snapshot)
    return Caller(claims.client_id, claims.scopes, snapshot)  # by position: cheaper (issue 21)


async def _is_revoked(bus: BusState, instance: str, claims: TokenClaims) -> bool:
    """From a per-process copy of the deny-list, reloaded every `client_cache_seconds`.

    The reload has a session of its own, returned at once: one borrowed from a request would
    hold a pooled connection while other requests wait on the reload's lock, and under load
    every connection ends up held by a waiter (a deadlock until the pool times out).
    """

    async def load() -> set[str]:
        async with bus.session_factory() as session:
            return await RevocationRepository(session).active_jtis(instance, now=datetime.now(UTC))

    return await bus.deny_list.is_revoked(
        instance, claims.jti, ttl=bus.settings.client_cache_seconds, load=load
    )


def _authorization(scope: Scope) -> str:
    """The `Authorization` field (the first, as Starlette's `Headers.get` gives it), read from
    the scope without building the request's `Headers` (issue 21)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


@functools.lru_cache(maxsize=16)
def _default_limit(per_second: float, burst: int) -> RateLimit:
    """The settings' rate, made once rather than on every call."""
    return RateLimit(per_second, burst)


def _enforce_rate(
    bus: BusState, instance: str, client_id: str, service: str, snapshot: ClientSnapshot
) -> None:
    settings = bus.settings
    default = _default_limit(settings.rate_limit_per_second, settings.rate_limit_burst)
    limit = limit_for(snapshot.rate_limits, service, default=default)
    # Acquired here rather than by `take_or_refuse`: the refusal's text is formatted only for a
    # refused call, not on every call (issue 21).
    wait = bus.rate_limiter.acquire(instance, client_id, service, limit)
    if wait:
        raise _refusal(
            client_id, f"call {service} at most {limit.per_second:g} times a second", wait
        )


def take_or_refuse(
    bus: BusState,
    instance: str,
    client_id: str,
    bucket: str,
    limit: RateLimit,
    *,
    allowance: str,
) -> None:
    """One call from `client_id`'s `bucket`, or 429 `RateLimited` saying what it may do
    (`allowance`) and when to come back."""
    wait = bus.rate_limiter.acquire(instance, client_id, bucket, limit)
    if wait:
        raise _refusal(client_id, allowance, wait)


def _refusal(client_id: str, allowance: str, wait: int) -> RateLimited:
    return RateLimited(f"Client {client_id} may {allowance}; retry in {wait} s.", retry_after=wait)


async def _client_snapshot(bus: BusState, instance: str, client_id: str) -> ClientSnapshot | None:
    """Rights are checked on every call (as X-Road does), from a cache of a few seconds.

    A short session of its own: the connection goes back to the pool before the call goes on
    to the owning system, rather than being held for the whole request.
    """

    async def load() -> ClientSnapshot | None:
        async with bus.session_factory() as session:
            client = await ClientRepository(session).get(instance, client_id)
            if client is None:
                return None
            return ClientSnapshot(
                is_admin=client.is_admin,
                rights={right.service: right.methods for right in client.rights},
                revoked=client.revoked_at is not None,
                rate_limits={
                    limit.service: RateLimit(limit.per_second, limit.burst)
                    for limit in client.rate_limits
                },
                kind=client.kind,
                organisation=client.organisation,
                strict=client.handling == STRICT,
            )

    return await bus.client_cache.get_or_load(instance, client_id, load)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_admin(caller: CallerDep) -> Caller:
    if not (caller.grant.is_admin and ADMIN_SCOPE in caller.scopes):
        raise AccessDenied("This endpoint needs an admin client and a token with the admin scope.")
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]


def is_bus_admin(caller: Caller, settings: Settings) -> bool:
    """The bus-wide admin (the demo client): it acts on every instance of the process, where an
    instance's own admin clients act on that instance only."""
    return caller.client_id == settings.demo_client_id


async def record_pending(
    bus: BusState,
    instance: InstanceState,
    caller: str,
    service: str | None,
    request: Request,
    body: bytes,
) -> None:
    """Commit the caller's `pending` record before the call changes anything (probe F16)."""
    entry = pending_entry(
        request_id=request_id_var.get() or "",
        instance=instance.spec.name,
        caller=caller,
        service=service,
        method=request.method,
        path=audit_text(request.scope["path"]),
        body=body,
    )
    try:
        await bus.audit_writer.append([entry])
    except Exception as error:
        raise AuditUnavailable(
            "Nothing was done because the audit record could not be committed; retry."
        ) from error


async def record_admin_change(
    request: Request, bus: BusDep, instance: InstanceDep, admin: AdminDep
) -> None:
    """An admin call that changes state (reset, fault rules, re-drive, …) gets its record first."""
    if request.method not in SAFE_METHODS:
        await record_pending(bus, instance, admin.client_id, None, request, await request.body())


def admin_router(prefix: str, *every_route: type[LgspError]) -> APIRouter:
    """A router for admin clients only: every route checks the caller and documents the 401
    and 403 that check may answer, so an admin endpoint cannot forget either; and the errors
    `every_route` of the router may answer besides, documented once. (A route's own entry for
    a status replaces the router's: a route that answers another error with the same status
    names both.)"""
    return APIRouter(
        prefix=prefix,
        tags=["admin"],
        dependencies=[Depends(get_admin), Depends(record_admin_change)],
        responses=problem_responses(InvalidToken, AccessDenied, *every_route),
    )
