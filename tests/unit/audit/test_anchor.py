"""Signed checkpoints of the chain heads catch what the head row alone cannot (probe F18)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.audit.anchor import Checkpointer, append_lines, read_checkpoints, sign_checkpoint
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.audit.repository import ChainLink
from lgsp.audit.verify import VerifyReport, verify_chain
from lgsp.audit.writer import AuditWriter
from lgsp.auth import keys as auth_keys
from lgsp.auth.repository import ClientRepository
from lgsp.db import make_session_factory
from tests.unit.audit.test_verify import make_entry, tamper

pytestmark = pytest.mark.anyio

INSTANCES = ("lgsp-91", "ndxp")


class Bus:
    """A writer, each instance's signing key, and a checkpointer writing beside the test."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], path: Path) -> None:
        self.sessions = sessions
        self.writer = AuditWriter(sessions)
        self.path = path
        self.keys: dict[str, auth_keys.InstanceKey] = {}
        self.cipher = auth_keys.KeyCipher(Fernet.generate_key())
        self.checkpointer = Checkpointer(
            path,
            committed=lambda: self.writer.committed_heads,
            keys=self.keys.get,
            now=lambda: datetime(2026, 12, 6, 7, 0, tzinfo=UTC),
        )

    async def open(self) -> None:
        async with self.sessions.begin() as session:
            for name in INSTANCES:
                keys = await auth_keys.load_or_create_keys(
                    ClientRepository(session), name, self.cipher
                )
                self.keys[name] = keys.signing

    async def cut_back_to_seq_7(self) -> None:
        """The probe's tail truncation: one DELETE and one UPDATE copying an existing hash."""
        async with self.sessions() as session:
            kept = await session.scalar(
                select(AuditRecord.hash).where(
                    AuditRecord.instance == "lgsp-91", AuditRecord.seq == 7
                )
            )
        await tamper(
            self.sessions,
            delete(AuditRecord).where(AuditRecord.instance == "lgsp-91", AuditRecord.seq > 7),
            update(AuditHead).where(AuditHead.instance == "lgsp-91").values(seq=7, hash=kept),
        )

    async def verify(self, instance: str | None = None) -> VerifyReport:
        return await verify_chain(
            self.sessions,
            instance=instance,
            checkpoints=self.path,
            expected=INSTANCES,
            cipher=self.cipher,
        )


@pytest.fixture
async def bus(engine: AsyncEngine, tmp_path: Path) -> Bus:
    """Ten records on lgsp-91 and three on ndxp, the newest of each checkpointed."""
    bus = Bus(make_session_factory(engine), tmp_path / "audit-checkpoints.jws")
    await bus.open()
    await bus.writer.append([make_entry(n) for n in range(10)])
    await bus.writer.append([make_entry(n, instance="ndxp") for n in range(3)])
    assert await bus.checkpointer.checkpoint() == 2
    return bus


async def test_intact_chains_match_their_checkpoints(bus: Bus) -> None:
    await bus.writer.append([make_entry(n) for n in range(10, 12)])  # after the checkpoint

    report = await bus.verify()

    assert report.ok, report.problems
    assert (report.checked, report.checkpoints, report.unanchored) == (15, 2, [])


async def test_only_moved_heads_are_checkpointed_again(bus: Bus) -> None:
    assert await bus.checkpointer.checkpoint() == 0
    await bus.writer.append([make_entry(99)])

    assert await bus.checkpointer.checkpoint() == 1
    assert len(bus.path.read_text().splitlines()) == 3


async def test_newest_records_deleted_and_head_copied_back_is_reported(bus: Bus) -> None:
    """The probe's tail truncation: one DELETE and one UPDATE copying an existing hash."""
    await bus.cut_back_to_seq_7()
    without_checkpoints = await verify_chain(bus.sessions)

    report = await bus.verify()

    assert without_checkpoints.ok  # what the head row alone allowed
    (problem,) = report.problems
    assert (problem.instance, problem.seq) == ("lgsp-91", 8)
    assert "newest records deleted" in problem.reason


async def test_chain_cut_back_and_appended_again_is_reported_where_they_differ(bus: Bus) -> None:
    """After a truncation the bus appends on: the checkpointed seq exists again, hashed anew."""
    await bus.cut_back_to_seq_7()
    writer = AuditWriter(bus.sessions)  # a fresh process
    await writer.append([make_entry(n, caller="other") for n in range(5)])

    (problem,) = (await bus.verify()).problems

    assert (problem.instance, problem.seq) == ("lgsp-91", 10)
    assert "checkpoint" in problem.reason


@pytest.mark.parametrize("instance", [None, "ndxp"])
async def test_instance_deleted_whole_is_reported(bus: Bus, instance: str | None) -> None:
    await tamper(
        bus.sessions,
        delete(AuditRecord).where(AuditRecord.instance == "ndxp"),
        delete(AuditHead).where(AuditHead.instance == "ndxp"),
    )

    report = await bus.verify(instance)

    (problem,) = report.problems
    assert (problem.instance, problem.seq) == ("ndxp", 1)
    assert "newest records deleted" in problem.reason


async def test_an_edited_checkpoint_line_is_reported(bus: Bus) -> None:
    lines = bus.path.read_text().splitlines()
    header, payload, signature = lines[0].split(".")
    forged = sign_checkpoint(
        "lgsp-91", ChainLink(3, "0" * 64), bus.keys["lgsp-91"], now=datetime.now(UTC)
    )
    lines[0] = ".".join([header, forged.split(".")[1], signature])
    bus.path.write_text("\n".join(lines) + "\n")

    (problem,) = (await bus.verify()).problems

    assert problem.instance == "lgsp-91"
    assert "line 1" in problem.reason
    assert "signature is not valid" in problem.reason


async def test_a_checkpoint_signed_with_another_instances_key_is_reported(bus: Bus) -> None:
    forged = sign_checkpoint("lgsp-91", ChainLink(50, "0" * 64), bus.keys["ndxp"], now=_now())
    append_lines(bus.path, [forged])

    (problem,) = (await bus.verify()).problems

    assert "no key of lgsp-91" in problem.reason


async def test_an_unfinished_last_line_is_skipped(bus: Bus) -> None:
    with bus.path.open("a") as file:
        file.write("eyJhbGciOiJSUzI1NiJ9.eyJpbnN0YW5j")  # the process died mid-write

    keys = {name: {key.kid: key.public_pem} for name, key in bus.keys.items()}
    good, bad = read_checkpoints(bus.path, lambda name: keys[name])

    assert (len(good), bad) == (2, [])
    assert (await bus.verify()).ok


async def test_instances_without_checkpoints_are_named(engine: AsyncEngine, tmp_path: Path) -> None:
    bus = Bus(make_session_factory(engine), tmp_path / "none.jws")
    await bus.open()
    await bus.writer.append([make_entry(1)])

    report = await bus.verify()

    assert report.ok
    assert report.unanchored == ["lgsp-91"]
    assert report.instances == ["lgsp-91", "ndxp"]  # ndxp: named by the topology, no records


def _now() -> datetime:
    return datetime.now(UTC)
