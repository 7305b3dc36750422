"""The operator's fault commands (`lgsp faults …`), on the bus database, running bus or not.

A running bus sees a change within `LGSP_FAULT_CACHE_SECONDS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lgsp.admin_tasks import check_instance, open_database
from lgsp.faults import store
from lgsp.faults.schemas import FaultRuleIn
from lgsp.settings import Settings


async def add_fault(settings: Settings, *, instance: str, rule: FaultRuleIn) -> dict[str, Any]:
    check_instance(settings, instance)
    async with open_database(settings) as sessions:
        record = await store.add_rule(sessions, instance=instance, rule=rule, now=datetime.now(UTC))
        return store.to_out(record).model_dump(mode="json", exclude_none=True)


async def list_faults(settings: Settings, *, instance: str) -> list[dict[str, Any]]:
    check_instance(settings, instance)
    async with open_database(settings, existing=True) as sessions:
        records = await store.active_rules(sessions, instance=instance, now=datetime.now(UTC))
        return [
            store.to_out(record).model_dump(mode="json", exclude_none=True) for record in records
        ]


async def remove_fault(settings: Settings, *, instance: str, rule_id: int) -> None:
    check_instance(settings, instance)
    async with open_database(settings) as sessions:
        if not await store.remove_rule(sessions, instance=instance, rule_id=rule_id):
            raise LookupError(f"no fault rule {rule_id} on instance {instance!r}")


async def clear_faults(settings: Settings, *, instance: str) -> int:
    check_instance(settings, instance)
    async with open_database(settings) as sessions:
        return await store.clear_rules(sessions, instances=[instance])
