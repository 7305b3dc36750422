"""Which rule a call matches, what fault it then gets, and the `X-LGSP-Fault` header's grammar.

Pure functions and values: the random generator and the clock are passed in.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError

from lgsp.faults.schemas import FLAG_ACTIONS, FaultKind, FaultRuleIn, When
from lgsp.path_patterns import path_matcher

FAULT_HEADER = "X-LGSP-Fault"
MAX_HEADER_LENGTH = 200
_FLAGS = frozenset(FLAG_ACTIONS)
_RANGE = re.compile(r"^(\d+)-(\d+)$")


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a rule can match on; `path` is the part after `{service}/{version}`, with its `/`."""

    service: str
    version: str
    method: str
    path: str
    client_id: str


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault chosen for one call, with its random draws already made."""

    kind: FaultKind
    when: When
    source: str
    """`rule 3` or `header`: where it came from, for the audit record and the problem body."""
    delay_ms: int = 0
    status: int = 0
    retry_after: int = 0

    def describe(self) -> str:
        """The audit record's `target` (at most 64 characters)."""
        detail = {
            FaultKind.LATENCY: f"={self.delay_ms}ms",
            FaultKind.TIMEOUT: f"={self.delay_ms}ms",
            FaultKind.STATUS: f"={self.status}",
            FaultKind.RATE_LIMIT: f"={self.retry_after}s",
        }.get(self.kind, "")
        return f"{self.kind}{detail} {self.when} {self.source}"[:64]


@dataclass(frozen=True)
class CompiledRule:
    id: int
    rule: FaultRuleIn
    expires_at: datetime | None
    matches_path: Callable[[str], bool] | None

    @property
    def counted(self) -> bool:
        return self.rule.times is not None

    def matches(self, facts: CallFacts, *, now: datetime) -> bool:
        rule = self.rule
        return (
            (self.expires_at is None or now < self.expires_at)
            and (rule.service is None or rule.service == facts.service)
            and (rule.version is None or rule.version == facts.version)
            and (rule.method is None or rule.method == facts.method)
            and (rule.client_id is None or rule.client_id == facts.client_id)
            and (self.matches_path is None or self.matches_path(facts.path))
        )


def compile_rule(rule_id: int, rule: FaultRuleIn, *, expires_at: datetime | None) -> CompiledRule:
    return CompiledRule(
        id=rule_id, rule=rule, expires_at=expires_at, matches_path=path_matcher(rule.path)
    )


def hits(probability: float, rng: random.Random) -> bool:
    """Probability 1 and 0 draw nothing, so they do not shift a seeded sequence."""
    if probability >= 1:
        return True
    if probability <= 0:
        return False
    return rng.random() < probability


def choose_fault(rule: FaultRuleIn, rng: random.Random, *, source: str, timeout_ms: int) -> Fault:
    """The fault a rule gives one call; a latency range is drawn here."""
    kind = rule.kind
    delay_ms, status, retry_after = 0, 0, 0
    if rule.latency_ms is not None:
        delay_ms = rule.latency_ms
    elif rule.latency is not None:
        delay_ms = rng.randint(rule.latency.min_ms, rule.latency.max_ms)
    elif rule.timeout is not None:
        delay_ms = timeout_ms if rule.timeout is True else rule.timeout.after_ms
    elif rule.status is not None:
        status = rule.status
    elif rule.rate_limit is not None:
        retry_after = 1 if rule.rate_limit is True else rule.rate_limit.retry_after
    return Fault(
        kind=kind,
        when=rule.when,
        source=source,
        delay_ms=delay_ms,
        status=status,
        retry_after=retry_after,
    )


class HeaderError(ValueError):
    """An `X-LGSP-Fault` header that does not say a valid fault."""


def parse_fault_header(value: str, *, source: str = FAULT_HEADER) -> FaultRuleIn:
    """`latency=2000`, `latency=100-500`, `status=503; when=after`, `timeout`, `timeout=1500`,
    `drop`, `cut`, `malformed`, `duplicate`, `rate_limit`, `rate_limit=30`,
    `corrupt_signature`, `expired_certificate`, and `probability=0.5`.

    Items are separated by `;` (or `,`), each `name` or `name=value`; exactly one action.
    `source` names the text in errors: the header, or the CLI's FAULT argument.
    """
    if len(value) > MAX_HEADER_LENGTH:
        raise HeaderError(f"{source} is longer than {MAX_HEADER_LENGTH} characters.")
    fields: dict[str, object] = {}
    for item in re.split(r"[;,]", value):
        name, has_value, argument = (part.strip() for part in item.partition("="))
        name = name.lower()
        if not name:
            continue
        if name in fields or (name == "latency" and "latency_ms" in fields):
            raise HeaderError(f"{source} names {name} twice.")
        if name == "latency":
            span = _RANGE.match(argument)
            if span:
                fields["latency"] = {"min_ms": span.group(1), "max_ms": span.group(2)}
            else:
                fields["latency_ms"] = argument
        elif name in _FLAGS and not has_value:
            fields[name] = True
        elif name == "timeout":
            fields[name] = {"after_ms": argument}
        elif name == "rate_limit":
            fields[name] = {"retry_after": argument}
        elif name in {"status", "when", "probability"} and has_value:
            fields[name] = argument
        else:
            raise HeaderError(f"{source} has an item it does not know: {item.strip()!r}.")
    try:
        return FaultRuleIn.model_validate(fields)
    except ValidationError as error:
        raise HeaderError(f"{source} is not a valid fault ({rule_problems(error)}).") from None


def rule_problems(error: ValidationError) -> str:
    """A rule's validation errors on one line, each naming its field."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'rule'}: {problem['msg']}"
        for problem in error.errors()
    )
