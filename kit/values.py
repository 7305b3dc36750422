"""`@value_object`: an immutable value as cheap to build as a mutable one (issue 21).

A frozen dataclass refuses assignment at run time, so its `__init__` sets each field through
`object.__setattr__`: on CPython 3.11 a slot wrapper called with a tuple and a type check,
some 1,300 instructions a field. A six-field one costs about 13k instructions to build against
5k for the same class with slots and no freezing, and the gateway builds about ten such values
on every hop (the requests and answers, the caller, the route, the audit entries).

`@value_object` is `@dataclass(slots=True, unsafe_hash=True)` at run time, declared frozen to
type checkers (`dataclass_transform(frozen_default=True)`): `mypy --strict`, which `make check`
runs over every package before each commit, refuses any assignment to a field as it does for
`frozen=True` (tests/unit/test_values.py). Given up is only the run-time refusal, which would
catch what mypy cannot see (`setattr` by name, unchecked code); nothing of ours assigns that
way. Kept as frozen had them: equality and hashing by the fields (`unsafe_hash` is the hash
`frozen` gives, sound since no field is reassigned), `replace`, `fields`, and no attribute
beyond the fields (slots).

Weighed and not taken: a `typing.NamedTuple` refuses assignment and builds in 6k, but reads a
field through a descriptor at some 240 instructions against 90 for a slot (a hop reads more
fields than it builds values), and is a tuple: iterable, indexable, equal to any tuple of the
same values. A `__slots__` class whose `__setattr__` refuses must set its fields past it, by
`object.__setattr__` (11k) or by the slots' own descriptors (9k): most of the cost again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def value_object(cls: type[T]) -> type[T]:
    """`cls` as a dataclass with slots, whose fields mypy lets nothing reassign."""
    return dataclass(slots=True, unsafe_hash=True)(cls)
