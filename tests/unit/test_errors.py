"""The table of gateway errors: unique stable codes, client-or-server statuses, titles."""

from __future__ import annotations

import pytest

from adapters.base import TranslationError
from lgsp import errors


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


PROBLEMS = all_subclasses(errors.LgspError) + all_subclasses(TranslationError)


def test_every_problem_code_is_unique_and_upper_snake() -> None:
    import adapters.dancu  # noqa: F401 - registers the adapter's errors

    codes = [
        cls.code for cls in all_subclasses(errors.LgspError) + all_subclasses(TranslationError)
    ]

    assert len(codes) == len(set(codes)), codes
    assert all(code.replace("_", "").isalnum() and code.isupper() for code in codes)


@pytest.mark.parametrize("problem", PROBLEMS, ids=lambda cls: cls.__name__)
def test_every_problem_has_an_http_error_status_and_a_title(
    problem: type[errors.LgspError],
) -> None:
    assert 400 <= problem.status <= 599
    assert problem.title
    assert problem.title[0].isupper()
