"""`POST {base}/admin/reset`: every instance of this process back to its seeded state."""

from __future__ import annotations

from fastapi import APIRouter

from lgsp.deps import AdminDep, BusDep
from lgsp.errors import AccessDenied, InvalidToken, UpstreamUnavailable, problem_responses
from lgsp.reset.restore import reset_bus
from lgsp.reset.schemas import ResetReport

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/reset",
    response_model=ResetReport,
    responses=problem_responses(InvalidToken, AccessDenied, UpstreamUnavailable),
)
async def reset(_admin: AdminDep, bus: BusDep) -> ResetReport:
    """Restore the seeded data of every mock, empty the outboxes, restore the demo client and
    forget throttles, for every instance this process serves; the audit log and other clients
    are kept. Meant for test isolation: call it between two tests."""
    return await reset_bus(bus)
