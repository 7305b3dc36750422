"""Whether a project's own packages hide the bus's: the wheel installs top-level packages with
common names (`mocks`, `adapters`, …), and the one first on `sys.path` (or already imported)
wins. The bus would fail deep inside (`No module named 'mocks.csdlqgdc'`); this names the cause.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import lgsp

BUS_PACKAGES = ("adapters", "formats", "kit", "mocks")
"""The wheel's top-level packages besides `lgsp` (pyproject.toml's `packages`)."""


def shadowed_packages() -> dict[str, Path]:
    """Each bus package an import would take from elsewhere, with where that is."""
    ours = Path(lgsp.__file__).resolve().parent.parent
    found = {}
    for name in BUS_PACKAGES:
        where = _location(name)
        if where is not None and where != (ours / name).resolve():
            found[name] = where
    return found


def shadowing_message(shadowed: dict[str, Path]) -> str:
    """One message for all of them: what hides what, and what to do about it."""
    ours = Path(lgsp.__file__).resolve().parent.parent
    names = ", ".join(f"`{name}` ({where})" for name, where in shadowed.items())
    return (
        f"lgsp-mock-bus cannot start: your project's {names} hides the bus's package of the same "
        f"name (in {ours}). The bus installs {', '.join(BUS_PACKAGES)} as top-level packages, "
        "and an import takes whichever comes first. Rename your package or move it into one "
        "of your own (`yourproject.mocks`), or run the bus in a virtual environment of its own "
        "(`lgsp serve`) and call it by URL."
    )


def _location(name: str) -> Path | None:
    """Where `import name` finds (or found) its package or module; None if nowhere."""
    module = sys.modules.get(name)
    if module is not None:
        paths = list(getattr(module, "__path__", []))
        where = paths[0] if paths else getattr(module, "__file__", None)
    else:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            return None
        if spec is None:
            return None
        locations = list(spec.submodule_search_locations or [])
        where = locations[0] if locations else spec.origin
    return None if where is None else Path(where).resolve()
