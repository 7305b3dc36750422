"""`POST {base}/admin/reset`: the bus back to its seeded state between two tests."""

from lgsp.reset.restore import reset_bus
from lgsp.reset.schemas import ResetReport, SystemReset

__all__ = ["ResetReport", "SystemReset", "reset_bus"]
