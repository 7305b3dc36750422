"""Path patterns, as fault rules match calls and journal filters match exchanges.

A glob (`/citizens/*`; a missing leading slash is added), or a regular expression when the
pattern starts with `^` (searched with `re.search`). Bounded in length: they come from admins
over HTTP and from the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

MAX_PATH_PATTERN = 200


def _compilable(value: str) -> str:
    if value.startswith("^"):
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from None
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


PathPattern = Annotated[
    str, Field(min_length=1, max_length=MAX_PATH_PATTERN), AfterValidator(_compilable)
]
"""A pattern checked when the request is validated: a bad regular expression is a 422."""

UpperCase = BeforeValidator(_upper)
"""For HTTP methods: `get` is taken as `GET`."""


def path_matcher(pattern: str | None) -> Callable[[str], bool] | None:
    """A predicate on paths; None when there is no pattern (everything matches)."""
    if pattern is None:
        return None
    if pattern.startswith("^"):
        regex = re.compile(pattern)
        return lambda path: regex.search(path) is not None
    glob = pattern if pattern.startswith("/") else "/" + pattern
    return lambda path: fnmatchcase(path, glob)
