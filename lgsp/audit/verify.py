"""Checks the audit chains: reports, per instance, the first record that was edited, deleted or
inserted outside the writer, and any record or head that contradicts a signed checkpoint
(`lgsp.audit.anchor`: the newest records deleted, or an instance's chain deleted whole).

Everything is read in one snapshot (PostgreSQL REPEATABLE READ; a SQLite read transaction in WAL
mode), so appends made while `verify` runs can be neither half-seen nor reported as tampering.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lgsp.audit.anchor import Checkpoint, read_checkpoints
from lgsp.audit.chain import GENESIS_HASH, record_hash
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.audit.repository import AuditRepository
from lgsp.auth.keys import KeyCipher, public_pems
from lgsp.auth.repository import ClientRepository


@dataclass(frozen=True)
class ChainProblem:
    instance: str
    seq: int
    """Where the chain breaks: the bad record's seq, or the first missing one."""
    record_id: int | None
    """The offending row, or None when the problem is a missing record or head."""
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    """Records whose hash was recomputed."""
    problems: list[ChainProblem]
    instances: list[str]
    checkpoints: int = 0
    """Signed checkpoints the chains were checked against."""
    unanchored: list[str] = field(default_factory=list)
    """Instances with records but no checkpoint: their newest records could go unnoticed."""

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_chain(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    instance: str | None = None,
    checkpoints: Path | None = None,
    expected: Iterable[str] = (),
    cipher: KeyCipher | None = None,
) -> VerifyReport:
    """Walk each instance's chain (or only `instance`'s) in seq order, with bounded memory.

    Every instance is checked that has records, a head, a checkpoint in `checkpoints`, or is
    `expected` (the topology's): an instance deleted whole is no longer in the database.
    `cipher` opens the sealed signing keys whose public halves check the checkpoints.
    """
    async with session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        repository = AuditRepository(session)
        anchors: dict[str, list[Checkpoint]] = {}
        problems: list[ChainProblem] = []
        if checkpoints is not None:
            keys = await public_pems(ClientRepository(session), cipher)
            good, bad = read_checkpoints(checkpoints, lambda name: keys.get(name, {}))
            for checkpoint in good:
                anchors.setdefault(checkpoint.instance, []).append(checkpoint)
            for line in bad:
                if instance is None or line.instance in (instance, None):
                    reason = f"checkpoint on line {line.line} of {checkpoints}: {line.reason}"
                    problems.append(ChainProblem(line.instance or "?", 0, None, reason))
        if instance is not None:
            instances = [instance]
        else:
            found = {*await repository.instances(), *anchors, *expected}
            instances = sorted(found)
        checked = 0
        unanchored: list[str] = []
        for name in instances:
            count, problem = await _verify_instance(repository, name, anchors.get(name, []))
            checked += count
            if problem is not None:
                problems.append(problem)
            if count and not anchors.get(name):
                unanchored.append(name)
    return VerifyReport(
        checked=checked,
        problems=problems,
        instances=instances,
        checkpoints=sum(len(anchors.get(name, [])) for name in instances),
        unanchored=unanchored,
    )


async def _verify_instance(
    repository: AuditRepository, instance: str, checkpoints: list[Checkpoint]
) -> tuple[int, ChainProblem | None]:
    """Return how many records were checked and the first problem, if any."""
    head = await repository.head(instance)
    signed: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        signed.setdefault(checkpoint.seq, []).append(checkpoint)
    checked, last = 0, None
    async for record in repository.iter_chain(instance):
        checked += 1
        reason = _link_problem(record, last=last, head=head) or _anchor_problem(
            record, signed.get(record.seq, [])
        )
        if reason is not None:
            return checked, ChainProblem(instance, record.seq, record.id, reason)
        last = record

    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    last_id = last.id if last is not None else None
    beyond = max((c for c in checkpoints if c.seq > last_seq), key=lambda c: c.seq, default=None)
    if beyond is not None:
        reason = (
            f"the checkpoint signed at {beyond.at} names seq {beyond.seq} but the chain ends at "
            f"seq {last_seq}: newest records deleted"
        )
        return checked, ChainProblem(instance, last_seq + 1, None, reason)
    if head is None:
        if last is None:
            return checked, None
        return checked, ChainProblem(instance, last_seq, last_id, "head missing")
    if head.seq > last_seq:
        reason = f"head is at seq {head.seq} but the chain ends at seq {last_seq}: newest deleted"
        return checked, ChainProblem(instance, last_seq + 1, None, reason)
    if head.hash != last_hash:
        reason = "head hash differs from the last record's hash"
        return checked, ChainProblem(instance, last_seq, last_id, reason)
    return checked, None


def _anchor_problem(record: AuditRecord, checkpoints: list[Checkpoint]) -> str | None:
    for checkpoint in checkpoints:
        if checkpoint.hash != record.hash:
            return (
                f"hash differs from the checkpoint signed at {checkpoint.at}: the chain was "
                "cut back and written again from here or before"
            )
    return None


def _link_problem(
    record: AuditRecord, *, last: AuditRecord | None, head: AuditHead | None
) -> str | None:
    last_seq, last_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    if record.seq != last_seq + 1:
        return f"seq {record.seq} follows seq {last_seq}: records deleted or inserted"
    if record.prev_hash != last_hash:
        return (
            f"prev_hash differs from the hash of seq {last_seq}: "
            "that record was replaced, or this one inserted"
        )
    try:
        expected = record_hash(record.to_entry(), seq=record.seq, prev_hash=record.prev_hash)
    except (TypeError, ValueError) as error:  # e.g. SQLite lets a REAL into an integer column
        return f"fields no longer form an entry ({error}): edited"
    if record.hash != expected:
        return "hash does not match the record's contents: edited"
    if head is not None and record.seq > head.seq:
        return f"record beyond the head (seq {head.seq}): appended outside the writer"
    return None
