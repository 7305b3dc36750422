"""The only module that reads request state: typed accessors and their `Annotated` aliases.

Handlers declare what they need (`BusDep`, `InstanceDep`, `SessionDep`, `CallerDep`, …); below
the router layer everything is passed as arguments.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from lgsp.audit.recorder import AUDIT_SCOPE_KEY, AuditContext
from lgsp.auth.client_cache import ClientSnapshot
from lgsp.auth.repository import ClientRepository
from lgsp.auth.tokens import ADMIN_SCOPE, verify_token
from lgsp.errors import AccessDenied, InvalidToken
from lgsp.settings import Settings
from lgsp.state import BusState, InstanceState

BUS_STATE_KEY = "bus"


def bus_state_from_scope(scope: Scope) -> BusState:
    state = scope.get("state", {}).get(BUS_STATE_KEY)
    if not isinstance(state, BusState):
        raise RuntimeError(
            "the bus lifespan has not run: serve the app with uvicorn or wrap it in "
            "asgi_lifespan.LifespanManager before sending requests"
        )
    return state


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


@dataclass(frozen=True)
class Caller:
    """An authenticated client, as of this request: its token's scopes and its current rights."""

    client_id: str
    scopes: frozenset[str]
    is_admin: bool
    rights: dict[str, str]

    def may_call(self, service: str, method: str) -> bool:
        methods = self.rights.get(service)
        if methods is None or service not in self.scopes:
            return False
        return methods == "*" or method in methods.split(",")


async def get_caller(
    request: Request,
    bus: BusDep,
    instance: InstanceDep,
    session: SessionDep,
    audit: AuditContextDep,
) -> Caller:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("Send the access token as `Authorization: Bearer <token>`.")
    claims = verify_token(
        token.strip(),
        instance.keys,
        issuer=instance.issuer,
        algorithms=list(bus.settings.jwt_algorithms),
    )
    audit.caller = claims.client_id
    snapshot = await _client_snapshot(bus, session, instance.spec.name, claims.client_id)
    if snapshot is None or snapshot.revoked:
        raise InvalidToken("The client this token was issued to is revoked or unknown.")
    return Caller(
        client_id=claims.client_id,
        scopes=claims.scopes,
        is_admin=snapshot.is_admin,
        rights=snapshot.rights,
    )


async def _client_snapshot(
    bus: BusState, session: AsyncSession, instance: str, client_id: str
) -> ClientSnapshot | None:
    """Rights are checked on every call (as X-Road does), from a cache of a few seconds."""
    hit, snapshot = bus.client_cache.get(instance, client_id)
    if hit:
        return snapshot
    client = await ClientRepository(session).get(instance, client_id)
    snapshot = (
        None
        if client is None
        else ClientSnapshot(
            is_admin=client.is_admin,
            rights={right.service: right.methods for right in client.rights},
            revoked=client.revoked_at is not None,
        )
    )
    bus.client_cache.put(instance, client_id, snapshot)
    return snapshot


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_admin(caller: CallerDep) -> Caller:
    if not (caller.is_admin and ADMIN_SCOPE in caller.scopes):
        raise AccessDenied("This endpoint needs an admin client and a token with the admin scope.")
    return caller


AdminDep = Annotated[Caller, Depends(get_admin)]
