"""Reading the `error_source` of a problem another instance answered: bounded and strict."""

from __future__ import annotations

import json

import pytest

from lgsp.errors import MAX_FORWARDED_PROBLEM, error_source, forwarded_source, source_header


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error_source": {"by": "system", "instance": "tiengiang", "system": "dancu"}},
            {"by": "system", "instance": "tiengiang", "system": "dancu"},
        ),
        (
            {"error_source": {"by": "gateway", "instance": "ndxp"}},
            {"by": "gateway", "instance": "ndxp"},
        ),
        ({"error_source": {"by": "someone", "instance": "ndxp"}}, None),
        ({"error_source": {"by": "gateway"}}, None),
        ({"error_source": {"by": "gateway", "instance": "a; evil=1"}}, None),
        ({"error_source": "gateway"}, None),
        ({"code": "NOT_FOUND"}, None),
        ([1, 2], None),
    ],
)
def test_forwarded_source(body: object, expected: dict[str, str] | None) -> None:
    assert forwarded_source(json.dumps(body).encode()) == expected


def test_forwarded_source_ignores_what_is_not_a_bounded_json_problem() -> None:
    assert forwarded_source(b"<html>") is None
    assert forwarded_source(b"[" * 100_000) is None
    big = json.dumps({"error_source": {"by": "gateway", "instance": "x"}, "pad": "x" * 70_000})
    assert len(big) > MAX_FORWARDED_PROBLEM
    assert forwarded_source(big.encode()) is None


def test_source_header() -> None:
    assert source_header(error_source("angiang")) == "gateway; instance=angiang"
    assert (
        source_header(error_source("angiang", "dancu")) == "system; instance=angiang; system=dancu"
    )
