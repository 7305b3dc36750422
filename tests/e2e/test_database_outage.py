"""The database goes away and comes back: no call is answered 2xx without its audit record, the
failures are problem documents, nothing is half-written, and the bus recovers by itself.

SQLite: another connection holds the write lock for a few seconds. That is shorter than the
engine's fixed 30 s busy timeout, so the calls wait rather than fail; what is proved is that
none is answered before its record could be committed. PostgreSQL: the bus reaches the shared
server through a TCP proxy that the test cuts and restores, so no other session is disturbed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.admin_tasks import verify_audit
from lgsp.audit.repository import AuditRepository
from lgsp.db import make_engine, make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer
from tests.fixtures.processes import demo_token, free_port, serve, stop, wait_ready

pytestmark = [pytest.mark.anyio, pytest.mark.processes]

CALLS = 6
LOCK_SECONDS = 3.0
RECOVERY_SECONDS = 30.0
PROBLEM = "application/problem+json"


class TcpProxy:
    """Forwards a loopback port to a server; `cut()` drops every connection and the port."""

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.port, self.target = port, target
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers |= {client_w, server_w}
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.transport.abort()


async def lookup(http: httpx.AsyncClient, url: str, token: str, request_id: str) -> httpx.Response:
    return await http.get(url, headers={**bearer(token), "X-Request-ID": request_id})


async def answers_again(http: httpx.AsyncClient, url: str, token: str) -> str:
    """Poll until a call is answered 200; returns its request id."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    for n in range(10_000):
        request_id = f"after-{n}"
        if (await lookup(http, url, token, request_id)).status_code == 200:
            return request_id
        assert time.monotonic() < deadline, f"the bus did not recover in {RECOVERY_SECONDS} s"
        await asyncio.sleep(0.2)
    raise AssertionError("unreachable")


async def hops(engine: AsyncEngine, request_ids: list[str]) -> dict[str, list[str]]:
    async with make_session_factory(engine)() as session:
        repository = AuditRepository(session)
        return {i: [r.hop for r in await repository.by_request_id(i)] for i in request_ids}


async def assert_chain_verifies(database_url: str, data_dir: Path) -> None:
    settings = Settings(_env_file=None, database_url=database_url, data_dir=data_dir)  # type: ignore[call-arg]
    report = await verify_audit(settings, instance="kiengiang")
    assert report.ok, report.problems


def assert_problem(response: httpx.Response) -> None:
    assert response.status_code in (502, 503), (response.status_code, response.text)
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    assert response.json()["status"] == response.status_code


@pytest.mark.parametrize(
    "client_cache_seconds",
    [pytest.param("2", id="cached-auth"), pytest.param("0", id="auth-reads-the-database")],
)
async def test_the_bus_survives_its_database_going_away_and_coming_back(
    tmp_path: Path, database_url: str, engine: AsyncEngine, client_cache_seconds: str
) -> None:
    postgres = make_url(database_url).get_backend_name() == "postgresql"
    proxy = None
    bus_url = database_url
    if postgres:
        target = make_url(database_url)
        proxy = TcpProxy(free_port(), (target.host or "127.0.0.1", target.port or 5432))
        await proxy.open()
        bus_url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    url = f"{root}/lgsp/kiengiang/dancu/v1/citizens/"
    url += generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    process = serve(port, tmp_path, bus_url, LGSP_CLIENT_CACHE_SECONDS=client_cache_seconds)
    try:
        await wait_ready(root, process)
        async with httpx.AsyncClient(timeout=60) as http:
            token = await demo_token(http, f"{root}/lgsp/kiengiang")
            assert (await lookup(http, url, token, "before")).status_code == 200
            during = [f"during-{n}" for n in range(CALLS)]
            if proxy is not None:
                await proxy.cut()
                responses = [await lookup(http, url, token, i) for i in during]
                for response in responses:
                    assert_problem(response)
                await proxy.open()
            else:
                responses = await while_sqlite_is_locked(
                    tmp_path / "lgsp.db", [lookup(http, url, token, i) for i in during]
                )
            after = await answers_again(http, url, token)
    finally:
        stop(process)
        if proxy is not None:
            await proxy.cut()

    # Probe F17: an error raised to uvicorn after the answer makes it drop the connection.
    assert "Exception in ASGI application" not in (tmp_path / "bus.log").read_text()
    answered = [i for i, r in zip(during, responses, strict=True) if r.status_code == 200]
    failed = [i for i in during if i not in answered]
    recorded = await hops(engine, ["before", *answered, after, *failed])
    # Every 200 has its whole record; a failed call left nothing behind, not even its inbound hop.
    assert {i: recorded[i] for i in ["before", *answered, after]} == {
        i: ["inbound", "upstream"] for i in ["before", *answered, after]
    }
    assert {i: recorded[i] for i in failed} == {i: [] for i in failed}
    await assert_chain_verifies(database_url, tmp_path)


async def while_sqlite_is_locked(
    database: Path, calls: list[Coroutine[Any, Any, httpx.Response]]
) -> list[httpx.Response]:
    """Run `calls` while another connection holds the write lock; none may end before it ends."""
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        tasks = [asyncio.ensure_future(call) for call in calls]
        await asyncio.sleep(LOCK_SECONDS)
        finished_early = [t.result() for t in tasks if t.done()]
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    # A call answered while its audit record could not be written would be a broken promise.
    assert [(r.status_code, r.text) for r in finished_early if r.status_code < 300] == []
    responses = list(await asyncio.gather(*tasks))
    for response in responses:
        if response.status_code != 200:
            assert_problem(response)
    return responses


async def test_a_sqlite_file_locked_past_the_busy_timeout_is_a_503_then_recovers(
    tmp_path: Path,
) -> None:
    """`LGSP_SQLITE_BUSY_TIMEOUT_SECONDS` short: the calls fail fast with 503 rather than wait,
    leave nothing behind, and the bus answers again once the lock is gone."""
    database = tmp_path / "lgsp.db"
    database_url = f"sqlite+aiosqlite:///{database}"
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    url = f"{root}/lgsp/kiengiang/dancu/v1/citizens/"
    url += generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    process = serve(port, tmp_path, database_url, LGSP_SQLITE_BUSY_TIMEOUT_SECONDS="0.5")
    try:
        await wait_ready(root, process)
        async with httpx.AsyncClient(timeout=60) as http:
            token = await demo_token(http, f"{root}/lgsp/kiengiang")
            during = [f"locked-{n}" for n in range(CALLS)]
            holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            try:
                holder.execute("BEGIN EXCLUSIVE")
                tasks = [asyncio.ensure_future(lookup(http, url, token, i)) for i in during]
                done, _ = await asyncio.wait(tasks, timeout=LOCK_SECONDS)
                holder.execute("ROLLBACK")
            finally:
                holder.close()
            responses = list(await asyncio.gather(*tasks))
            after = await answers_again(http, url, token)
    finally:
        stop(process)

    assert len(done) == CALLS  # every call answered while the file was still locked
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["code"] == "AUDIT_UNAVAILABLE"
    engine = make_engine(database_url)
    try:
        recorded = await hops(engine, [*during, after])
    finally:
        await engine.dispose()
    assert recorded == {**{i: [] for i in during}, after: ["inbound", "upstream"]}
    await assert_chain_verifies(database_url, tmp_path)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Rights and the deny-list read on every call: each call's authentication needs the
    database."""
    return settings.model_copy(update={"client_cache_seconds": 0})


async def test_a_call_whose_authentication_cannot_reach_the_database_is_a_503_problem(
    app: FastAPI, bus: BusState, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Security probe F17: the deny-list or client reload raised `OperationalError`, answered
    500 (or 503 when the audit write failed too) and raised again to the server, which then
    dropped the connection. Here the handlers' database is unreachable (nothing listens on
    port 1) while the audit's is not, as just after the probe's restore; a raise reaches the
    client as an exception (`raise_app_exceptions`), as a dropped connection would."""
    unreachable = make_engine("postgresql+psycopg://lgsp@127.0.0.1:1/gone")
    monkeypatch.setattr(bus, "session_factory", make_session_factory(unreachable))
    cccd = generate_citizens(province_code="91", seed=7, count=1)[0].so_dinh_danh
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=TEST_PUBLIC_URL
        ) as http:
            answers = [
                await http.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(demo_token)),
                await http.get(f"{KG}/services", headers=bearer(demo_token)),
            ]
    finally:
        await unreachable.dispose()

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith(PROBLEM)
        assert answer.json()["code"] == "DATABASE_UNAVAILABLE"
        assert answer.headers["retry-after"] == "1"


async def test_every_gateway_call_answers_as_its_contract_says_while_the_database_is_away(
    app: FastAPI, bus: BusState, demo_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openapi/gateway.json documents 503 DATABASE_UNAVAILABLE on every operation but those
    served without the database (`SERVED_WITHOUT_DATABASE`): each GET without a path parameter,
    a service's contract and the token endpoint, called while the handlers' database is
    unreachable."""
    from lgsp.cli._openapi import SERVED_WITHOUT_DATABASE, gateway_document

    document = gateway_document()
    paths = [p for p, ops in document["paths"].items() if "get" in ops and "{" not in p]
    unreachable = make_engine("postgresql+psycopg://lgsp@127.0.0.1:1/gone")
    monkeypatch.setattr(bus, "session_factory", make_session_factory(unreachable))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=TEST_PUBLIC_URL
        ) as http:
            answers = {
                path: await http.get(
                    f"{KG}{path}",
                    params={"key": "k"} if path == "/handovers" else None,
                    headers=bearer(demo_token),
                )  # fmt: skip
                for path in paths
            }
            contract = "/services/{service_id}/{version}/openapi.json"
            answers[contract] = await http.get(f"{KG}/services/qlvb/v1/openapi.json")
            answers["/token"] = await http.post(
                f"{KG}/token", data={"grant_type": "client_credentials", "client_id": "demo",
                                     "client_secret": "x"},
            )  # fmt: skip
    finally:
        await unreachable.dispose()

    assert len(answers) > 10
    for path, answer in answers.items():
        documented = document["paths"][path]["get" if path != "/token" else "post"]["responses"]
        if path in SERVED_WITHOUT_DATABASE:
            assert answer.status_code == 200, (path, answer.text)
            assert "DATABASE_UNAVAILABLE" not in documented.get("503", {}).get("description", "")
        else:
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["code"] == "DATABASE_UNAVAILABLE", path
            assert "DATABASE_UNAVAILABLE" in documented["503"]["description"], path
