"""A 2xx is a promise: after SIGKILL, every answered call has its audit record, chain intact."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.admin_tasks import verify_audit
from lgsp.audit.repository import AuditRepository
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import bearer
from tests.fixtures.processes import demo_token, free_port, serve, wait_ready

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

LOAD_SECONDS = 1.5
CONNECTIONS = 16
MIN_ANSWERED = 21  # the kill waits for these (up to GIVE_UP_SECONDS): a loaded machine is slow
GIVE_UP_SECONDS = 60.0


async def test_every_answered_call_survives_sigkill_with_its_audit_record(
    tmp_path: Path, database_url: str, engine: AsyncEngine
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    kg = f"{base}/lgsp/kiengiang"
    process = serve(port, tmp_path, database_url)
    answered: list[str] = []
    try:
        await wait_ready(base, process)
        async with httpx.AsyncClient(timeout=10) as http:
            token = await demo_token(http, kg)
            cccd = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
            give_up = time.monotonic() + GIVE_UP_SECONDS

            async def caller(worker: int) -> None:
                for n in range(10_000):  # bounded; the deadline or the kill ends it first
                    if time.monotonic() > give_up + 5:
                        return
                    request_id = f"crash-{worker}-{n}"
                    try:
                        response = await http.get(
                            f"{kg}/dancu/v1/citizens/{cccd}",
                            headers={**bearer(token), "X-Request-ID": request_id},
                        )
                    except httpx.TransportError:
                        return  # the server died under this request: no promise was made
                    if response.status_code == 200:
                        answered.append(request_id)

            async def killer() -> None:
                await asyncio.sleep(LOAD_SECONDS)
                while len(answered) < MIN_ANSWERED and time.monotonic() < give_up:
                    await asyncio.sleep(0.05)
                process.send_signal(signal.SIGKILL)

            await asyncio.gather(killer(), *(caller(w) for w in range(CONNECTIONS)))
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)

    assert process.returncode == -signal.SIGKILL
    assert len(answered) >= MIN_ANSWERED, "the load should have been answered before the kill"
    settings = Settings(_env_file=None, database_url=database_url, data_dir=tmp_path)  # type: ignore[call-arg]
    report = await verify_audit(settings, instance="kiengiang")
    assert report.ok, report.problems
    async with make_session_factory(engine)() as session:
        repository = AuditRepository(session)
        missing = [
            request_id
            for request_id in answered
            if [r.hop for r in await repository.by_request_id(request_id)]
            != ["inbound", "upstream"]
        ]
    assert missing == []

    restarted = serve(port, tmp_path, database_url)  # and the bus comes back on its data
    try:
        await wait_ready(base, restarted)
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
