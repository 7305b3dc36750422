"""`kit.values.value_object`: fields nothing may reassign, said to mypy rather than checked at
run time (the module says why), and the hop's values built with it."""

from __future__ import annotations

import dataclasses
import gc
import inspect
from pathlib import Path

import pytest
from mypy import api as mypy

from adapters.base import CanonicalRequest, CanonicalResponse, SystemRequest, SystemResponse
from kit.values import value_object
from lgsp.audit.chain import AuditEntry
from lgsp.catalog.schemas import MatchedOperation
from lgsp.deps import Caller
from lgsp.journal.capture import JournalEntry
from lgsp.routing.http1 import Answer
from lgsp.routing.resolver import Forward, Local
from tests.fixtures.audit import audit_entry

ROOT = Path(__file__).resolve().parents[2]
HOP_VALUES = [
    CanonicalRequest,
    SystemRequest,
    SystemResponse,
    CanonicalResponse,
    Caller,
    MatchedOperation,
    Local,
    Forward,
    AuditEntry,
    JournalEntry,
    Answer,
]
"""Built on every hop: each a `value_object`, not a frozen dataclass (issue 21)."""

ASSIGNING = """
from dataclasses import dataclass
from kit.values import value_object

@{decorator}
class Pair:
    left: str
    right: int = 0

pair = Pair("a")
pair.left = "b"
"""


def _mypy_errors(program: str) -> str:
    """What `mypy --strict` reports on `program` (with our packages importable), without
    reading or writing a cache: about a second. mypy sets the process's collector thresholds
    for itself (200000, 30, 30) and leaves them: the test process's are put back."""
    thresholds = gc.get_threshold()
    try:
        report, errors, _ = mypy.run(
            ["--strict", "--config-file=", "--no-incremental", "--cache-dir=/dev/null"]
            + ["-c", program]
        )
    finally:
        gc.set_threshold(*thresholds)
    assert not errors, errors
    return report


def test_mypy_refuses_assigning_a_field_of_a_value_object(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # `kit` found as mypy finds it in `make check`

    assert 'Property "left" defined in "Pair" is read-only' in _mypy_errors(
        ASSIGNING.format(decorator="value_object")
    )
    # The control: what the run-time class is, without `value_object`'s word to mypy.
    assert "error" not in _mypy_errors(ASSIGNING.format(decorator="dataclass(slots=True)"))


@pytest.mark.parametrize("cls", HOP_VALUES, ids=lambda cls: cls.__name__)
def test_hop_value_is_declared_a_value_object(cls: type[object]) -> None:
    # What mypy reads: dropping the decorator would let code assign a field unnoticed.
    assert inspect.getsource(cls).startswith("@value_object\nclass ")
    assert "__slots__" in vars(cls)


def test_value_object_hashes_and_compares_by_its_fields_as_frozen_did() -> None:
    entry = audit_entry()
    same = dataclasses.replace(entry)

    assert same == entry
    assert same is not entry
    assert hash(same) == hash(entry)
    assert {entry, same} == {entry}
    assert dataclasses.replace(entry, status=500) != entry


def test_value_object_takes_no_attribute_beyond_its_fields() -> None:
    @value_object
    class Pair:
        left: str

    pair = Pair("a")
    with pytest.raises(AttributeError):
        pair.middle = "b"  # type: ignore[attr-defined]
