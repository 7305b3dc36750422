from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, and_, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lgsp.audit.chain import AuditEntry, record_hash
from lgsp.audit.models import AuditHead, AuditRecord
from lgsp.audit.verify import ChainProblem, verify_chain
from lgsp.audit.writer import AuditWriter
from lgsp.db import make_session_factory
from tests.fixtures.audit import audit_entry

pytestmark = pytest.mark.anyio

_START = datetime(2024, 5, 1, 1, 30, tzinfo=UTC)


def make_entry(n: int, **overrides: Any) -> AuditEntry:
    return audit_entry(
        **{
            "request_id": f"req-{n}",
            "caller": "dvc-client",
            "latency_us": 500 + n,
            "occurred_at": _START + timedelta(milliseconds=n),
            **overrides,
        }
    )


@pytest.fixture
async def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Five records on lgsp-91 and three on ndxp, written by the real writer."""
    sessions = make_session_factory(engine)
    writer = AuditWriter(sessions)
    await writer.append([make_entry(n) for n in range(5)])
    await writer.append([make_entry(n, instance="ndxp") for n in range(3)])
    return sessions


async def tamper(sessions: async_sessionmaker[AsyncSession], *statements: Any) -> None:
    async with sessions() as session:
        for statement in statements:
            await session.execute(statement)
        await session.commit()


def record(seq: int, instance: str = "lgsp-91") -> ColumnElement[bool]:
    return and_(AuditRecord.instance == instance, AuditRecord.seq == seq)


async def record_id(sessions: async_sessionmaker[AsyncSession], seq: int) -> int:
    async with sessions() as session:
        found = await session.scalar(select(AuditRecord.id).where(record(seq)))
    assert found is not None
    return found


async def only_problem(sessions: async_sessionmaker[AsyncSession]) -> ChainProblem:
    report = await verify_chain(sessions)
    assert not report.ok
    (problem,) = report.problems
    return problem


async def assert_only_problem(
    sessions: async_sessionmaker[AsyncSession], *, seq: int, reason: str
) -> None:
    """The chain's one problem is at record `seq`, for a reason that says `reason`."""
    problem = await only_problem(sessions)
    assert problem.seq == seq
    assert reason in problem.reason


async def test_intact_chains_verify(sessions: async_sessionmaker[AsyncSession]) -> None:
    report = await verify_chain(sessions)

    assert report.ok
    assert report.problems == []
    assert report.checked == 8
    assert report.instances == ["lgsp-91", "ndxp"]


async def test_empty_database_verifies(engine: AsyncEngine) -> None:
    report = await verify_chain(make_session_factory(engine))

    assert report.ok
    assert (report.checked, report.instances) == (0, [])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", 500),
        ("latency_us", 1),
        ("caller", None),
        ("path", "/services/dancu.lookup/citizens/079*******01"),
        ("occurred_at", _START + timedelta(microseconds=1)),
        ("request_sha256", "c" * 64),
        ("hash", "d" * 64),
    ],
)
async def test_edited_record_is_reported_with_its_seq(
    sessions: async_sessionmaker[AsyncSession], column: str, value: object
) -> None:
    await tamper(sessions, update(AuditRecord).where(record(3)).values({column: value}))

    problem = await only_problem(sessions)

    assert (problem.instance, problem.seq) == ("lgsp-91", 3)
    assert problem.record_id == await record_id(sessions, 3)
    assert "edited" in problem.reason


async def test_record_edited_into_an_invalid_entry_is_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # SQLite stores a REAL in an INTEGER column as given; PostgreSQL rounds it, which is an edit.
    await tamper(sessions, update(AuditRecord).where(record(2)).values(latency_us=1.5))

    await assert_only_problem(sessions, seq=2, reason="edited")


async def test_edited_record_with_recomputed_hash_is_reported_at_the_next_link(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    forged = make_entry(2, status=404)
    forged_hash = record_hash(forged, seq=3, prev_hash=await hash_of(sessions, 2))
    await tamper(
        sessions,
        update(AuditRecord).where(record(3)).values(status=404, hash=forged_hash),
    )

    await assert_only_problem(sessions, seq=4, reason="prev_hash")


@pytest.mark.parametrize(
    ("deleted", "expected", "reason"),
    [
        pytest.param(
            record(3), {"instance": "lgsp-91", "seq": 4}, "seq 4 follows seq 2", id="middle"
        ),
        pytest.param(record(1), {"seq": 2}, "follows seq 0", id="first"),
        pytest.param(
            record(5),
            {"instance": "lgsp-91", "seq": 5, "record_id": None},
            "head is at seq 5",
            id="newest-by-the-head",
        ),
        pytest.param(
            AuditRecord.instance == "ndxp",
            {"instance": "ndxp", "seq": 1},
            "",  # any reason
            id="every-record-by-the-head",
        ),
    ],
)
async def test_deleted_records_are_reported(
    sessions: async_sessionmaker[AsyncSession],
    deleted: ColumnElement[bool],
    expected: dict[str, object],
    reason: str,
) -> None:
    await tamper(sessions, delete(AuditRecord).where(deleted))

    problem = await only_problem(sessions)

    assert {name: getattr(problem, name) for name in expected} == expected
    assert reason in problem.reason


async def test_forged_record_in_the_gap_of_a_deleted_one_is_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    forged = make_entry(2, status=403)
    prev_hash = await hash_of(sessions, 2)
    await tamper(
        sessions,
        delete(AuditRecord).where(record(3)),
        insert(AuditRecord).values(
            **{**forged_row(forged, seq=3, prev_hash=prev_hash), "hash": "e" * 64}
        ),
    )

    await assert_only_problem(sessions, seq=3, reason="edited")


async def test_forged_record_appended_after_the_head_is_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Correctly linked and hashed: only the head, which the forger did not move, gives it away.
    forged = make_entry(9)
    await tamper(
        sessions,
        insert(AuditRecord).values(
            **forged_row(forged, seq=6, prev_hash=await hash_of(sessions, 5))
        ),
    )

    problem = await only_problem(sessions)

    assert problem.seq == 6
    assert problem.record_id == await record_id(sessions, 6)
    assert "beyond the head" in problem.reason


async def test_missing_head_is_reported(sessions: async_sessionmaker[AsyncSession]) -> None:
    await tamper(sessions, delete(AuditHead).where(AuditHead.instance == "ndxp"))

    problem = await only_problem(sessions)

    assert (problem.instance, problem.reason) == ("ndxp", "head missing")


async def test_only_the_first_problem_of_each_instance_is_reported(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await tamper(
        sessions,
        update(AuditRecord).where(record(2)).values(status=500),
        update(AuditRecord).where(record(4)).values(status=500),
        update(AuditRecord).where(record(3, "ndxp")).values(status=500),
    )

    report = await verify_chain(sessions)

    assert [(p.instance, p.seq) for p in report.problems] == [("lgsp-91", 2), ("ndxp", 3)]


async def test_verifying_one_instance_ignores_the_others(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await tamper(sessions, update(AuditRecord).where(record(2)).values(status=500))

    report = await verify_chain(sessions, instance="ndxp")

    assert report.ok
    assert (report.checked, report.instances) == (3, ["ndxp"])


async def hash_of(sessions: async_sessionmaker[AsyncSession], seq: int) -> str:
    async with sessions() as session:
        found = await session.scalar(select(AuditRecord.hash).where(record(seq)))
    assert found is not None
    return found


def forged_row(entry: AuditEntry, *, seq: int, prev_hash: str) -> dict[str, Any]:
    digest = record_hash(entry, seq=seq, prev_hash=prev_hash)
    forged = AuditRecord.from_entry(entry, seq=seq, prev_hash=prev_hash, hash=digest)
    return {c.key: getattr(forged, c.key) for c in AuditRecord.__table__.c if c.key != "id"}
