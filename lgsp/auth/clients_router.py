"""`{base}/admin/clients…`: who may call the instance, managed over HTTP by its admin clients.

What `lgsp clients create|list|revoke` does on the database, as an admin call: authorised and
audited like every other (the console's clients screen is its first user). The bus's own system
and federation clients are provisioned from the configuration and are not changed here, nor is
the admin client making the call (it would lock itself out). A change applies at once in this
process, and in other processes within `LGSP_CLIENT_CACHE_SECONDS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path

from lgsp.auth.clients import (
    ALL_METHODS,
    CLIENT_ID_PATTERN,
    RightsError,
    parse_rights,
    refuse_misplaced_organisation,
    register_client,
)
from lgsp.auth.models import STRICT, TENANT, AccessRight, ApiClient
from lgsp.auth.repository import ClientRepository
from lgsp.auth.schemas import (
    ClientCreated,
    ClientHandling,
    ClientHandlingSet,
    ClientIn,
    ClientList,
    ClientOut,
    RightsIn,
)
from lgsp.ca.tasks import refuse_closed_organisation
from lgsp.db import write_after_read
from lgsp.deps import AdminDep, BusDep, InstanceDep, SessionDep, admin_router
from lgsp.errors import (
    AgencyOfOtherProvince,
    CentralAgencyAtProvince,
    ClientProtected,
    InvalidRequest,
    NotFound,
    UnknownOrganisation,
    problem_responses,
)
from lgsp.routing.systems import organisations
from lgsp.state import BusState

router = admin_router("/admin/clients")

ClientId = Annotated[str, Path(min_length=1, max_length=64, pattern=f"^{CLIENT_ID_PATTERN}$")]


@router.get("")
async def list_clients(instance: InstanceDep, session: SessionDep) -> ClientList:
    """This instance's clients, oldest first, with their rights (never their secrets)."""
    clients = await ClientRepository(session).list(instance.spec.name)
    return ClientList(clients=[ClientOut.model_validate(client) for client in clients])


@router.post(
    "",
    status_code=201,
    responses=problem_responses(
        InvalidRequest, CentralAgencyAtProvince, AgencyOfOtherProvince, UnknownOrganisation
    ),
)
async def create_client(
    instance: InstanceDep, bus: BusDep, session: SessionDep, client: ClientIn
) -> ClientCreated:
    """Register a client; its secret is in this answer only (the bus keeps its hash)."""
    rights = _checked(bus, client.rights)
    if client.organisation is not None:  # not for a body the 2025 merger closed (era 2026)
        refuse_misplaced_organisation(
            client.organisation,
            instance=instance.spec,
            instances=bus.topology.instances,
            systems=bus.systems,
            settings=bus.settings,
            provinces=bus.topology.provinces,
        )
        served = [i.spec for i in bus.instances.values()]
        refuse_closed_organisation(
            client.organisation,
            era=bus.settings.era,
            on=datetime.now(UTC).date(),
            directory=organisations(
                bus.systems, served, bus.settings, provinces=bus.topology.provinces
            ),
        )
    await write_after_read(session)
    repository = ClientRepository(session)
    new = await register_client(
        repository,
        instance=instance.spec.name,
        name=client.name,
        rights=rights,
        is_admin=client.is_admin,
        organisation=client.organisation,
    )
    await session.commit()
    stored = await repository.get(instance.spec.name, new.client_id)
    if stored is None:  # committed just now, in this session
        raise RuntimeError(f"client {new.client_id} vanished after its registration")
    shown = ClientOut.model_validate(stored).model_dump()
    return ClientCreated(**shown, client_secret=new.client_secret)


@router.post(
    "/{client_id}/revoke",
    responses=problem_responses(NotFound, ClientProtected),
)
async def revoke_client(
    instance: InstanceDep, bus: BusDep, session: SessionDep, admin: AdminDep, client_id: ClientId
) -> ClientOut:
    """Revoke a client: its tokens stop working (a revoked client stays revoked)."""
    name = instance.spec.name
    await write_after_read(session)
    client = await _changeable(ClientRepository(session), name, client_id, admin.client_id)
    await ClientRepository(session).revoke(name, client_id, at=datetime.now(UTC))
    await session.commit()
    bus.client_cache.forget(name, client_id)
    return ClientOut.model_validate(client)


@router.put(
    "/{client_id}/rights",
    responses=problem_responses(NotFound, ClientProtected, InvalidRequest),
)
async def replace_rights(
    instance: InstanceDep,
    bus: BusDep,
    session: SessionDep,
    admin: AdminDep,
    client_id: ClientId,
    body: RightsIn,
) -> ClientOut:
    """Replace the client's rights: each service it may call, with `*` or its methods."""
    name = instance.spec.name
    rights = _checked(bus, body.rights)
    await write_after_read(session)
    client = await _changeable(ClientRepository(session), name, client_id, admin.client_id)
    kept = {right.service: right for right in client.rights}
    client.rights[:] = [
        _right(kept.get(service), service, methods) for service, methods in sorted(rights.items())
    ]
    await session.commit()
    bus.client_cache.forget(name, client_id)
    return ClientOut.model_validate(client)


def _checked(bus: BusState, rights: dict[str, str]) -> dict[str, str]:
    """Known services only; methods sorted and without repeats, as the CLI stores them."""
    specs = [s if m == ALL_METHODS else f"{s}:{m}" for s, m in rights.items()]
    try:
        return parse_rights(specs, known_services={service.id for service in bus.catalog})
    except RightsError as error:
        raise InvalidRequest(str(error)) from None


@router.put(
    "/{client_id}/handling",
    responses=problem_responses(NotFound, InvalidRequest),
)
async def set_client_handling(
    client_id: ClientId,
    body: ClientHandling,
    instance: InstanceDep,
    session: SessionDep,
    bus: BusDep,
) -> ClientHandlingSet:
    """Set a client of this instance to strict handling (every call read as under `Prefer:
    handling=strict`) or back to lenient; it applies at once in this process, and within
    LGSP_CLIENT_CACHE_SECONDS in others (as `lgsp clients update`)."""
    name = instance.spec.name
    await write_after_read(session)  # the read of the caller's credentials ends first
    handling = STRICT if body.handling == STRICT else None
    client = await ClientRepository(session).set_handling(name, client_id, handling)
    if client is None:
        raise NotFound(f"There is no client {client_id} on instance {name}.")
    await session.commit()
    bus.client_cache.forget(name, client_id)
    return ClientHandlingSet(client_id=client_id, handling=body.handling)


async def _changeable(
    repository: ClientRepository, instance: str, client_id: str, caller: str
) -> ApiClient:
    client = await repository.get(instance, client_id)
    if client is None:
        raise NotFound(f"There is no client {client_id} on {instance}.")
    if client.kind != TENANT or client_id == caller:
        raise ClientProtected(
            f"Client {client_id} is the bus's own or the caller itself: change it in the "
            "configuration, or as another admin client."
        )
    return client


def _right(existing: AccessRight | None, service: str, methods: str) -> AccessRight:
    if existing is None:
        return AccessRight(service=service, methods=methods)
    existing.methods = methods
    return existing
