"""A project's own top-level package named like one of the bus's is found, and named."""

from __future__ import annotations

import sys
import tomllib
import types
from pathlib import Path

import pytest

from lgsp.testing._shadowing import BUS_PACKAGES, shadowed_packages, shadowing_message

ROOT = Path(__file__).resolve().parents[3]


def test_the_list_is_the_wheels() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = build["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]

    assert sorted(packages) == sorted(["lgsp", *BUS_PACKAGES])


def test_the_bus_own_packages_are_not_shadowed() -> None:
    assert shadowed_packages() == {}


def test_an_imported_package_of_the_project_is_named_with_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = types.ModuleType("mocks")
    theirs.__path__ = [str(tmp_path / "mocks")]
    monkeypatch.setitem(sys.modules, "mocks", theirs)

    shadowed = shadowed_packages()

    assert shadowed == {"mocks": (tmp_path / "mocks").resolve()}
    message = shadowing_message(shadowed)
    assert f"`mocks` ({(tmp_path / 'mocks').resolve()})" in message
    assert "Rename your package" in message


def test_a_module_first_on_the_path_is_found_before_it_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kit.py").write_text("")
    monkeypatch.delitem(sys.modules, "kit")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert shadowed_packages() == {"kit": tmp_path / "kit.py"}
