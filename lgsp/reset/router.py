"""`POST {base}/admin/reset`: every instance of this process back to its seeded state."""

from __future__ import annotations

from lgsp.deps import BusDep, admin_router
from lgsp.errors import UpstreamUnavailable, problem_responses
from lgsp.reset.restore import reset_bus
from lgsp.reset.schemas import ResetReport

router = admin_router("/admin")


@router.post("/reset", response_model=ResetReport, responses=problem_responses(UpstreamUnavailable))
async def reset(bus: BusDep) -> ResetReport:
    """Restore the seeded data of every mock, empty the outboxes, restore the demo client and
    forget throttles, for every instance this process serves; the audit log and other clients
    are kept. Meant for test isolation: call it between two tests."""
    return await reset_bus(bus)
