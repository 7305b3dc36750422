"""Names the bus and the systems it reaches agree on, kept where both sides can import them.

A constant of the protocol between the gateway and a mock must not make either import the
other: the bus calls a mock's reset route over the mock's own transport, in-process or at a
URL, and only the path has to match.
"""

from __future__ import annotations

RESET_PATH = "/_lgsp/reset"
"""Where a stateful system answers the bus's reset: its rows deleted and seeded again
(`mocks.reset`, `lgsp.reset.restore`). Not behind the gateway: no catalog operation names it."""
