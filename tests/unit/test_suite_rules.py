"""Rules the suite keeps about itself, read from its source: a rule broken in one test file
shows only on a loaded machine, long after the change that broke it."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# The one place a test starts an app's lifespan: it gives start-up and shutdown a minute.
LIFESPAN_HOME = TESTS / "fixtures" / "apps.py"


def lifespans_started_elsewhere(root: Path, home: Path) -> list[str]:
    """Every `LifespanManager(...)` call under `root` outside `home`, as `file:line`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == home:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else None
                name = node.func.id if isinstance(node.func, ast.Name) else name
                if name == "LifespanManager":
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_lifespan_a_test_starts_gets_a_minute() -> None:
    """asgi-lifespan waits 5 s by default: a fresh-clone CI on a loaded machine failed a good
    audit test when a bus took longer to seed. `tests.fixtures.apps.running` is the way."""
    assert lifespans_started_elsewhere(TESTS, LIFESPAN_HOME) == []


def test_a_lifespan_started_directly_is_found(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "import asgi_lifespan\n"
        "async def test_x(app):\n"
        "    async with asgi_lifespan.LifespanManager(app):\n"
        "        pass\n",
        encoding="utf-8",
    )
    home = tmp_path / "apps.py"
    home.write_text("LifespanManager(app)\n", encoding="utf-8")

    assert lifespans_started_elsewhere(tmp_path, home) == ["test_x.py:3"]
