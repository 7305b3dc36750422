"""Path patterns, as fault rules match calls and journal filters match exchanges.

A glob (`/citizens/*`; a missing leading slash is added), or a regular expression when the
pattern starts with `^` (searched with `re.search`). Bounded in length: they come from admins
over HTTP and from the CLI.

Python's `re` backtracks, and a rule's expression runs on the event loop that every instance
shares: `^/(a+)+$` on a path of 30 `a`s and a `b` takes minutes. So an expression is taken only
in a shape whose matching time stays small (`unsafe_reason`), and sees at most
`MAX_MATCHED_PATH` characters of a path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from re import _constants as _sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

MAX_PATH_PATTERN = 200
MAX_VARIABLE_REPEATS = 2
"""Repeats of variable length (`*`, `+`, `?`, `{2,5}`) one expression may hold: with the
expression anchored and no repeat inside another, matching costs at most about n² steps."""
MAX_MATCHED_PATH = 2048
"""Characters of a path an expression is matched against: a longer path is not matched."""
UNSAFE_PATTERN = "unsafe_pattern"
"""The validation error's `type` for an expression refused for its matching time."""

_REPEATS = frozenset({_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT})
_BACKREFERENCES = frozenset({_sre.GROUPREF, _sre.GROUPREF_EXISTS})


def unsafe_reason(pattern: str) -> str | None:
    """Why matching `pattern` could take far longer than the text is long; None when it cannot.

    Refused: a backreference; a repeat inside a repeat (`(a+)+`, `(\\w+/?)*`) or an
    alternation inside one (`(a|aa)*`), whose ways to match one text grow exponentially; more
    than `MAX_VARIABLE_REPEATS` repeats of variable length, whose ways grow as a power of the
    length (`^a*a*a*x`); and an alternation at the top (`^a|b.*c`), which `re.search` would try
    at every position of the path.
    """
    parsed = list(_parser.parse(pattern))
    if not parsed or parsed[0] != (_sre.AT, _sre.AT_BEGINNING):
        return "it must stay anchored by its leading `^`: put alternatives in a group, ^(?:a|b)"
    variable = 0
    for op, argument, inside_repeat in _walk(parsed, inside_repeat=False):
        if op in _BACKREFERENCES:
            return "a backreference (\\1, (?P=name)) is not allowed"
        if op is _sre.BRANCH and inside_repeat:
            return "an alternation inside a repeat, e.g. (a|b)*: use a class, [ab]*"
        if op in _REPEATS:
            low, high, _ = argument
            if inside_repeat and low != high:
                return "a repeat inside a repeat, e.g. (a+)+ or (\\w+/)*"
            variable += low != high
    if variable > MAX_VARIABLE_REPEATS:
        return f"more than {MAX_VARIABLE_REPEATS} repeats of variable length (*, +, ?, {{m,n}})"
    return None


def _walk(items: Iterable[Any], *, inside_repeat: bool) -> Iterable[tuple[Any, Any, bool]]:
    """Every node of a parsed expression, with whether a repeat of more than one encloses it."""
    for op, argument in items:
        yield op, argument, inside_repeat
        if op in _REPEATS:
            yield from _walk(argument[2], inside_repeat=inside_repeat or argument[1] > 1)
        elif op is _sre.SUBPATTERN:
            yield from _walk(argument[3], inside_repeat=inside_repeat)
        elif op is _sre.BRANCH:
            for branch in argument[1]:
                yield from _walk(branch, inside_repeat=inside_repeat)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            yield from _walk(argument[1], inside_repeat=inside_repeat)
        elif op is _sre.ATOMIC_GROUP:
            yield from _walk(argument, inside_repeat=inside_repeat)


STORED = {"stored": True}
"""Validation context for a rule read back from the database: an expression stored before
`unsafe_reason` existed is still read (so that it can be listed and removed), and
`path_matcher` makes it match nothing."""


def _compilable(value: str, info: ValidationInfo) -> str:
    if value.startswith("^"):
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
        reason = None if info.context == STORED else unsafe_reason(value)
        if reason is not None:
            raise PydanticCustomError(
                UNSAFE_PATTERN,
                "the expression could take too long to match a path: {reason}",
                {"reason": reason},
            )
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


PathPattern = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_PATTERN), AfterValidator(_compilable)
]
"""A pattern checked when the request is validated: a bad or unsafe regular expression is a
422 (the unsafe one with the error type `unsafe_pattern`)."""

UpperCase = BeforeValidator(_upper)
"""For HTTP methods: `get` is taken as `GET`."""


def path_matcher(pattern: str | None) -> Callable[[str], bool] | None:
    """A predicate on paths; None when there is no pattern (everything matches).

    An expression is checked again here (`unsafe_reason`): a rule stored before the check
    existed must not run. Such an expression matches nothing.
    """
    if pattern is None:
        return None
    if pattern.startswith("^"):
        if unsafe_reason(pattern) is not None:
            return lambda path: False
        regex = re.compile(pattern)
        return lambda path: len(path) <= MAX_MATCHED_PATH and regex.search(path) is not None
    glob = pattern if pattern.startswith("/") else "/" + pattern
    return lambda path: fnmatchcase(path, glob)
