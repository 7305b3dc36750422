"""The README's error table names every stable code the bus can answer with, and no other: the
gateway's own errors (`lgsp.errors.LgspError`, mapped in one place) and every translation error
of the adapters and formats (`formats.errors.TranslationError`), wherever they are defined. A
code added in the source and not in the table fails; so does a row naming no code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SOURCES = ("lgsp", "adapters", "formats", "kit")
BASES = {"LgspError", "TranslationError"}
"""The two roots of every problem the bus answers (`lgsp.errors`'s handler renders both)."""
_CODE = re.compile(r"^[A-Z][A-Z0-9_]+$")


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}


def _code_of(node: ast.ClassDef) -> str | None:
    """The class's own `code = "…"` (or `code: ClassVar[str] = "…"`), if it sets one."""
    for statement in node.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign):
            target, value = statement.target, statement.value
        else:
            continue
        if (
            isinstance(target, ast.Name)
            and target.id == "code"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            return value.value
    return None


def stable_codes() -> dict[str, str]:
    """Every code an error class of the source sets: code → where (read from the source, so
    a module nothing imports yet is not missed)."""
    classes: list[tuple[str, set[str], str | None, str]] = []
    for package in SOURCES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ClassDef):
                    where = f"{path.relative_to(ROOT)}:{node.name}"
                    classes.append((node.name, _base_names(node), _code_of(node), where))
    errors = set(BASES)
    while True:  # the classes that descend from either root, through any number of steps
        more = {name for name, bases, _, _ in classes if bases & errors} - errors
        if not more:
            break
        errors |= more
    return {code: where for name, _, code, where in classes if name in errors and code}


def table_codes() -> set[str]:
    table = README.split("| status | code | when |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|") for line in table.splitlines()[2:]]
    return {code for row in rows for code in re.findall(r"`([A-Z][A-Z0-9_]+)`", row[2])}


def test_the_source_has_the_codes_a_vendor_meets() -> None:
    codes = stable_codes()

    assert {"DIALECT_NOT_SPOKEN", "UNKNOWN_RECIPIENT", "INVALID_EDXML", "INVALID_CCCD"} <= set(
        codes
    )
    assert all(_CODE.match(code) for code in codes), sorted(codes)


def test_the_readme_error_table_names_every_code_of_the_bus() -> None:
    codes = stable_codes()

    missing = {code: where for code, where in codes.items() if code not in table_codes()}
    assert missing == {}


def test_every_code_in_the_readme_error_table_exists() -> None:
    assert sorted(table_codes() - set(stable_codes())) == []
