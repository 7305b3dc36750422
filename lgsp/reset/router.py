"""`POST {base}/admin/reset`: every instance of this process, or one, back to its seeded state."""

from __future__ import annotations

from typing import Literal

from lgsp.deps import AdminDep, BusDep, InstanceDep, admin_router, is_bus_admin
from lgsp.errors import BusAdminRequired, UpstreamUnavailable, problem_responses
from lgsp.reset.restore import reset_bus
from lgsp.reset.schemas import ResetReport

router = admin_router("/admin")


@router.post(
    "/reset",
    responses=problem_responses(BusAdminRequired, UpstreamUnavailable),
)
async def reset(
    bus: BusDep,
    instance: InstanceDep,
    caller: AdminDep,
    scope: Literal["bus", "instance"] | None = None,
) -> ResetReport:
    """Restore the seeded data of every mock, empty the outboxes, restore the demo client and
    forget throttles, for every instance this process serves (`scope=bus`, the default for the
    bus-wide admin, the demo client) or for this instance only (`scope=instance`, the default
    and the only scope for an instance's own admin clients); the audit log and other clients
    are kept. Meant for test isolation: call it between two tests."""
    bus_wide = is_bus_admin(caller, bus.settings)
    if scope == "bus" and not bus_wide:
        raise BusAdminRequired(
            f"Client {caller.client_id} administers {instance.spec.name} only: it may reset "
            "that instance (scope=instance), not every instance of the process."
        )
    if scope == "instance" or not bus_wide:
        return await reset_bus(bus, only=instance.spec.name)
    return await reset_bus(bus)
