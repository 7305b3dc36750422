"""Rules the suite keeps about itself, read from its source: a rule broken in one test file
shows only on a loaded machine, long after the change that broke it."""

from __future__ import annotations

import ast
import gc
import re
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.conftest import TEST_COLLECTION_THRESHOLDS, bus_groups_together

TESTS = Path(__file__).resolve().parents[1]
# The one place a test starts an app's lifespan: it gives start-up and shutdown a minute.
LIFESPAN_HOME = TESTS / "fixtures" / "apps.py"


def lifespans_started_elsewhere(root: Path, home: Path) -> list[str]:
    """Every `LifespanManager(...)` call under `root` outside `home`, as `file:line`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path == home or "LifespanManager" not in text:  # parsing every file: 0.8 s of CPU
            continue
        for node in ast.walk(ast.parse(text, str(path))):
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


BUILT_ONLY_IN_TESTS = frozenset(
    {"documents", "create_bus", "create_app", "create_gateway_app", "capture", "start_bus"}
)
"""What costs a second or more to build: a bus, an app, every published contract. A test
module runs its top level in every test process while collecting (`make test`: two of them),
whether or not any of its tests then runs there; fixtures build once, where tests need it."""


def built_at_import(root: Path) -> list[str]:
    """Every call of `BUILT_ONLY_IN_TESTS` under `root` that runs when its module is imported
    (at the top level, in a decorator, a default, a class body), as `file:line name`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if not any(f"{name}(" in text for name in BUILT_ONLY_IN_TESTS):
            continue
        pending: list[ast.AST] = [ast.parse(text, str(path))]
        while pending:
            node = pending.pop()
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                body = node.body if isinstance(node.body, list) else [node.body]
                pending.extend(c for c in ast.iter_child_nodes(node) if c not in body)
                continue
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else None
                name = node.func.id if isinstance(node.func, ast.Name) else name
                if name in BUILT_ONLY_IN_TESTS:
                    found.append(f"{path.relative_to(root)}:{node.lineno} {name}")
            pending.extend(ast.iter_child_nodes(node))
    return sorted(found)


def test_no_test_module_builds_a_bus_or_the_contracts_when_collected() -> None:
    """tests/test_openapi.py built every published contract at its top level: 2 s of CPU in
    each process of every run, for tests that run in one."""
    assert built_at_import(TESTS) == []


def test_a_build_at_the_top_level_of_a_module_is_found(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "DOCUMENTS = documents()\n"
        "@pytest.mark.parametrize('app', [lgsp.create_app()])\n"
        "def test_x(app, bus=create_bus()):\n"
        "    documents()\n"
        "    return lambda: start_bus()\n"
        "class TestY:\n"
        "    APP = create_app()\n",
        encoding="utf-8",
    )

    assert built_at_import(tmp_path) == [
        "test_x.py:2 documents",
        "test_x.py:3 create_app",
        "test_x.py:4 create_bus",
        "test_x.py:8 create_app",
    ]


def test_tests_run_with_the_suites_collection_thresholds() -> None:
    """`pytest_collection_finish` (tests/conftest.py): CPython's thresholds spent an eighth of
    a worker's CPU in full collections of a heap that only grows."""
    assert gc.get_threshold() == TEST_COLLECTION_THRESHOLDS


def fake_item(nodeid: str, *fixtures: str, settings_of: str = "module", **params: object) -> Any:
    """What `bus_groups_together` reads of a collected test: its fixtures, its parameters, and
    which `settings` fixture it gets (the module's or a class's)."""
    settings = SimpleNamespace(
        baseid=nodeid.split("::")[0], func=SimpleNamespace(__qualname__=settings_of),
        argnames=("bus_database_url", *(name for name in params if name != "bus_database_url")),
        scope="function",
    )  # fmt: skip
    definitions = {
        "settings": [settings],
        "bus_database_url": [SimpleNamespace(argnames=(), scope="module")],
    }
    closure = {*fixtures, "bus_pool"} if {"shared_bus", "engine"} & set(fixtures) else fixtures
    return SimpleNamespace(
        nodeid=nodeid,
        callspec=SimpleNamespace(params={"bus_database_url": "sqlite", **params}),
        _fixtureinfo=SimpleNamespace(
            names_closure=list(closure), initialnames=fixtures, name2fixturedefs=definitions
        ),
    )


def test_a_modules_tests_of_one_bus_run_together_and_those_stopping_it_last() -> None:
    """tests/e2e/test_eras.py: a class of other settings in the middle made the module build
    its bus a third time after it; a test asking for an `engine` stops the shared bus."""
    items = [
        fake_item("m.py::test_a", "shared_bus"),
        fake_item("m.py::TestOther::test_b", "shared_bus", settings_of="TestOther.settings"),
        fake_item("m.py::test_c", "engine"),
        fake_item("m.py::test_d", "shared_bus"),
        fake_item("m.py::test_e[small]", "shared_bus", limit=3),
        fake_item("m.py::test_f"),
        fake_item("m.py::test_g[small]", "shared_bus", limit=3),
        fake_item("m.py::test_h", "shared_bus", "spoiled_bus"),
        fake_item("n.py::test_i", "shared_bus"),
    ]

    ordered = [item.nodeid for item in bus_groups_together(items)]

    assert ordered == [
        "m.py::test_a",
        "m.py::test_d",
        "m.py::TestOther::test_b",
        "m.py::test_e[small]",
        "m.py::test_g[small]",
        "m.py::test_f",
        "m.py::test_c",
        "m.py::test_h",
        "n.py::test_i",
    ]
