"""`POST {base}/admin/reset` gives the demo client back every row a fresh bus's provisioning
wrote for it, whatever a test did to it: a CI pipeline's next test must find the same client.

The expected rows are read from a bus just provisioned, not written down here: every table
that hangs off `api_clients` counts, a table added later too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

import lgsp.models  # noqa: F401 - registers every table
from lgsp.auth.models import ApiClient, ClientIdentity, ClientRateLimit
from lgsp.auth.repository import ClientRepository
from lgsp.db import Base
from lgsp.reset import reset_bus
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_national_flows import TG
from tests.e2e.test_reset import reset
from tests.fixtures.bus import KG, BusPool, bearer, fetch_token, provision_again, registered_client

pytestmark = pytest.mark.anyio

Rows = dict[str, list[dict[str, Any]]]
"""A client's rows in every table: `api_clients`, and each table keyed to it."""

CLIENT_TABLE = Base.metadata.tables[ApiClient.__tablename__]
CHILD_TABLES = [
    table
    for table in Base.metadata.sorted_tables
    if any(key.column.table is CLIENT_TABLE for key in table.foreign_keys)
]
ROW_IDENTITY = {"id", "client_pk"}
"""What a row recreated by provisioning has new, as well as the client's creation time and
its secret's salt."""


def client_key(table: Table) -> str:
    return next(key.parent.name for key in table.foreign_keys if key.column.table is CLIENT_TABLE)


async def demo_rows(session: AsyncSession, instance: str, settings: Settings) -> Rows:
    found = await session.execute(
        select(CLIENT_TABLE).where(
            CLIENT_TABLE.c.instance == instance, CLIENT_TABLE.c.client_id == settings.demo_client_id
        )
    )
    clients = [dict(row._mapping) for row in found]
    rows: Rows = {CLIENT_TABLE.name: clients}
    for table in CHILD_TABLES:
        children = await session.execute(
            select(table).where(table.c[client_key(table)] == clients[0]["id"])
        )
        rows[table.name] = sorted(
            ({k: v for k, v in row._mapping.items() if k != "id"} for row in children), key=str
        )
    return rows


async def snapshot(bus: BusState) -> dict[str, Rows]:
    async with bus.session_factory() as session:
        return {name: await demo_rows(session, name, bus.settings) for name in bus.instances}


def without(rows: Rows, columns: set[str]) -> Rows:
    return {
        table: [{k: v for k, v in row.items() if k not in columns} for row in found]
        for table, found in rows.items()
    }


async def test_a_reset_gives_the_demo_client_back_every_row_a_fresh_bus_provisioned(
    bus_pool: BusPool, settings: Settings
) -> None:
    await bus_pool.close()  # the next bus is built on an empty database: provisioned, no reset
    app, bus = await bus_pool.get(settings)
    fresh = await snapshot(bus)
    async with bus_pool.client(settings) as client:
        demo = await fetch_token(client)
        other = await registered_client(bus, {"dancu": "*"}, name="another admin", is_admin=True)
        admin = await fetch_token(client, client_id=other.client_id, secret=other.client_secret)
        changes = [
            await client.put(
                f"{KG}/admin/clients/demo/handling",
                json={"handling": "strict"},
                headers=bearer(demo),
            ),
            await client.put(
                f"{KG}/admin/clients/demo/rights",
                json={"rights": {"dancu": "GET"}},
                headers=bearer(admin),
            ),
            await client.post(f"{KG}/admin/clients/demo/revoke", headers=bearer(admin)),
        ]
        async with bus.session_factory.begin() as session:  # what no admin call changes
            repository = ClientRepository(session)
            changed = await repository.get("kiengiang", "demo")
            assert changed is not None
            changed.name = "Renamed"
            changed.rate_limits.append(ClientRateLimit(service="*", per_second=1.0, burst=1))
            changed.identity = ClientIdentity(kind="tenant", organisation="000.00.01.H40")
            national = await repository.get("ndxp", "demo")
            assert national is not None
            national.identity = ClientIdentity(kind="tenant")  # what a reset used to leave
            gone = await repository.get("tiengiang", "demo")
            assert gone is not None
            await session.delete(gone)

        await reset(client, await fetch_token(client, "/ndxp"), base="/ndxp")

        after = await snapshot(bus)
        tokens = [await fetch_token(client, base) for base in (KG, TG)]
    assert [change.status_code for change in changes] == [200, 200, 200]
    # kept in place: the row itself, id and creation time and hash included
    assert after["kiengiang"] == fresh["kiengiang"]
    assert after["ndxp"] == fresh["ndxp"]
    # deleted, provisioned again: the same rows but for what a new row has new
    renewed = ROW_IDENTITY | {"created_at", "secret_hash"}
    assert without(after["tiengiang"], renewed) == without(fresh["tiengiang"], renewed)
    assert all(tokens)


async def test_a_restart_leaves_the_demo_client_as_a_fresh_bus_provisioned_it(
    bus_pool: BusPool, settings: Settings
) -> None:
    """A start on an existing database conforms the demo client (`conform_client`): it adds
    no row provisioning does not write, such as an identity row for a tenant bound to none."""
    await bus_pool.close()  # the next bus is built on an empty database: provisioned, no reset
    _, bus = await bus_pool.get(settings)
    fresh = await snapshot(bus)

    for instance in bus.instances:  # what each start on this database does
        await provision_again(bus, instance)

    restarted = await snapshot(bus)
    assert all(rows["client_identities"] == [] for rows in fresh.values())
    assert restarted == fresh


async def test_a_reset_sets_a_strict_demo_client_back_to_its_calls_own_handling(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    set_strict = await client.put(
        f"{KG}/admin/clients/demo/handling", json={"handling": "strict"}, headers=bearer(demo_token)
    )
    async with bus.session_factory.begin() as session:
        limited = await ClientRepository(session).get("kiengiang", "demo")
        assert limited is not None
        limited.rate_limits.append(ClientRateLimit(service="dvc", per_second=0.5, burst=1))

    await reset(client, demo_token)

    async with bus.session_factory() as session:
        restored = await ClientRepository(session).get("kiengiang", "demo")
    assert set_strict.status_code == 200, set_strict.text
    assert restored is not None
    assert (restored.handling, restored.rate_limits) == (None, [])


async def test_a_reset_keeps_the_demo_clients_row_and_its_creation(bus: BusState) -> None:
    """Not deleted and made again: a listing of clients, oldest first, keeps its order."""
    async with bus.session_factory.begin() as session:
        demo = await ClientRepository(session).get("kiengiang", "demo")
        assert demo is not None
        demo.revoked_at = datetime.now(UTC)
        before = (demo.id, demo.created_at, demo.secret_hash)

    await reset_bus(bus)

    async with bus.session_factory() as session:
        kept = await ClientRepository(session).get("kiengiang", "demo")
    assert kept is not None
    assert (kept.id, kept.created_at, kept.secret_hash, kept.revoked_at) == (*before, None)


async def test_a_reset_keeps_the_slow_hash_of_a_chosen_demo_secret(
    bus_pool: BusPool, settings: Settings
) -> None:
    """An operator's secret is hashed with scrypt: a reset before every test must not hash it
    again, nor fall back to the fast hash."""
    chosen = "a secret an operator chose"
    changed = {"demo_client_secret": SecretStr(chosen)}  # model_copy does not validate
    async with bus_pool.client(settings, **changed) as client:
        bus = bus_pool.state
        assert bus is not None
        before = await snapshot(bus)
        await reset(client, await fetch_token(client, secret=chosen))
        await reset(client, await fetch_token(client, secret=chosen))
        after = await snapshot(bus)

    assert after == before
    assert before["kiengiang"]["api_clients"][0]["secret_hash"].startswith("scrypt$")
