"""Each process's view of the fault rules: a short cache, the seeded generators, the choice.

The rules are in the database, so that every process serving an instance and the CLI share
them; reading them on every call would cost a query even on an instance with no rule at all.
So each instance's rules are held for `LGSP_FAULT_CACHE_SECONDS` (like the client cache): a rule
added through this process's admin API applies at once, one added by the CLI or another process
within that time. Counts are not cached: a counted rule's application is claimed in the
database (`store.claim`), so `times` is exact whatever the cache holds.

Randomness is reproducible: each rule draws from its own generator, seeded with the bus's
`seed`, the instance and the rule id, so the n-th call a rule sees gets the same draw in every
run, whatever other rules and traffic do.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from lgsp.faults import store
from lgsp.faults.matcher import CallFacts, CompiledRule, Fault, choose_fault, compile_rule, hits
from lgsp.faults.schemas import FaultRuleIn
from lgsp.faults.store import Sessions
from lgsp.path_patterns import STORED


def _utc_now() -> datetime:
    return datetime.now(UTC)


class FaultBook:
    def __init__(
        self,
        sessions: Sessions,
        *,
        ttl_seconds: float,
        seed: int,
        timeout_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._seed = seed
        self._timeout_ms = round(timeout_seconds * 1000)
        self._clock = clock
        self.now = now
        """The clock rules expire by: `pick` and the admin routes that add and list rules read
        it, so that a rule's expiry is one clock's and a test can move it."""
        self._rules: dict[str, tuple[float, tuple[CompiledRule, ...]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._generators: dict[tuple[str, int | None], random.Random] = {}

    async def pick(self, instance: str, facts: CallFacts) -> Fault | None:
        """The first rule (oldest first) that matches, wins its draw and, if counted, a claim."""
        rules = await self._rules_of(instance)
        if not rules:
            return None
        now = self.now()
        for rule in rules:
            if not rule.matches(facts, now=now):
                continue
            generator = self._generator(instance, rule.id)
            if not hits(rule.rule.probability, generator):
                continue
            if rule.counted and not await store.claim(self._sessions, rule_id=rule.id, now=now):
                continue
            return choose_fault(
                rule.rule, generator, source=f"rule {rule.id}", timeout_ms=self._timeout_ms
            )
        return None

    def rule_free(self, instance: str) -> bool:
        """The instance had no rules at its last reading, still fresh: a call may skip building
        its facts and `pick` (issue 21). False when unread or stale, so `pick` reads again."""
        cached = self._rules.get(instance)
        return cached is not None and not cached[1] and cached[0] > self._clock()

    def from_header(self, instance: str, rule: FaultRuleIn) -> Fault | None:
        """The fault an `X-LGSP-Fault` header asks for (its own seeded generator per instance)."""
        generator = self._generator(instance, None)
        if not hits(rule.probability, generator):
            return None
        return choose_fault(rule, generator, source="header", timeout_ms=self._timeout_ms)

    def invalidate(self, instance: str) -> None:
        """Forget an instance's rules: this process changed them."""
        self._rules.pop(instance, None)

    def forget_all(self) -> None:
        """After a reset: no cached rules, and every generator starts its sequence again."""
        self._rules.clear()
        self._generators.clear()

    async def reset(self, instances: Sequence[str]) -> None:
        await store.clear_rules(self._sessions, instances=instances)
        self.forget_all()

    async def _rules_of(self, instance: str) -> tuple[CompiledRule, ...]:
        cached = self._rules.get(instance)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        # One query per instance at a time: concurrent calls after expiry wait for it.
        lock = self._locks.setdefault(instance, asyncio.Lock())
        async with lock:
            cached = self._rules.get(instance)
            if cached is not None and cached[0] > self._clock():
                return cached[1]
            records = await store.active_rules(self._sessions, instance=instance, now=self.now())
            rules = tuple(
                compile_rule(
                    record.id,
                    FaultRuleIn.model_validate_json(record.definition, context=STORED),
                    expires_at=record.expires_at,
                )
                for record in records
                if record.remaining is None or record.remaining > 0
            )
            if self._ttl > 0:
                self._rules[instance] = (self._clock() + self._ttl, rules)
            return rules

    def _generator(self, instance: str, rule_id: int | None) -> random.Random:
        key = (instance, rule_id)
        generator = self._generators.get(key)
        if generator is None:
            # A str seed is hashed with SHA-512 (random.seed, version 2): the same in every
            # process and run, unlike hash(). Faults need reproducibility, not secrecy.
            label = "header" if rule_id is None else f"rule-{rule_id}"
            generator = random.Random(f"{self._seed}:{instance}:{label}")  # noqa: S311
            self._generators[key] = generator
        return generator
