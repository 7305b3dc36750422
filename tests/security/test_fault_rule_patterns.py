"""A fault rule's (or journal filter's) regular expression cannot stall the bus (security
re-probe, ReDoS across instances): Python's `re` backtracks on the event loop every instance
shares, so an admin's `^/(a+)+$` on a path of 40 `a`s and a `b` would hold every instance for
hours. An expression whose matching time can grow faster than the path is refused (422, error
type `unsafe_pattern`); one stored before the check matches nothing; a path longer than
`MAX_MATCHED_PATH` is not searched."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import pytest

from lgsp.faults.schemas import FaultRuleIn
from lgsp.journal.schemas import JournalFilter
from lgsp.path_patterns import MAX_MATCHED_PATH, STORED, UNSAFE_PATTERN, path_matcher
from tests.fixtures.bus import KG, bearer

FAULTS = f"{KG}/admin/faults"
CATASTROPHIC = [
    r"^/(a+)+$",  # nested quantifier: exponential
    r"^/(a|aa)*$",  # alternation under a repeat: exponential
    r"^/(\w+/?)*$",
    r"^/(a*)*b",
    r"^/(?:a|a)+$",
    r"^/a*a*a*a*a*$",  # overlapping repeats: a power of the length
    r"^/(a)\1*(a+)+$",  # backreference
    r"^x|(a+)+$",  # the alternative is searched at every position
]
HOSTILE_PATH = "/" + "a" * 40 + "b"


@pytest.mark.anyio
@pytest.mark.parametrize("pattern", CATASTROPHIC)
async def test_the_admin_api_refuses_a_catastrophic_expression(
    client: httpx.AsyncClient, demo_token: str, pattern: str
) -> None:
    answer = await client.post(
        FAULTS, json={"status": 503, "path": pattern}, headers=bearer(demo_token)
    )

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "INVALID_REQUEST"
    assert [error["type"] for error in problem["errors"]] == [UNSAFE_PATTERN]
    assert problem["errors"][0]["loc"] == ["body", "path"]


@pytest.mark.parametrize(
    "pattern",
    [
        r"^/citizens/\d{12}$",
        r"^/documents/[^/]+/status$",
        r"^/dossiers/[^/]+/transitions/[^/]*",
        r"^/(?:inbox|outbox)/",
        r"^/x(\d{3})?$",
    ],
)
def test_ordinary_expressions_are_still_taken(pattern: str) -> None:
    assert FaultRuleIn.model_validate({"status": 503, "path": pattern}).path == pattern
    assert JournalFilter.model_validate({"path": pattern}).path == pattern


@pytest.mark.parametrize("pattern", CATASTROPHIC[:2])
def test_a_journal_filter_refuses_them_too(pattern: str) -> None:
    with pytest.raises(ValueError, match=UNSAFE_PATTERN):
        JournalFilter.model_validate({"path": pattern})


def test_a_rule_stored_before_the_check_is_read_but_matches_nothing() -> None:
    """Read back (listed, removable), never run: the admin can delete it."""
    stored = FaultRuleIn.model_validate({"status": 503, "path": r"^/(a+)+$"}, context=STORED)
    matcher = path_matcher(stored.path)

    assert matcher is not None
    assert matcher("/aaa") is False


def test_a_path_longer_than_the_bound_is_not_searched() -> None:
    matcher = path_matcher(r"^/a")

    assert matcher is not None
    assert matcher("/a" + "x" * (MAX_MATCHED_PATH - 2))
    assert not matcher("/a" + "x" * (MAX_MATCHED_PATH - 1))


def test_no_accepted_expression_hangs_on_a_hostile_path() -> None:
    """In a child process, so that a hang is a timeout here, not a stuck suite: every
    expression above is either refused when validated or matched against the hostile path."""
    script = textwrap.dedent(
        f"""
        from pydantic import ValidationError
        from lgsp.faults.schemas import FaultRuleIn
        from lgsp.path_patterns import path_matcher
        for pattern in {CATASTROPHIC!r}:
            try:
                rule = FaultRuleIn.model_validate({{"status": 503, "path": pattern}})
            except ValidationError:
                continue
            path_matcher(rule.path)({HOSTILE_PATH!r})
        print("done")
        """
    )
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter, our own script
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("matching a fault rule's expression hung the process")
    assert done.stdout.strip() == "done", done.stderr
