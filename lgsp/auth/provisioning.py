"""The clients every instance holds from the start: the demo client, one client per embedded
system that calls the bus, and the federation clients between NDXP and the provinces.

Provisioned at every start, with the instance's signing key, under a lock, so that processes
starting together (`lgsp serve --workers`) agree on one key and one secret per client.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kit.db import hold_advisory_lock
from lgsp.auth.clients import ALL_METHODS, ensure_client
from lgsp.auth.credentials import check_chosen_secret
from lgsp.auth.federation import NDXP_CLIENT_ID, federation_secret, province_client_id
from lgsp.auth.keys import (
    KeyCipher,
    KeyForge,
    KeySet,
    instances_without_keys,
    load_or_create_keys,
)
from lgsp.auth.models import FEDERATION, SYSTEM, ApiClient
from lgsp.auth.repository import ClientRepository
from lgsp.catalog.loader import Catalog
from lgsp.settings import DEMO_CLIENT_SECRET, Settings
from lgsp.topology import InstanceSpec, Topology

PROVISIONING_LOCK_ID = 0x4C475351  # next to kit.db's SCHEMA_LOCK_ID ("LGSP" + 1)


def system_client_id(system: str) -> str:
    """An embedded system's client on its own LGSP."""
    return f"system-{system}"


def system_secret(settings: Settings, *, instance: str, system: str) -> str:
    """That client's secret: derived, not random, because every worker serving the instance
    (`lgsp serve --workers`) must give its mocks the secret the database holds, whichever
    worker provisioned it last."""
    return federation_secret(
        settings.federation_secret.get_secret_value(),
        instance=instance,
        client_id=system_client_id(system),
    )


async def provision_instance(
    session_factory: async_sessionmaker[AsyncSession],
    spec: InstanceSpec,
    *,
    topology: Topology,
    catalog: Catalog,
    settings: Settings,
    system_rights: Mapping[str, dict[str, str]],
    forge: KeyForge | None = None,
) -> KeySet:
    """The instance's keys and clients; `system_rights`: the embedded systems that call the bus,
    with the services they call; `forge`: keys made ahead, for an instance that has none."""
    cipher = KeyCipher.from_settings(settings)
    async with session_factory.begin() as session:
        await hold_provisioning_lock(session)
        repository = ClientRepository(session)
        keys = await load_or_create_keys(repository, spec.name, cipher, forge)
        await provision_demo_client(repository, spec.name, catalog, settings)
        await _provision_system_clients(repository, spec, settings, system_rights)
        await _provision_peer_clients(repository, spec, topology, catalog, settings)
    return keys


async def key_forge(
    session_factory: async_sessionmaker[AsyncSession], served: list[InstanceSpec]
) -> KeyForge:
    """Start making keys for the served instances that have none (all of them, the first time)."""
    async with session_factory() as session:
        missing = await instances_without_keys(ClientRepository(session), [s.name for s in served])
    return KeyForge(len(missing))


async def hold_provisioning_lock(session: AsyncSession) -> None:
    """Provision one process at a time, until the transaction ends.

    Workers starting together would otherwise each create a signing key without seeing the
    other's, and refuse the tokens the other signs. SQLite: the write lock (`BEGIN IMMEDIATE`,
    lgsp/db.py); PostgreSQL: a transaction-scoped advisory lock, waited for in the server's queue
    (`kit.db.hold_advisory_lock`: one holder keeping it too long fails the start, named).
    """
    connection = await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
    if connection.dialect.name == "postgresql":
        await hold_advisory_lock(connection, PROVISIONING_LOCK_ID, purpose="provisioning clients")


async def provision_demo_client(
    repository: ClientRepository, instance: str, catalog: Catalog, settings: Settings
) -> None:
    """The demo client may call every service and read the audit log of every instance."""
    if demo_secret_is_chosen(settings):  # refused here, where its setting can be named
        check_chosen_secret(
            settings.demo_client_secret.get_secret_value(), name="LGSP_DEMO_CLIENT_SECRET"
        )
    await ensure_client(
        repository,
        instance=instance,
        client_id=settings.demo_client_id,
        secret=settings.demo_client_secret.get_secret_value(),
        name="Demo client",
        rights={service.id: ALL_METHODS for service in catalog},
        is_admin=True,
        chosen=demo_secret_is_chosen(settings),
    )


async def demo_client_draft(instance: str, catalog: Catalog, settings: Settings) -> ApiClient:
    """The demo client of `instance` exactly as provisioning writes it where there is none (a
    fresh bus): its row, rights, rate limits and identity, as objects in no session. What a
    reset brings the demo client back to, every column of it, without a copy of this module's
    choices that could drift from them."""
    drafts = _Drafts()
    await provision_demo_client(drafts, instance, catalog, settings)
    return drafts.drafted(instance, settings.demo_client_id)


class _DraftSession:
    """The two calls `ClientRepository.add` makes of its session: it only keeps what is added."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, instance: object) -> None:
        self.added.append(instance)

    async def flush(self) -> None:
        return None


class _Drafts(ClientRepository):
    """A repository over no database, holding no client: provisioning creates each client it
    is asked for, and the rows it would insert are kept here."""

    def __init__(self) -> None:
        self.drafts = _DraftSession()
        super().__init__(cast(AsyncSession, self.drafts))

    async def get(self, instance: str, client_id: str) -> ApiClient | None:
        return None

    def drafted(self, instance: str, client_id: str) -> ApiClient:
        for added in self.drafts.added:
            if isinstance(added, ApiClient) and (added.instance, added.client_id) == (
                instance,
                client_id,
            ):
                return added
        raise RuntimeError(f"provisioning wrote no client {client_id} of {instance}")


def demo_secret_is_chosen(settings: Settings) -> bool:
    """Whether an operator chose the demo client's secret: it is then checked for length and
    hashed slowly. The published default is neither: the README prints it, so a slow hash
    would hide nothing, and every test's token would pay for one."""
    return settings.demo_client_secret.get_secret_value() != DEMO_CLIENT_SECRET


async def _provision_system_clients(
    repository: ClientRepository,
    spec: InstanceSpec,
    settings: Settings,
    system_rights: Mapping[str, dict[str, str]],
) -> None:
    """Each embedded system that calls the bus gets its own client, with the rights it needs."""
    for name, rights in system_rights.items():
        await ensure_client(
            repository,
            instance=spec.name,
            client_id=system_client_id(name),
            secret=system_secret(settings, instance=spec.name, system=name),
            name=f"System {name} of {spec.name}",
            rights=rights,
            is_admin=False,
            kind=SYSTEM,
        )


async def _provision_peer_clients(
    repository: ClientRepository,
    spec: InstanceSpec,
    topology: Topology,
    catalog: Catalog,
    settings: Settings,
) -> None:
    """NDXP knows each province as a client, each province knows NDXP (auth/federation.py)."""
    shared = settings.federation_secret.get_secret_value()
    if spec.kind == "national":
        every_service = {service.id: ALL_METHODS for service in catalog}
        for province in topology.instances:
            if province.kind != "province":
                continue
            client_id = province_client_id(province.name)
            await ensure_client(
                repository,
                instance=spec.name,
                client_id=client_id,
                secret=federation_secret(shared, instance=spec.name, client_id=client_id),
                name=f"{province.title} (through NDXP)",
                rights=province.ndxp_rights if province.ndxp_rights is not None else every_service,
                is_admin=False,
                kind=FEDERATION,
            )
        return
    await ensure_client(
        repository,
        instance=spec.name,
        client_id=NDXP_CLIENT_ID,
        secret=federation_secret(shared, instance=spec.name, client_id=NDXP_CLIENT_ID),
        name="NDXP, forwarding calls of other provinces and national systems",
        rights={service.id: ALL_METHODS for service in catalog if service.owner == "province"},
        is_admin=False,
        kind=FEDERATION,
    )
