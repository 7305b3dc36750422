"""The README's error table names every code the bus's own errors can answer (`lgsp.errors`,
where errors are mapped in one place): a code added there and not here fails."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import lgsp.errors
from lgsp.errors import LgspError

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_readme_error_table_names_every_code_of_the_bus() -> None:
    table = README.split("| status | code | when |", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", table))
    codes = {
        error.code
        for error in vars(lgsp.errors).values()
        if inspect.isclass(error) and issubclass(error, LgspError)
    }

    assert "DIALECT_NOT_SPOKEN" in codes
    assert sorted(codes - listed) == []
