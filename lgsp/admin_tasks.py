"""Operator tasks run by the CLI against the bus's database, with or without the bus running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import ADAPTERS
from lgsp.audit.verify import VerifyReport, verify_chain
from lgsp.auth.clients import NewClient, parse_rights, register_client
from lgsp.auth.rate_limit import parse_rates
from lgsp.auth.repository import ClientRepository
from lgsp.catalog.loader import load_catalog
from lgsp.db import create_schema, make_engine, make_session_factory
from lgsp.settings import Settings
from lgsp.topology import load_topology


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(settings.resolved_database_url)
    try:
        await create_schema(engine)
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


def check_instance(settings: Settings, instance: str) -> None:
    topology = load_topology(settings.topology_file)
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
) -> NewClient:
    check_instance(settings, instance)
    catalog = load_catalog(settings.catalog_dir, known_adapters=set(ADAPTERS))
    known = {service.id for service in catalog}
    rights = parse_rights(services, known_services=known)
    rate_limits = parse_rates(rates or [], known_services=known)
    async with open_database(settings) as sessions, sessions.begin() as session:
        return await register_client(
            ClientRepository(session),
            instance=instance,
            name=name,
            rights=rights,
            is_admin=is_admin,
            rate_limits=rate_limits,
        )


async def list_clients(settings: Settings, *, instance: str | None) -> list[dict[str, Any]]:
    async with open_database(settings) as sessions, sessions() as session:
        clients = await ClientRepository(session).list(instance)
        return [
            {
                "instance": client.instance,
                "client_id": client.client_id,
                "name": client.name,
                "admin": client.is_admin,
                "services": ",".join(
                    right.service if right.methods == "*" else f"{right.service}:{right.methods}"
                    for right in client.rights
                ),
                "created_at": client.created_at.isoformat(timespec="seconds"),
                "revoked_at": client.revoked_at.isoformat(timespec="seconds")
                if client.revoked_at
                else None,
            }
            for client in clients
        ]


async def revoke_client(settings: Settings, *, instance: str, client_id: str) -> str:
    check_instance(settings, instance)
    async with open_database(settings) as sessions, sessions.begin() as session:
        client = await ClientRepository(session).revoke(instance, client_id, at=datetime.now(UTC))
        if client is None or client.revoked_at is None:
            raise LookupError(f"no client {client_id!r} on instance {instance!r}")
        return client.revoked_at.isoformat(timespec="seconds")


async def verify_audit(settings: Settings, *, instance: str | None) -> VerifyReport:
    async with open_database(settings) as sessions:
        return await verify_chain(sessions, instance=instance)
