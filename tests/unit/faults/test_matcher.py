"""Matching rules to calls and reading the `X-LGSP-Fault` header, with no app at all."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from lgsp.faults.apply import header_enabled
from lgsp.faults.matcher import (
    CallFacts,
    HeaderError,
    choose_fault,
    compile_rule,
    hits,
    parse_fault_header,
)
from lgsp.faults.schemas import FaultKind, FaultRuleIn
from lgsp.path_patterns import path_matcher
from lgsp.settings import Settings

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
CALL = CallFacts("qlvb", "v1", "POST", "/documents/abc/status", "vendor")


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        ("/documents/*", "/documents/abc/status", True),
        ("documents/*", "/documents/abc/status", True),
        ("/documents/*/status", "/documents/abc/status", True),
        ("/documents", "/documents/abc/status", False),
        ("^/documents/[^/]+/status$", "/documents/abc/status", True),
        ("^/documents$", "/documents/abc/status", False),
    ],
)
def test_path_is_a_glob_or_a_regex_when_it_starts_with_a_caret(
    pattern: str, path: str, matched: bool
) -> None:
    matcher = path_matcher(pattern)

    assert matcher is not None
    assert matcher(path) is matched


def test_an_expired_rule_matches_nothing() -> None:
    rule = compile_rule(1, FaultRuleIn(status=503), expires_at=NOW + timedelta(seconds=1))

    assert rule.matches(CALL, now=NOW)
    assert not rule.matches(CALL, now=NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("latency=2000", {"latency_ms": 2000}),
        ("latency=100-500", {"latency": {"min_ms": 100, "max_ms": 500}}),
        ("status=503", {"status": 503}),
        ("status=503; when=after", {"status": 503, "when": "after"}),
        ("timeout", {"timeout": True}),
        ("timeout=1500", {"timeout": {"after_ms": 1500}}),
        ("drop", {"drop": True}),
        ("malformed, probability=0.5", {"malformed": True, "probability": 0.5}),
        ("duplicate", {"duplicate": True}),
        ("rate_limit=30", {"rate_limit": {"retry_after": 30}}),
    ],
)
def test_header_grammar(header: str, expected: dict[str, object]) -> None:
    parsed = parse_fault_header(header).model_dump(exclude_defaults=True)

    assert parsed == expected


@pytest.mark.parametrize(
    "header",
    ["", "explode", "status", "status=200", "drop=1", "status=503; drop", "latency=x", "x" * 201],
)
def test_header_that_says_no_single_valid_fault_is_refused(header: str) -> None:
    with pytest.raises(HeaderError):
        parse_fault_header(header)


def test_probability_zero_and_one_draw_nothing_from_the_generator() -> None:
    generator = random.Random(1)  # noqa: S311
    state = generator.getstate()

    assert hits(1, generator)
    assert not hits(0, generator)
    assert generator.getstate() == state


def test_a_latency_range_is_drawn_from_the_given_generator() -> None:
    rule = FaultRuleIn.model_validate({"latency": {"min_ms": 10, "max_ms": 20}})

    drawn = [
        choose_fault(rule, random.Random(5), source="t", timeout_ms=0).delay_ms  # noqa: S311
        for _ in range(2)
    ]

    assert drawn[0] == drawn[1] == random.Random(5).randint(10, 20)  # noqa: S311
    assert choose_fault(rule, random.Random(5), source="t", timeout_ms=0).kind is FaultKind.LATENCY  # noqa: S311


def test_timeout_without_a_delay_waits_the_instance_timeout() -> None:
    fault = choose_fault(FaultRuleIn(timeout=True), random.Random(), source="t", timeout_ms=7000)  # noqa: S311

    assert fault.delay_ms == 7000


@pytest.mark.parametrize(
    ("overrides", "enabled"),
    [
        ({}, True),
        ({"fault_header_enabled": False}, False),
        ({"profile": "production"}, False),
        ({"profile": "production", "fault_header_enabled": True}, True),
    ],
)
def test_header_is_on_in_dev_and_off_in_production_unless_set(
    overrides: dict[str, object], enabled: bool
) -> None:
    secrets = {"demo_client_secret": "s1", "federation_secret": "s2"}
    settings = Settings(_env_file=None, **secrets, **overrides)  # type: ignore[call-arg]

    assert header_enabled(settings) is enabled
