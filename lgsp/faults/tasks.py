"""The operator's fault commands (`lgsp faults …`), on the bus database, running bus or not.

A running bus sees a change within `LGSP_FAULT_CACHE_SECONDS`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from lgsp.db import create_schema, make_engine, make_session_factory
from lgsp.faults import store
from lgsp.faults.schemas import FaultRuleIn
from lgsp.faults.store import Sessions
from lgsp.settings import Settings
from lgsp.topology import load_topology


@asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Sessions]:
    engine = make_engine(settings.resolved_database_url)
    try:
        await create_schema(engine)
        yield make_session_factory(engine)
    finally:
        await engine.dispose()


def _check_instance(settings: Settings, instance: str) -> None:
    topology = load_topology(settings.topology_file)
    if topology.get(instance) is None:
        names = ", ".join(i.name for i in topology.instances)
        raise LookupError(f"unknown instance {instance!r} (known: {names})")


async def add_fault(settings: Settings, *, instance: str, rule: FaultRuleIn) -> dict[str, Any]:
    _check_instance(settings, instance)
    async with _database(settings) as sessions:
        record = await store.add_rule(sessions, instance=instance, rule=rule, now=datetime.now(UTC))
        return store.to_out(record).model_dump(mode="json", exclude_none=True)


async def list_faults(settings: Settings, *, instance: str) -> list[dict[str, Any]]:
    _check_instance(settings, instance)
    async with _database(settings) as sessions:
        records = await store.active_rules(sessions, instance=instance, now=datetime.now(UTC))
        return [
            store.to_out(record).model_dump(mode="json", exclude_none=True) for record in records
        ]


async def remove_fault(settings: Settings, *, instance: str, rule_id: int) -> None:
    _check_instance(settings, instance)
    async with _database(settings) as sessions:
        if not await store.remove_rule(sessions, instance=instance, rule_id=rule_id):
            raise LookupError(f"no fault rule {rule_id} on instance {instance!r}")


async def clear_faults(settings: Settings, *, instance: str) -> int:
    _check_instance(settings, instance)
    async with _database(settings) as sessions:
        return await store.clear_rules(sessions, instances=[instance])
