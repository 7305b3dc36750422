"""Operator tasks run by the CLI against the bus's database, with or without the bus running."""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import ADAPTERS
from formats.agency_codes import AgencyCodeClosed
from lgsp.audit.anchor import checkpoint_path
from lgsp.audit.models import AuditRecord
from lgsp.audit.repository import AuditRepository
from lgsp.audit.verify import VerifyReport, verify_chain
from lgsp.auth.clients import (
    NewClient,
    parse_rights,
    refuse_misplaced_organisation,
    register_client,
)
from lgsp.auth.keys import KeyCipher
from lgsp.auth.models import STRICT, ClientRateLimit
from lgsp.auth.rate_limit import ALL_SERVICES, parse_rates
from lgsp.auth.repository import ClientRepository, RevocationRepository
from lgsp.ca.tasks import closed_line, refuse_closed_organisation
from lgsp.catalog.loader import load_catalog
from lgsp.db import make_engine, make_session_factory
from lgsp.dialects.tokens import store_sdk_secret
from lgsp.errors import LgspError
from lgsp.models import create_schema
from lgsp.settings import Settings
from lgsp.topology import load_topology

ORGANISATION_ID = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
"""An agency id (QĐ 20/2020 organ code, DOMAIN.md), as a client's organisation."""


class NoBusDatabase(Exception):
    """A command that only reads was pointed where no bus keeps its database: `lgsp` says so
    (exit 1) rather than make an empty one and report on it."""


@asynccontextmanager
async def open_database(
    settings: Settings, *, existing: bool = False
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The bus's database, its tables made if missing; with `existing`, an SQLite file that is
    not there is refused: `lgsp audit verify --data-dir` with a mistyped folder made a new
    database and printed "audit chain intact: 0 records" (first-hour review 2026-12-07 #9)."""
    if existing:
        url = make_url(settings.resolved_database_url)
        database = url.database or ""
        if url.get_backend_name() == "sqlite" and database != ":memory:":
            if not Path(database).is_file():
                raise NoBusDatabase(
                    f"no bus database at {database}: give the --data-dir of a bus "
                    "(lgsp serve --data-dir DIR), or run the command where its ./.lgsp is"
                )
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout=settings.sqlite_busy_timeout_seconds
    )
    try:
        await create_schema(engine)
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


@asynccontextmanager
async def writing(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A transaction committed at the end that holds SQLite's write lock from its `BEGIN`: a
    command reads, then writes, beside a running bus; a read upgraded to a write fails at once
    with "database is locked" once the bus has committed in between."""
    async with sessions() as session:
        await session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        yield session
        await session.commit()


def check_instance(settings: Settings, instance: str) -> None:
    topology = load_topology(settings.topology_file, settings.era)
    if topology.get(instance) is None:
        names = ", ".join(i.name for i in topology.instances)
        raise LookupError(f"unknown instance {instance!r} (known: {names})")


async def create_client(
    settings: Settings,
    *,
    instance: str,
    name: str,
    services: list[str],
    is_admin: bool,
    rates: list[str] | None = None,
    organisation: str | None = None,
    strict: bool = False,
    sdk: bool = False,
) -> NewClient:
    """Register a client; `sdk` also keeps its secret sealed for the VDXP SDK door, whose HMAC
    needs the secret itself (lgsp.dialects.tokens)."""
    check_instance(settings, instance)
    if organisation is not None:
        _check_organisation(settings, organisation, instance=instance)
    catalog = load_catalog(settings.catalog_dir, known_adapters=set(ADAPTERS))
    known = {service.id for service in catalog}
    rights = parse_rights(services, known_services=known)
    rate_limits = parse_rates(rates or [], known_services=known)
    async with open_database(settings) as sessions, writing(sessions) as session:
        new = await register_client(
            ClientRepository(session),
            instance=instance,
            name=name,
            rights=rights,
            is_admin=is_admin,
            rate_limits=rate_limits,
            organisation=organisation,
            handling=STRICT if strict else None,
        )
        if sdk:
            cipher = KeyCipher.from_settings(settings)
            await store_sdk_secret(
                session, cipher, instance=instance, client_id=new.client_id,
                secret=new.client_secret,
            )  # fmt: skip
        return new


def organisation_directory(settings: Settings) -> dict[str, str]:
    """Every organisation the bus's embedded systems serve, as the bus-wide admin sees them."""
    from lgsp.composition import MOCK_SYSTEMS  # the mocks: only for the commands that need them
    from lgsp.routing.systems import organisations

    topology = load_topology(settings.topology_file, settings.era)
    return organisations(MOCK_SYSTEMS, topology.instances, settings, provinces=topology.provinces)


def _check_organisation(settings: Settings, organisation: str, *, instance: str) -> None:
    """An agency id, of a body that exists in the bus's era and that a client of `instance`
    may act for (AGENCY_CODE_CLOSED and `refuse_misplaced_organisation`'s refusals said as the
    admin API says them)."""
    if not ORGANISATION_ID.fullmatch(organisation):
        raise ValueError(
            f"--organisation {organisation!r} is not an agency id such as 000.00.01.H01"
        )
    from lgsp.composition import MOCK_SYSTEMS  # the mocks: only for the commands that need them

    topology = load_topology(settings.topology_file, settings.era)
    spec = topology.get(instance)
    try:
        if spec is not None:
            refuse_misplaced_organisation(
                organisation, instance=spec, instances=topology.instances, systems=MOCK_SYSTEMS,
                settings=settings, provinces=topology.provinces,
            )  # fmt: skip
    except LgspError as refusal:
        raise ValueError(f"{refusal.code}: {refusal.detail}") from refusal
    try:
        refuse_closed_organisation(
            organisation,
            era=settings.era,
            on=datetime.now(UTC).date(),
            directory=organisation_directory(settings),
        )
    except AgencyCodeClosed as refusal:
        raise ValueError(closed_line(refusal)) from refusal


async def list_clients(settings: Settings, *, instance: str | None) -> list[dict[str, Any]]:
    if instance is not None:
        check_instance(settings, instance)
    async with open_database(settings, existing=True) as sessions, sessions() as session:
        clients = await ClientRepository(session).list(instance)
        return [
            {
                "instance": client.instance,
                "client_id": client.client_id,
                "name": client.name,
                "admin": client.is_admin,
                "organisation": client.organisation,
                "handling": client.handling or "lenient",
                "services": ",".join(
                    right.service if right.methods == "*" else f"{right.service}:{right.methods}"
                    for right in client.rights
                ),
                "created_at": client.created_at.isoformat(timespec="seconds"),
                "revoked_at": client.revoked_at.isoformat(timespec="seconds")
                if client.revoked_at
                else None,
                "rate_limits": [_rate_spec(limit) for limit in client.rate_limits],
            }
            for client in clients
        ]


def _rate_spec(limit: ClientRateLimit) -> str:
    """The rate as `--rate` takes it (`dancu=5/s,burst=10`), in the first unit that counts
    whole calls (`5/m` rather than `0.083333/s`)."""
    count, unit = limit.per_second, "s"
    for factor, name in ((1, "s"), (60, "m"), (3600, "h")):
        if abs(limit.per_second * factor - round(limit.per_second * factor)) < 1e-6:
            count, unit = round(limit.per_second * factor), name
            break
    spec = f"{count:.6f}".rstrip("0").rstrip(".") + f"/{unit}"
    if limit.service != ALL_SERVICES:
        spec = f"{limit.service}={spec}"
    return f"{spec},burst={limit.burst}" if limit.burst else spec


async def set_client_handling(
    settings: Settings, *, instance: str, client_id: str, strict: bool
) -> str:
    """Set a client to strict handling or back; its calls follow within the client cache's
    seconds (`LGSP_CLIENT_CACHE_SECONDS`), as after a revocation."""
    check_instance(settings, instance)
    async with open_database(settings) as sessions, writing(sessions) as session:
        handling = STRICT if strict else None
        client = await ClientRepository(session).set_handling(instance, client_id, handling)
        if client is None:
            raise LookupError(f"no client {client_id!r} on instance {instance!r}")
        return client.handling or "lenient"


async def revoke_client(settings: Settings, *, instance: str, client_id: str) -> str:
    check_instance(settings, instance)
    async with open_database(settings) as sessions, writing(sessions) as session:
        client = await ClientRepository(session).revoke(instance, client_id, at=datetime.now(UTC))
        if client is None or client.revoked_at is None:
            raise LookupError(f"no client {client_id!r} on instance {instance!r}")
        return client.revoked_at.isoformat(timespec="seconds")


async def verify_audit(settings: Settings, *, instance: str | None) -> VerifyReport:
    """The chains against the checkpoints in the data dir, for every instance the topology
    names as well as every one found in the database."""
    if instance is not None:
        check_instance(settings, instance)
    topology = load_topology(settings.topology_file, settings.era)
    async with open_database(settings, existing=True) as sessions:
        return await verify_chain(
            sessions,
            instance=instance,
            checkpoints=checkpoint_path(settings.data_dir),
            expected=[spec.name for spec in topology.instances],
            cipher=KeyCipher.existing(settings),
        )


JTI_SHAPE = "a jti is 1 to 64 letters, digits, '.', '_' or '-'"


async def revoke_token(
    settings: Settings, *, instance: str, jti: str, expires_at: datetime | None
) -> dict[str, Any]:
    """What `POST {base}/admin/revoked-tokens` does, from the command line: the jti goes on the
    instance's deny-list until `expires_at` (unknown: the longest token lifetime from now)."""
    from pydantic import ValidationError

    from lgsp.auth.schemas import TokenRevocation
    from lgsp.auth.tokens import LONGEST_TOKEN_TTL

    check_instance(settings, instance)
    try:
        TokenRevocation(jti=jti)
    except ValidationError:
        raise ValueError(f"{jti!r} is not a token id: {JTI_SHAPE}") from None
    now = datetime.now(UTC)
    until = expires_at or now + LONGEST_TOKEN_TTL
    async with open_database(settings) as sessions, writing(sessions) as session:
        newly = await RevocationRepository(session).revoke(
            instance=instance, jti=jti, client_id=None, expires_at=until, at=now
        )
    return {
        "instance": instance,
        "jti": jti,
        "newly_revoked": newly,
        "expires_at": until.isoformat(timespec="seconds"),
    }


EXPORT_PAGE_SIZE = 1000
"""Audit records read per query: the export's memory stays bounded whatever the log's size."""


class ExportProgress(Protocol):
    def begin(self, name: str, total: int) -> None: ...

    def advance(self, name: str, count: int) -> None: ...


async def export_audit(
    settings: Settings,
    *,
    instance: str | None,
    write: Callable[[str], object],
    progress: ExportProgress | None = None,
) -> dict[str, int]:
    """Write each instance's chain, in `seq` order, as JSON lines shaped as
    `GET {base}/admin/audit` shows records (masked as stored); the records each instance's
    chain held when its export began, however many are added meanwhile. Returns the counts."""
    from lgsp.audit.schemas import AuditRecordOut

    if instance is not None:
        check_instance(settings, instance)
    exported: dict[str, int] = {}
    async with open_database(settings, existing=True) as sessions, sessions() as session:
        repository = AuditRepository(session)
        names = [instance] if instance is not None else await repository.instances()
        for name in names:
            head = await repository.head(name)
            total = head.seq if head is not None else 0
            if progress is not None:
                progress.begin(name, total)
            count = 0
            # An async generator, closed at once when the export stops early (`break`).
            chain = cast(
                AsyncGenerator[AuditRecord, None],
                repository.iter_chain(name, batch_size=EXPORT_PAGE_SIZE),
            )
            async with aclosing(chain) as records:
                async for record in records:
                    if record.seq > total:
                        break
                    write(AuditRecordOut.model_validate(record).model_dump_json() + "\n")
                    count += 1
                    if progress is not None and count % EXPORT_PAGE_SIZE == 0:
                        progress.advance(name, EXPORT_PAGE_SIZE)
            if progress is not None:
                progress.advance(name, count % EXPORT_PAGE_SIZE)
            exported[name] = count
    return exported
