"""SIGTERM is a polite stop: the calls under way get their answers, each with its audit record,
the process ends cleanly, and the documents accepted just before are delivered after a restart."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.admin_tasks import verify_audit
from lgsp.audit.repository import AuditRepository
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures import processes
from tests.fixtures.bus import bearer
from tests.fixtures.documents import cross_province_document
from tests.fixtures.sockets import PROC_NET_TCP, unread_bytes

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

IN_FLIGHT = 6
LATENCY_MS = 3000
"""Long enough that the calls are still under way when SIGTERM comes, sent once the bus has read
them."""
EXIT_TIMEOUT = 60.0
"""Generous: the bound proves the exit is not left hanging, not that it is fast."""
DOCUMENTS = 10
SETTLE_SECONDS = 60.0
FAST_RETRIES = {"LGSP_OUTBOX_BACKOFF_SECONDS": "0.1", "LGSP_OUTBOX_BACKOFF_MAX_SECONDS": "1"}


async def until_inside_the_bus(port: int, sent: set[int], count: int) -> None:
    """Once `count` requests are sent and the bus has read them all: uvicorn has begun each
    one, and a stop lets it finish, where a request still unread would be cut off."""
    while len(sent) < count or unread_bytes(port):
        await asyncio.sleep(0.01)


@pytest.mark.skipif(not PROC_NET_TCP.exists(), reason="reads /proc/net/tcp (Linux)")
async def test_sigterm_lets_calls_in_flight_finish_with_their_audit_records(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    port, root, kiengiang, _ = processes.loopback_urls()
    cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    process = processes.serve(port, tmp_path, database_url, **FAST_RETRIES)
    try:
        await processes.wait_ready(root, process)
        async with httpx.AsyncClient(timeout=EXIT_TIMEOUT) as http:
            headers = bearer(await processes.demo_token(http, kiengiang))
            accepted = []
            for number in range(DOCUMENTS):  # queued for Tiền Giang just before the stop
                response = await http.post(
                    f"{kiengiang}/qlvb/v1/documents",
                    json=cross_province_document(
                        str(number),
                        notation="STP-TT",
                        subject=f"Văn bản gửi trước khi dừng số {number}",
                    ),
                    headers=headers,
                )
                assert response.status_code == 202, response.text
                accepted.append(response.json()["id"])

            sent: set[int] = set()

            async def slow_lookup(n: int) -> httpx.Response:
                async def trace(event: str, _info: dict[str, object]) -> None:
                    if event == "http11.send_request_body.complete":
                        sent.add(n)

                return await http.get(
                    f"{kiengiang}/dancu/v1/citizens/{cccd}",
                    headers={
                        **headers,
                        "X-Request-ID": f"graceful-{n}",
                        "X-LGSP-Fault": f"latency={LATENCY_MS}",
                    },
                    extensions={"trace": trace},
                )

            calls = [asyncio.create_task(slow_lookup(n)) for n in range(IN_FLIGHT)]
            await until_inside_the_bus(port, sent, IN_FLIGHT)
            assert not any(call.done() for call in calls), "the calls should still be in flight"
            process.send_signal(signal.SIGTERM)
            responses = await asyncio.gather(*calls, return_exceptions=True)
            returncode = await asyncio.to_thread(process.wait, EXIT_TIMEOUT)
    finally:
        processes.stop(process)

    statuses = [r.status_code if isinstance(r, httpx.Response) else repr(r) for r in responses]
    assert statuses == [200] * IN_FLIGHT
    assert returncode == 0, f"exit status {returncode} after SIGTERM"
    log = (tmp_path / "bus.log").read_text(encoding="utf-8", errors="replace")
    assert "Application shutdown complete." in log
    assert "Traceback" not in log
    assert " ERROR " not in log

    settings = Settings(_env_file=None, database_url=database_url, data_dir=tmp_path)  # type: ignore[call-arg]
    report = await verify_audit(settings, instance="kiengiang")
    assert report.ok, report.problems
    async with make_session_factory(engine)() as session:
        repository = AuditRepository(session)
        hops = {
            f"graceful-{n}": [r.hop for r in await repository.by_request_id(f"graceful-{n}")]
            for n in range(IN_FLIGHT)
        }
    assert {k: v for k, v in hops.items() if v[:1] != ["inbound"] or "upstream" not in v} == {}

    received = await processes.received_after_restart(
        port, tmp_path, database_url, engine, env=FAST_RETRIES, settle_seconds=SETTLE_SECONDS
    )
    assert await processes.undelivered(engine) == 0
    assert sorted(set(accepted) - set(received)) == []
    assert sorted(received) == sorted(set(received)), "a document arrived twice"
