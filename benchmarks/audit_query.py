"""How long `GET {base}/admin/audit?request_id=…` takes to find one call among a million records.

    .venv/bin/python benchmarks/audit_query.py                        # SQLite, in a temp dir
    .venv/bin/python benchmarks/audit_query.py --database-url postgresql://postgres@127.0.0.1/db

Fills the audit log with `--records` rows (1,000,000 by default; two hops per request, as a
gateway call writes them) by bulk insert: random hashes by default, or with `--linked` each row
hash-linked into its instance's chain as the writer links it (so that `lgsp audit verify`
accepts the result; slower). On PostgreSQL it works in a schema of its own, dropped at the end
unless `--keep`. Then it checks that the request-id index
exists and that the planner uses it, and times the query the admin endpoint runs
(`AuditRepository.by_request_id`) for `--queries` random known ids and a few unknown ones:
p50, p99 and max, against the target of 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import quantiles

from sqlalchemy import func, insert, inspect, make_url, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lgsp.audit.chain import GENESIS_HASH, AuditEntry, record_hash  # noqa: E402
from lgsp.audit.models import AuditHead, AuditRecord  # noqa: E402
from lgsp.audit.repository import AuditRepository  # noqa: E402
from lgsp.db import make_engine, make_session_factory  # noqa: E402
from lgsp.models import create_schema  # noqa: E402
from lgsp.settings import Settings  # noqa: E402

INSTANCES = ("kiengiang", "tiengiang", "ndxp")
FIELDS = [field.name for field in fields(AuditEntry)]
BATCH = 10_000
TARGET_MS = 50.0


def hops(request_id: str, instance: str, at: datetime) -> list[AuditEntry]:
    """What one citizen lookup leaves: its inbound hop and the upstream call."""
    path = "/dancu/v1/citizens/091*******38"
    common = {"request_id": request_id, "instance": instance, "service": "dancu", "method": "GET"}
    return [
        AuditEntry(
            **common,
            hop="inbound",
            caller="demo",
            target=instance,
            path=f"/lgsp/{instance}{path}",
            status=200,
            latency_us=4200,
            request_sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            response_sha256=uuid.uuid4().hex * 2,
            occurred_at=at,
        ),
        AuditEntry(
            **common,
            hop="upstream",
            caller=instance,
            target="dancu",
            path="/api/congdan/091048993438",
            status=200,
            latency_us=2100,
            request_sha256="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            response_sha256=uuid.uuid4().hex * 2,
            occurred_at=at + timedelta(microseconds=300),
        ),
    ]


async def fill(engine: AsyncEngine, records: int, rng: random.Random, *, linked: bool) -> list[str]:
    """Insert `records` rows; the request ids, for the queries.

    `linked` computes each record's real hash (about 50 µs each, most of the fill time);
    otherwise the hashes are random and only the rows' shape and volume are real.
    """
    heads = {instance: (0, GENESIS_HASH) for instance in INSTANCES}
    request_ids: list[str] = []
    start = datetime(2025, 1, 1, tzinfo=UTC)
    written, began = 0, time.perf_counter()
    while written < records:
        rows: list[dict[str, object]] = []
        while len(rows) < min(BATCH, records - written):
            request_id = uuid.UUID(int=rng.getrandbits(128)).hex
            instance = rng.choice(INSTANCES)
            request_ids.append(request_id)
            moment = start + timedelta(milliseconds=2 * (written + len(rows)))
            for entry in hops(request_id, instance, moment):
                seq, previous = heads[instance]
                digest = (
                    record_hash(entry, seq=seq + 1, prev_hash=previous)
                    if linked
                    else f"{rng.getrandbits(256):064x}"
                )
                values = {name: getattr(entry, name) for name in FIELDS}
                rows.append({**values, "seq": seq + 1, "prev_hash": previous, "hash": digest})
                heads[instance] = (seq + 1, digest)
        async with engine.begin() as conn:
            await conn.execute(insert(AuditRecord), rows)
        written += len(rows)
        rate = written / (time.perf_counter() - began)
        print(f"\r  {written:>9,} records ({rate:,.0f}/s)", end="", flush=True)
    async with engine.begin() as conn:
        await conn.execute(
            insert(AuditHead),
            [{"instance": i, "seq": s, "hash": h} for i, (s, h) in heads.items()],
        )
    print()
    return request_ids


async def plan(engine: AsyncEngine, request_id: str) -> tuple[list[str], str]:
    """The indexes on the request id, and the planner's plan for the lookup."""
    async with engine.connect() as conn:
        indexes = await conn.run_sync(
            lambda sync: [
                index["name"] or "?"
                for index in inspect(sync).get_indexes(AuditRecord.__tablename__)
                if index["column_names"] == ["request_id"]
            ]
        )
        lookup = select(AuditRecord).where(AuditRecord.request_id == request_id)
        compiled = lookup.compile(conn.sync_connection, compile_kwargs={"literal_binds": True})
        explain = "EXPLAIN QUERY PLAN" if conn.dialect.name == "sqlite" else "EXPLAIN"
        rows = (await conn.execute(text(f"{explain} {compiled}"))).all()
    return indexes, "\n".join(" ".join(str(v) for v in row) for row in rows)


async def time_queries(engine: AsyncEngine, ids: list[str], rng: random.Random, n: int) -> None:
    sessions = make_session_factory(engine)
    known = rng.sample(ids, min(n, len(ids)))
    unknown = [uuid.uuid4().hex for _ in range(max(1, n // 10))]
    timings: dict[str, list[float]] = {"known id": [], "unknown id": []}
    for label, batch in (("known id", known), ("unknown id", unknown)):
        for request_id in batch:
            async with sessions() as session:
                started = time.perf_counter()
                found = await AuditRepository(session).by_request_id(request_id)
                timings[label].append((time.perf_counter() - started) * 1000)
            expected = 2 if label == "known id" else 0
            if len(found) != expected:
                raise SystemExit(f"{request_id}: {len(found)} records, expected {expected}")
    for label, values in timings.items():
        cuts = quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
        verdict = "ok" if cuts[98] < TARGET_MS else f"over the {TARGET_MS:.0f} ms target"
        print(
            f"  {label:<11} {len(values):>5} queries  p50 {cuts[49]:6.2f} ms  "
            f"p99 {cuts[98]:6.2f} ms  max {max(values):6.2f} ms  ({verdict})"
        )


@asynccontextmanager
async def database(url: str | None, keep: bool) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database: a temp SQLite file, or a schema of its own on PostgreSQL."""
    if url is None:
        with tempfile.TemporaryDirectory() as scratch:
            engine = make_engine(f"sqlite+aiosqlite:///{scratch}/audit.db")
            try:
                yield engine
            finally:
                await engine.dispose()
        return
    resolved = make_url(Settings(_env_file=None, database_url=url).resolved_database_url)
    schema = f"lgsp_bench_audit_{os.getpid()}"
    admin = make_engine(resolved.render_as_string(hide_password=False))
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = resolved.update_query_dict({"options": f"-csearch_path={schema}"})
    engine = make_engine(scoped.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        await engine.dispose()
        if not keep:
            async with admin.begin() as conn:
                await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await admin.dispose()


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    async with database(args.database_url, args.keep) as engine:
        print(f"{engine.dialect.name}: filling {args.records:,} audit records")
        await create_schema(engine)
        began = time.perf_counter()
        ids = await fill(engine, args.records, rng, linked=args.linked)
        print(f"  filled in {time.perf_counter() - began:.1f} s")
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(text(f"ANALYZE {AuditRecord.__tablename__}"))
        async with engine.connect() as conn:
            count = (await conn.execute(select(func.count()).select_from(AuditRecord))).scalar()
        indexes, query_plan = await plan(engine, ids[0])
        print(f"  {count:,} records; index on request_id: {', '.join(indexes) or 'NONE'}")
        print("  plan: " + query_plan.replace("\n", "\n        "))
        await time_queries(engine, ids, rng, args.queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema")
    parser.add_argument(
        "--linked", action="store_true", help="real hash chain (`lgsp audit verify` accepts it)"
    )
    asyncio.run(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
