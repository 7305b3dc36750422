"""What `lgsp` leaves out of its start (issue 20 item 8): imported first by `lgsp.cli`.

httpx imports its own command-line tool (`httpx._main`) whenever click, rich and pygments are
installed, as they are with the bus: ~50 ms of every `lgsp serve` start for a tool the bus
never runs. A stand-in takes its place unless httpx is already imported; `httpx.main()` still
works, importing the real tool when called.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_CLI = "httpx._main"


def _real_httpx_main(*args: Any, **kwargs: Any) -> Any:
    """The real `httpx.main`, imported now that someone runs it."""
    sys.modules.pop(_CLI, None)
    return importlib.import_module(_CLI).main(*args, **kwargs)


def defer_httpx_cli() -> None:
    if "httpx" in sys.modules or _CLI in sys.modules:
        return
    stand_in = types.ModuleType(_CLI, "Stand-in for httpx's command-line tool (lgsp.cli._lean).")
    stand_in.main = _real_httpx_main  # type: ignore[attr-defined]
    sys.modules[_CLI] = stand_in


defer_httpx_cli()
