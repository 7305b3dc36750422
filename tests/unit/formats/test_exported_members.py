"""`formats.__all__` names exactly the public members, as `adapters`' test of the same name does."""

from __future__ import annotations

import ast
from pathlib import Path

import formats

PACKAGE = Path(formats.__file__).parent


def test_all_names_exist_and_every_public_member_is_listed() -> None:
    exported = set(formats.__all__)
    public = {
        name
        for name in dir(formats)
        if not name.startswith("_") and not isinstance(getattr(formats, name), type(formats))
    }

    assert all(hasattr(formats, name) for name in exported)
    assert public - {"annotations"} == exported


def test_formats_imports_nothing_else_of_the_project() -> None:
    """A leaf: adapters and mocks both build on it, so it may build on neither (nor on lgsp)."""
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
