"""The one direction imports may go, checked on the source (issue 14, README "Layout").

Every module of our packages is parsed with `ast`; every `import` counts, those inside
functions and under `TYPE_CHECKING` included, since each is a dependency that holds as soon as
that code runs. Relative imports are resolved. The rules:

- `kit` and `formats` are leaves: they import nothing of ours (each may import itself);
- `adapters` (pure translation) imports neither the gateway (`lgsp`) nor the mocks;
- `mocks` are systems outside the bus: they import neither `lgsp` nor `adapters`;
- in `lgsp`, only the composition root imports `mocks`;
- no import cycle among our modules.

Each rule is tested on a small synthetic tree, so that it can be seen to fail, and on the real
one. A finding names the file and line of the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("lgsp", "adapters", "mocks", "kit", "formats")
COMPOSITION_ROOT = "lgsp.composition"
LEAVES = ("kit", "formats")


@dataclass(frozen=True)
class Import:
    """One import statement's dependency: `source` imports `target` at `path:line`."""

    source: str
    target: str
    path: Path
    line: int

    def where(self, root: Path) -> str:
        return f"{self.path.relative_to(root)}:{self.line}"


def modules(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name → file, for every module of `packages` present under `root`."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names one statement imports, relative ones resolved against `module`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        anchor = package[: len(package) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    # `from a import b` imports module `a.b` when there is one, else a name of `a`.
    return [f"{base}.{alias.name}" if base else alias.name for alias in node.names]


def _ours(name: str, known: dict[str, Path]) -> str | None:
    """The module of ours that `name` designates: the longest known prefix, if any."""
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports(root: Path, packages: tuple[str, ...] = PACKAGES) -> list[Import]:
    """Every import of one of our modules by another, anywhere in the module's code."""
    known = modules(root, packages)
    found: list[Import] = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported_names(node, module, is_package):
                target = _ours(name, known)
                edge = Import(module, target or "", path, node.lineno)
                if target is not None and target != module and edge not in found:
                    found.append(edge)
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


def leaves_import_nothing_of_ours(edges: list[Import]) -> Iterator[Import]:
    yield from (e for e in edges if _top(e.source) in LEAVES and _top(e.target) != _top(e.source))


def adapters_import_neither_gateway_nor_mocks(edges: list[Import]) -> Iterator[Import]:
    yield from (
        e for e in edges if _top(e.source) == "adapters" and _top(e.target) in ("lgsp", "mocks")
    )


def mocks_import_neither_gateway_nor_adapters(edges: list[Import]) -> Iterator[Import]:
    yield from (
        e for e in edges if _top(e.source) == "mocks" and _top(e.target) in ("lgsp", "adapters")
    )


def only_the_composition_root_imports_mocks(edges: list[Import]) -> Iterator[Import]:
    yield from (
        e
        for e in edges
        if _top(e.source) == "lgsp" and _top(e.target) == "mocks" and e.source != COMPOSITION_ROOT
    )


def cycles(edges: list[Import]) -> list[list[Import]]:
    """One cycle through each strongly connected component (Tarjan), as its import statements."""
    graph: dict[str, dict[str, Import]] = {}
    for edge in edges:
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
        graph.setdefault(edge.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:  # recursion depth is bounded by the module count
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, dict[str, Import]], component: set[str]) -> list[Import]:
    """The shortest cycle back to the component's first module, by breadth-first search."""
    start = min(component)
    came_from: dict[str, Import] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for nxt, edge in sorted(graph[node].items()):
                if nxt not in component:
                    continue
                if nxt == start:
                    path = [edge]
                    while path[0].source != start:
                        path.insert(0, came_from[path[0].source])
                    return path
                if nxt not in came_from:
                    came_from[nxt] = edge
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle in component {sorted(component)}")  # pragma: no cover


RULES = {
    "leaves": leaves_import_nothing_of_ours,
    "adapters": adapters_import_neither_gateway_nor_mocks,
    "mocks": mocks_import_neither_gateway_nor_adapters,
    "composition root": only_the_composition_root_imports_mocks,
}


def _report(root: Path, found: list[Import]) -> str:
    return "\n".join(f"{e.where(root)}: {e.source} imports {e.target}" for e in found)


def _report_cycles(root: Path, found: list[list[Import]]) -> str:
    return "\n".join(
        " → ".join([cycle[0].source, *(e.target for e in cycle)])
        + "".join(f"\n    {e.where(root)}: {e.source} imports {e.target}" for e in cycle)
        for cycle in found
    )


# The real tree ------------------------------------------------------------------------------


@cache
def real_imports() -> list[Import]:
    """The real tree's imports, parsed when a test first asks: on import, every xdist worker
    would parse every module of ours while collecting, the one that runs this module aside."""
    return imports(ROOT)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_imports_go_one_way(rule: str) -> None:
    found = list(RULES[rule](real_imports()))

    assert not found, f"imports against the rule ({rule}):\n{_report(ROOT, found)}"


def test_no_import_cycle() -> None:
    found = cycles(real_imports())

    assert not found, f"import cycles:\n{_report_cycles(ROOT, found)}"


def test_the_composition_root_exists() -> None:
    """Keeps the rule above from passing because the root was renamed away."""
    assert COMPOSITION_ROOT in modules(ROOT)


# Each rule can fail -------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return root


VIOLATIONS = [
    pytest.param(
        "leaves", "kit/db.py", "from lgsp import settings\n", "lgsp.settings", id="kit-lgsp"
    ),
    pytest.param(
        "leaves", "kit/db.py", "import formats.edxml\n", "formats.edxml", id="kit-formats"
    ),
    pytest.param(
        "leaves", "formats/edxml.py", "from kit.db import X\n", "kit.db", id="formats-kit"
    ),
    pytest.param(
        "leaves",
        "formats/cccd.py",
        "def parse():\n    from adapters import base\n",
        "adapters.base",
        id="formats-adapters-in-function",
    ),
    pytest.param(
        "adapters", "adapters/dvc.py", "from lgsp.errors import E\n", "lgsp.errors", id="a-lgsp"
    ),
    pytest.param(
        "adapters",
        "adapters/dvc.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import mocks.dvc\n",
        "mocks.dvc",
        id="adapters-mocks-type-checking",
    ),
    pytest.param("mocks", "mocks/db.py", "from lgsp.db import Base\n", "lgsp.db", id="mocks-lgsp"),
    pytest.param(
        "mocks",
        "mocks/dvc/schemas.py",
        "from adapters.dvc import check_form_data\n",
        "adapters.dvc",
        id="mocks-adapters",
    ),
    pytest.param(
        "composition root",
        "lgsp/routing/systems.py",
        "from mocks.dvc.app import create_app\n",
        "mocks.dvc.app",
        id="lgsp-mocks",
    ),
    pytest.param(
        "composition root",
        "lgsp/reset/restore.py",
        "from ...mocks import reset\n",
        "mocks.reset",
        id="lgsp-mocks-relative",
    ),
]


@pytest.mark.parametrize(("rule", "name", "text", "target"), VIOLATIONS)
def test_rule_finds_the_import_against_it(
    tmp_path: Path, rule: str, name: str, text: str, target: str
) -> None:
    source = name.removesuffix(".py").replace("/", ".")
    target_file = target.replace(".", "/") + ".py"
    root = _tree(tmp_path, {name: f'"""A module."""\n\n{text}', target_file: ""})

    found = list(RULES[rule](imports(root)))

    assert [(e.source, e.target) for e in found] == [(source, target)]
    assert found[0].where(root) == f"{name}:{2 + len(text.splitlines())}"  # the last line


ALLOWED = [
    pytest.param("lgsp/composition.py", "from mocks.dvc import app\n", id="root-imports-mocks"),
    pytest.param("lgsp/app.py", "from adapters import ADAPTERS\n", id="lgsp-imports-adapters"),
    pytest.param("lgsp/app.py", "from kit.db import make_engine\n", id="lgsp-imports-kit"),
    pytest.param("mocks/db.py", "from kit.db import make_engine\n", id="mocks-import-kit"),
    pytest.param("mocks/qlvb/app.py", "from formats import edxml\n", id="mocks-import-formats"),
    pytest.param("adapters/qlvb.py", "from formats.edxml import x\n", id="adapters-formats"),
    pytest.param("kit/db.py", "from kit import protocol\n", id="kit-imports-itself"),
    pytest.param("lgsp/app.py", "import lgspx\nimport mocksy\n", id="names-that-only-look-ours"),
]


@pytest.mark.parametrize(("name", "text"), ALLOWED)
def test_rules_allow_the_intended_direction(tmp_path: Path, name: str, text: str) -> None:
    root = _tree(tmp_path, {name: text, "kit/protocol.py": "", "lgsp/composition.py": ""})

    found = {rule: list(check(imports(root))) for rule, check in RULES.items()}

    assert found == {rule: [] for rule in RULES}


CYCLE_THROUGH_A_FUNCTION = {
    "lgsp/app.py": "from lgsp.catalog import router\n",
    "lgsp/catalog/__init__.py": "",
    "lgsp/catalog/router.py": "from ..openapi import document\n",
    "lgsp/openapi.py": "def document():\n    from lgsp.app import create_app\n",
    "lgsp/deps.py": "import lgsp.app\n",  # into the cycle, not on it
}


@pytest.mark.parametrize(
    ("files", "found"),
    [
        pytest.param(
            CYCLE_THROUGH_A_FUNCTION,
            [{"lgsp.app", "lgsp.catalog.router", "lgsp.openapi"}],
            id="through-imports-inside-functions",
        ),
        pytest.param(
            {
                "lgsp/deps.py": "from lgsp.audit.recorder import AuditContext\n",
                "lgsp/audit/__init__.py": "",
                "lgsp/audit/recorder.py": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n"
                    "    from lgsp.deps import bus_state_from_scope\n"
                ),
            },
            [{"lgsp.deps", "lgsp.audit.recorder"}],
            id="two-modules-importing-each-other",
        ),
        pytest.param(
            {
                "lgsp/app.py": "from lgsp import state\nfrom . import deps\n",
                "lgsp/deps.py": "from lgsp.state import BusState\n",
                "lgsp/state.py": "import kit.db\n",
                "kit/db.py": "",
            },
            [],
            id="none-in-a-tree-without",
        ),
    ],
)
def test_cycles_are_found_as_the_modules_on_them(
    tmp_path: Path, files: dict[str, str], found: list[set[str]]
) -> None:
    root = _tree(tmp_path, files)

    assert [{e.source for e in cycle} for cycle in cycles(imports(root))] == found


def test_a_cycle_is_reported_import_by_import_with_where_each_stands(tmp_path: Path) -> None:
    root = _tree(tmp_path, CYCLE_THROUGH_A_FUNCTION)

    found = cycles(imports(root))

    assert [[(e.source, e.target) for e in cycle] for cycle in found] == [
        [
            ("lgsp.app", "lgsp.catalog.router"),
            ("lgsp.catalog.router", "lgsp.openapi"),
            ("lgsp.openapi", "lgsp.app"),
        ]
    ]
    assert "lgsp/openapi.py:2" in _report_cycles(root, found)


def test_submodule_import_from_a_package_targets_the_submodule(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"lgsp/app.py": "from lgsp.auth import keys\n", "lgsp/auth/keys.py": ""})

    assert [(e.source, e.target) for e in imports(root)] == [("lgsp.app", "lgsp.auth.keys")]
