"""Registering API clients, shared by the CLI and the demo client provisioned at start."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from formats.codes import CENTRAL_ORGAN_ID
from lgsp.auth.credentials import (
    check_chosen_secret,
    generate_client_id,
    generate_client_secret,
    hash_chosen_secret,
    hash_secret,
    is_slow_hash,
    verify_secret,
)
from lgsp.auth.models import TENANT, AccessRight, ApiClient, ClientIdentity
from lgsp.auth.rate_limit import RateLimit
from lgsp.auth.repository import ClientRepository
from lgsp.errors import AgencyOfOtherProvince, CentralAgencyAtProvince, UnknownOrganisation
from lgsp.routing.systems import SystemRegistry, central_bodies, organisations
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec

CLIENT_ID_PATTERN = r"[A-Za-z0-9._-]{1,64}"
"""What a client id may be: those the bus provisions and `register_client` makes. Anything
else names no client: the token endpoint leaves it out of SQL, the admin API refuses it (422)."""

_CENTRAL_ORGAN_ID = re.compile(CENTRAL_ORGAN_ID)

ALL_METHODS = "*"
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


class RightsError(ValueError):
    """A `--service` argument names an unknown service or method."""


@dataclass(frozen=True)
class NewClient:
    client_id: str
    client_secret: str


def parse_rights(specs: list[str], *, known_services: set[str]) -> dict[str, str]:
    """`dancu` grants every method; `dancu:GET,POST` only those."""
    rights: dict[str, str] = {}
    for spec in specs:
        service, _, methods = spec.partition(":")
        if service not in known_services:
            raise RightsError(
                f"unknown service {service!r} (known: {', '.join(sorted(known_services))})"
            )
        if not methods:
            rights[service] = ALL_METHODS
            continue
        names = sorted({m.strip().upper() for m in methods.split(",") if m.strip()})
        unknown = [m for m in names if m not in _METHODS]
        if unknown or not names:
            raise RightsError(f"{spec!r}: methods must be among {', '.join(sorted(_METHODS))}")
        rights[service] = ",".join(names)
    return rights


def refuse_central_at_province(organisation: str, *, instance: str, national: bool) -> None:
    """422 CENTRAL_AGENCY_AT_PROVINCE for a client of a province instance bound to a central
    body (a G code, DOMAIN.md §6.2): it belongs to no province, so every call such a client
    made would be refused (403 ORGANISATION_MISMATCH, `lgsp.routing.callers`); its clients
    are the national instance's, where its national inbox is read."""
    if national or not _CENTRAL_ORGAN_ID.match(organisation):
        return
    raise CentralAgencyAtProvince(
        f"{organisation} is a central body, of no province: a client of {instance} cannot act "
        "for it. Create it at the national instance (lgsp clients create --instance ndxp "
        f"--organisation {organisation}).",
        organisation=organisation,
        instance=instance,
    )


def refuse_misplaced_organisation(
    organisation: str,
    *,
    instance: InstanceSpec,
    instances: Iterable[InstanceSpec],
    systems: SystemRegistry,
    settings: Settings,
    provinces: Mapping[str, str],
) -> None:
    """Refuse a client of `instance` bound to an organisation it cannot act for, which every
    call would refuse later: a central body at a province (CENTRAL_AGENCY_AT_PROVINCE), a
    central code the national axis serves no body under (UNKNOWN_ORGANISATION, as its calls
    would be 422 CENTRAL_AGENCY_UNKNOWN), an agency a province's systems serve at another
    province's instance or at the national one, which serves central bodies and national
    systems (AGENCY_OF_OTHER_PROVINCE: a province's agency is its province's instance's). An
    organisation no embedded system knows (a real system's) is left to it. The admin API and
    `lgsp clients create` both ask this."""
    national = instance.kind == "national"
    refuse_central_at_province(organisation, instance=instance.name, national=national)
    if national and _CENTRAL_ORGAN_ID.match(organisation):
        central = central_bodies(systems, instance, settings)
        if central is not None and organisation not in central:
            raise UnknownOrganisation(
                f"The national axis serves no central body {organisation} (it serves "
                f"{', '.join(central)}; another is configured with LGSP_CENTRAL_AGENCIES): "
                "every call of such a client would be refused.",
                organ_id=organisation,
            )
        return
    homes = [
        other.name
        for other in instances
        if other.kind == "province"
        and organisation in organisations(systems, [other], settings, provinces=provinces)
    ]
    if homes and instance.name not in homes:
        whose = "a province" if national else "another province"
        serves = ", which serves central bodies and national systems" if national else ""
        raise AgencyOfOtherProvince(
            f"{organisation} is an agency of {whose} ({', '.join(homes)}): a client of "
            f"{instance.name}{serves} cannot act for it. Create it at its own province's "
            f"instance (lgsp clients create --instance {homes[0]} --organisation "
            f"{organisation}).",
            organisation=organisation,
            instance=instance.name,
        )


async def register_client(
    repository: ClientRepository,
    *,
    instance: str,
    name: str,
    rights: dict[str, str],
    is_admin: bool,
    rate_limits: dict[str, RateLimit] | None = None,
    credentials: NewClient | None = None,
    kind: str = TENANT,
    organisation: str | None = None,
    handling: str | None = None,
    chosen: bool = False,
) -> NewClient:
    """Create a client; its secret is returned this once and stored only as a hash.

    New credentials are generated unless `credentials` fixes them (a configured client);
    `chosen`: a person chose that secret, which is then hashed slowly (`lgsp.auth.credentials`).
    """
    new = credentials or NewClient(generate_client_id(), generate_client_secret())
    await repository.add(
        instance=instance,
        client_id=new.client_id,
        name=name,
        secret_hash=_stored(new.client_secret, chosen=chosen),
        is_admin=is_admin,
        rights=rights,
        created_at=datetime.now(UTC),
        rate_limits=rate_limits,
        kind=kind,
        organisation=organisation,
        handling=handling,
    )
    return new


async def ensure_client(
    repository: ClientRepository,
    *,
    instance: str,
    client_id: str,
    secret: str,
    name: str,
    rights: dict[str, str],
    is_admin: bool,
    kind: str = TENANT,
    chosen: bool = False,
) -> None:
    """Make a client with a known id and secret exist exactly as configured (the demo client).

    A revocation by an operator is kept: restarting the bus does not undo it. `chosen`: a
    person chose the secret (`LGSP_DEMO_CLIENT_SECRET`): it must be long enough (`WeakSecret`)
    and is hashed slowly.
    """
    if chosen:
        check_chosen_secret(secret, name=f"the secret of client {client_id}")
    client = await repository.get(instance, client_id)
    if client is None:
        credentials = NewClient(client_id, secret)
        await register_client(
            repository,
            instance=instance,
            name=name,
            rights=rights,
            is_admin=is_admin,
            credentials=credentials,
            kind=kind,
            chosen=chosen,
        )
        return
    conform_client(
        client, secret=secret, rights=rights, is_admin=is_admin, kind=kind, chosen=chosen
    )
    await repository.session.flush()


def conform_client(
    client: ApiClient,
    *,
    secret: str,
    chosen: bool = False,
    rights: dict[str, str],
    is_admin: bool,
    kind: str = TENANT,
) -> None:
    """Bring a loaded configured client back to its configuration: secret, admin flag, kind
    (bound to no organisation) and rights, as `register_client` makes it (`ensure_client`; a
    reset does it for several instances' at once). A chosen secret stored with the fast hash
    (before scrypt) is hashed again, slowly."""
    upgrade = chosen and not is_slow_hash(client.secret_hash)
    if upgrade or not verify_secret(secret, client.secret_hash):
        client.secret_hash = _stored(secret, chosen=chosen)
    client.is_admin = is_admin
    # The kind is the configuration's too: a tenant that took a bus client's id is not one.
    # A tenant bound to none has no identity row, as `ClientRepository.add` makes it.
    if kind == TENANT:
        client.identity = None
    else:
        if client.identity is None:
            client.identity = ClientIdentity(kind=kind)
        client.identity.kind = kind
        client.identity.organisation = None
    existing = {right.service: right for right in client.rights}
    for service, methods in rights.items():
        if service in existing:
            existing[service].methods = methods
        else:
            client.rights.append(AccessRight(service=service, methods=methods))
    # The configuration owns these clients' rights: one it no longer grants is taken away.
    if len(client.rights) != len(rights):
        client.rights[:] = [right for right in client.rights if right.service in rights]


def _stored(secret: str, *, chosen: bool) -> str:
    return hash_chosen_secret(secret) if chosen else hash_secret(secret)
