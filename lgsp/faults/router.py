"""`{base}/admin/faults…`: an instance's fault rules, added, listed and removed by an admin.

Rules belong to the instance the request came in on. A change made here applies at once in
this process, and in other processes within `LGSP_FAULT_CACHE_SECONDS`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response

from lgsp.db import MAX_BIGINT
from lgsp.deps import BusDep, InstanceDep, admin_router
from lgsp.errors import InvalidRequest, NotFound, problem_responses
from lgsp.faults import store
from lgsp.faults.schemas import FaultRuleIn, FaultRuleList, FaultRuleOut, FaultsRemoved

router = admin_router("/admin/faults")

MAX_ID = MAX_BIGINT  # a larger id would fail in the driver, not be "not found"

RuleId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    "",
    status_code=201,
    response_model_exclude_none=True,
    responses=problem_responses(InvalidRequest),
)
async def add_fault(instance: InstanceDep, bus: BusDep, rule: FaultRuleIn) -> FaultRuleOut:
    """Add a rule; it is tried after the older ones, and the first that applies wins."""
    if rule.service is not None and not bus.catalog.versions(rule.service):
        raise InvalidRequest(f"There is no service {rule.service} in the catalog.")
    name = instance.spec.name
    record = await store.add_rule(
        bus.session_factory, instance=name, rule=rule, now=bus.faults.now()
    )
    bus.faults.invalidate(name)
    return store.to_out(record)


@router.get("", response_model_exclude_none=True)
async def list_faults(instance: InstanceDep, bus: BusDep) -> FaultRuleList:
    """This instance's rules that have not expired, with the applications each has left."""
    records = await store.active_rules(
        bus.session_factory, instance=instance.spec.name, now=bus.faults.now()
    )
    return FaultRuleList(rules=[store.to_out(record) for record in records])


@router.delete("/{rule_id}", status_code=204, responses=problem_responses(NotFound, InvalidRequest))
async def remove_fault(instance: InstanceDep, bus: BusDep, rule_id: RuleId) -> Response:
    """Remove one rule."""
    name = instance.spec.name
    if not await store.remove_rule(bus.session_factory, instance=name, rule_id=rule_id):
        raise NotFound(f"Fault rule {rule_id} is not a rule of {name}.")
    bus.faults.invalidate(name)
    return Response(status_code=204)


@router.delete("")
async def clear_faults(instance: InstanceDep, bus: BusDep) -> FaultsRemoved:
    """Remove every rule of this instance."""
    name = instance.spec.name
    removed = await store.clear_rules(bus.session_factory, instances=[name])
    bus.faults.invalidate(name)
    return FaultsRemoved(removed=removed)
