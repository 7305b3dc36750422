"""Rules the suite keeps about itself, read from its source: a rule broken in one test file
shows only on a loaded machine, long after the change that broke it."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import entry_points
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


def named_plugins(makefile: str) -> set[str]:
    """The modules `PLUGINS := …` names in the Makefile (continued over `\\` lines)."""
    text = makefile.replace("\\\n", " ")
    line = next(row for row in text.splitlines() if row.startswith("PLUGINS :="))
    return set(line.removeprefix("PLUGINS :=").split())


def plugins_of(extras: list[str], project: str) -> set[str]:
    """The pytest11 entry points installed by `project` and by the distributions `extras` name."""
    wanted = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")
              for spec in extras} | {project}  # fmt: skip
    return {
        point.value
        for point in entry_points(group="pytest11")
        if point.dist is not None and point.dist.name.lower().replace("_", "-") in wanted
    }


def test_make_test_names_every_pytest_plugin_of_the_dev_extras_and_only_those() -> None:
    """`make test` loads no plugin through its entry point (a fresh clone's first run rewrote
    the asserts of 377 plugin modules): one the dev extras add later must be named there, or
    its fixtures are silently missing; one of a dependency's dependency must not be, or its
    dropping it stops the run."""
    root = TESTS.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    installed = plugins_of(project["optional-dependencies"]["dev"], project["name"])

    assert named_plugins((root / "Makefile").read_text(encoding="utf-8")) == installed
