"""`formats` is a leaf: adapters and mocks both build on it, so it builds on nothing of ours."""

from __future__ import annotations

import ast
from pathlib import Path

import formats

PACKAGE = Path(formats.__file__).parent


def test_formats_imports_nothing_else_of_the_project() -> None:
    ours = {"adapters", "lgsp", "mocks", "kit", "tests"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in ours]

    assert found == []
