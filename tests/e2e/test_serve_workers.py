"""Several processes serving the same instances on one database (`lgsp serve --workers N`)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.e2e.test_invocation import seeded_cccds
from tests.fixtures.apps import serving
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, fetch_token
from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready
from tests.fixtures.sockets import PROC_NET_TCP, listening_sockets

pytestmark = pytest.mark.anyio

WORKER_CALLS = 120
"""Calls at once, each on a connection of its own, which the kernel hands to either worker."""
CALL_TIMEOUT = 120.0
"""Not httpx's 5 s: on a loaded machine (load average 20) one of WORKER_CALLS connections at
once took longer than that to connect (`httpx.ConnectTimeout`)."""


@asynccontextmanager
async def bus_client(application: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(application, TEST_PUBLIC_URL, raise_app_exceptions=False) as http:
        yield http


def dossier_for(settings: Settings) -> dict[str, object]:
    citizen = generate_citizens(province_code="91", seed=settings.seed, count=2)[1]
    day, month, year = citizen.ngay_thang_nam_sinh.split("/")
    return {
        "procedure_code": "1.001193",
        "applicant": {
            "cccd": citizen.so_dinh_danh,
            "full_name": citizen.ho_va_ten,
            "date_of_birth": f"{year}-{month}-{day}",
        },
        "summary": "Đăng ký khai sinh",
    }


async def test_processes_starting_together_accept_each_others_tokens(
    fresh_settings: Settings,
) -> None:
    """Each must not create a signing key of its own that the other has never seen."""
    from lgsp.composition import create_bus

    cccd = seeded_cccds(fresh_settings)[0]
    async with AsyncExitStack() as stack:
        first, second = await asyncio.gather(
            *(
                stack.enter_async_context(
                    bus_client(create_bus(fresh_settings, instances=["kiengiang"]))
                )
                for _ in range(2)
            )
        )
        tokens = [await fetch_token(first), await fetch_token(second)]

        answers = [
            await http.get(f"{KG}/dancu/v1/citizens/{cccd}", headers=bearer(token))
            for http in (first, second)
            for token in tokens
        ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]


async def test_a_mock_still_reaches_the_bus_after_another_process_provisions_its_client(
    fresh_settings: Settings,
) -> None:
    """The portal's client secret is the same in every process, not drawn anew at each start."""
    from lgsp.composition import create_bus

    async with bus_client(create_bus(fresh_settings, instances=["kiengiang"])) as first:
        async with bus_client(create_bus(fresh_settings, instances=["kiengiang"])):
            pass  # started later: it provisions `system-dvc` again
        token = await fetch_token(first)
        filed = await first.post(
            f"{KG}/dvc/v1/dossiers", json=dossier_for(fresh_settings), headers=bearer(token)
        )

    assert filed.status_code == 201, filed.text


@pytest.mark.processes
def test_workers_on_an_in_memory_database_are_refused_with_the_reason(tmp_path: Path) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", "serve", "--workers", "2", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LGSP_DATABASE_URL": "sqlite+aiosqlite:///:memory:"},
    )

    assert done.returncode == 2
    assert "--workers needs a database the processes share" in done.stderr


def verify_audit(data_dir: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", "audit", "verify", "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **environment},
    )


def seeded_environment(settings: Settings) -> dict[str, str]:
    return {"LGSP_SEED": str(settings.seed), "LGSP_POPULATION": str(settings.population)}


def serve_two_workers(
    port: int, data_dir: Path, environment: dict[str, str]
) -> subprocess.Popen[bytes]:
    """`lgsp serve --workers 2` of Kiên Giang on the SQLite file of `data_dir`."""
    return start_lgsp(
        ["serve", "--workers", "2", "--port", str(port), "--instance", "kiengiang",
         "--data-dir", str(data_dir)],
        env=environment,
        log=data_dir / "serve.log",
    )  # fmt: skip


@pytest.mark.processes
async def test_workers_on_the_sqlite_file_serve_together_on_one_linear_audit_chain(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    """Issue 21: both workers write audit records at once; each links onto the head it reads
    under the file's write lock, so `lgsp audit verify` finds one unbroken chain."""
    port = free_port()
    environment = seeded_environment(fresh_settings)
    process = serve_two_workers(port, tmp_path, environment)
    cccds = seeded_cccds(fresh_settings)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        base = f"http://127.0.0.1:{port}{KG}"
        async with httpx.AsyncClient(base_url=base, timeout=CALL_TIMEOUT) as http:
            headers = bearer(await fetch_token(http, ""))

        async def lookup(number: int) -> httpx.Response:  # a connection each
            async with httpx.AsyncClient(base_url=base, timeout=CALL_TIMEOUT) as http:
                return await http.get(
                    f"/dancu/v1/citizens/{cccds[number % len(cccds)]}", headers=headers
                )

        answers = await asyncio.gather(*(lookup(number) for number in range(WORKER_CALLS)))
    finally:
        stop(process)
    verified = verify_audit(tmp_path, environment)

    log = (tmp_path / "serve.log").read_text()[-2000:]
    assert [answer.status_code for answer in answers] == [200] * WORKER_CALLS, log
    workers = {answer.headers["X-Request-ID"][:16] for answer in answers}  # a prefix a process
    assert len(workers) == 2, log
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "audit chain intact" in verified.stdout


POOL = 32
"""Connections a client opens together, as a pool or a load test does (wrk's 32)."""


@pytest.mark.processes
@pytest.mark.skipif(
    not PROC_NET_TCP.exists() or not hasattr(socket, "SO_REUSEPORT"),
    reason="Linux's socket table and SO_REUSEPORT",
)
async def test_each_worker_accepts_on_a_socket_of_its_own_and_takes_its_share(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    """Issue 21: uvicorn handed both workers one listening socket, and the first awake took
    every connection waiting: 32 opened together went 32/0, 31/1, 30/2, 20/12, 6/26, and two
    workers served barely more than one. Each worker now listens on a socket of its own
    (`SO_REUSEPORT`), and the kernel spreads connections over them by their addresses."""
    port = free_port()
    process = serve_two_workers(port, tmp_path, seeded_environment(fresh_settings))
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        deadline = asyncio.get_running_loop().time() + CALL_TIMEOUT
        while (listening := listening_sockets(port)) < 2:  # the other worker still starting
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.1)

        async def connection_of(client: httpx.AsyncClient) -> str:
            answer = await client.get("/healthz")
            return answer.headers["X-Request-ID"][:16]  # a prefix a process

        async with AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=CALL_TIMEOUT)
                )
                for _ in range(POOL)
            ]
            workers = await asyncio.gather(*(connection_of(client) for client in clients))
    finally:
        stop(process)
    assert listening == 2, "the workers accept on one socket"
    shares = sorted(workers.count(worker) for worker in set(workers))
    # A hash of each connection's addresses: a worker with 4 of 32 or fewer, 1 run in 50,000.
    assert len(shares) == 2, shares
    assert shares[0] > 4, shares


def writer_process_of(serve: subprocess.Popen[bytes]) -> int | None:
    """The pid of the audit writer process `lgsp serve --workers N` started on SQLite."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if parent == serve.pid and b"lgsp.audit.writer_service" in command:
            return int(entry.name)
    return None


async def both_workers_connected(
    lookup: Callable[[], Awaitable[httpx.Response]],
) -> list[httpx.Response]:
    """Calls, each on a connection of its own, until both workers have answered one: each has
    its connection to the writer (a worker's first call would otherwise wait in the writer's
    backlog, where a writer started after a kill still finds it)."""
    answers: list[httpx.Response] = []
    while len({answer.headers["X-Request-ID"][:16] for answer in answers}) < 2:  # a process
        assert len(answers) < 60, "the kernel gave every connection to one worker"
        answers.append(await lookup())
    return answers


def recorded_requests(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT DISTINCT request_id FROM audit_records").fetchall()
    return {request_id for (request_id,) in rows}


@pytest.mark.processes
async def test_workers_answer_once_the_writer_committed_and_503_when_it_is_killed(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    """Issue 21: on SQLite the workers hand their audit records to one writer process. A call
    waits for that writer's commit: while it is stopped nothing is answered; once it is killed
    the calls it held are 503 with no record, never 2xx; `lgsp serve` starts another writer,
    the next call is recorded and answered, and the chain verifies."""
    port = free_port()
    environment = seeded_environment(fresh_settings)
    process = serve_two_workers(port, tmp_path, environment)
    cccd = seeded_cccds(fresh_settings)[0]
    base = f"http://127.0.0.1:{port}{KG}"

    async def lookup() -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:  # a connection each
            return await http.get(f"/dancu/v1/citizens/{cccd}", headers=headers)

    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        async with httpx.AsyncClient(base_url=base) as http:
            headers = bearer(await fetch_token(http, ""))
        before = await both_workers_connected(lookup)
        writer = writer_process_of(process)
        assert writer is not None, "lgsp serve --workers 2 started no audit writer process"

        os.kill(writer, signal.SIGSTOP)
        held = [asyncio.ensure_future(lookup()) for _ in range(4)]
        done, _ = await asyncio.wait(held, timeout=3)
        answered_while_stopped = [task.result().status_code for task in done]
        os.kill(writer, signal.SIGKILL)
        answers = await asyncio.gather(*held)
        after = await lookup()
        restarted = writer_process_of(process)
    finally:
        stop(process)
    verified = verify_audit(tmp_path, environment)

    log = (tmp_path / "serve.log").read_text()[-2000:]
    assert [answer.status_code for answer in before] == [200] * len(before), log
    assert answered_while_stopped == [], log
    assert [answer.status_code for answer in answers] == [503] * 4, log
    assert {answer.json()["code"] for answer in answers} == {"AUDIT_UNAVAILABLE"}
    assert after.status_code == 200, log
    assert restarted not in (None, writer)
    recorded = recorded_requests(tmp_path / "lgsp.db")
    assert {answer.headers["X-Request-ID"] for answer in answers} & recorded == set()
    assert {answer.headers["X-Request-ID"] for answer in [*before, after]} <= recorded
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.processes
async def test_a_call_its_writer_does_not_answer_in_time_is_503_not_held_for_ever(
    fresh_settings: Settings, tmp_path: Path
) -> None:
    """A writer alive but stuck (here stopped) answers nothing: past the busy timeout and a
    margin the worker gives the call up with 503; once the writer goes on, calls are 200."""
    port = free_port()
    environment = {**seeded_environment(fresh_settings), "LGSP_SQLITE_BUSY_TIMEOUT_SECONDS": "1"}
    process = serve_two_workers(port, tmp_path, environment)
    cccd = seeded_cccds(fresh_settings)[0]
    base = f"http://127.0.0.1:{port}{KG}"
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        async with httpx.AsyncClient(base_url=base, timeout=90) as http:
            headers = bearer(await fetch_token(http, ""))
            writer = writer_process_of(process)
            assert writer is not None, "lgsp serve --workers 2 started no audit writer process"
            os.kill(writer, signal.SIGSTOP)
            try:
                given_up = await http.get(f"/dancu/v1/citizens/{cccd}", headers=headers)
            finally:
                os.kill(writer, signal.SIGCONT)
            answered = await http.get(f"/dancu/v1/citizens/{cccd}", headers=headers)
    finally:
        stop(process)

    log = (tmp_path / "serve.log").read_text()[-2000:]
    assert given_up.status_code == 503, log
    assert given_up.json()["code"] == "AUDIT_UNAVAILABLE"
    assert answered.status_code == 200, log


@pytest.mark.processes
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_workers_on_postgresql_serve_the_bus_together(
    database_url: str, fresh_settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    port = free_port()
    argv = ["serve", "--workers", "2", "--port", str(port), "--instance", "kiengiang"]
    process = start_lgsp(
        [*argv, "--data-dir", str(tmp_path)],
        env={
            "LGSP_DATABASE_URL": database_url,
            "LGSP_SEED": str(fresh_settings.seed),
            "LGSP_POPULATION": str(fresh_settings.population),
        },
        log=tmp_path / "serve.log",
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        base = f"http://127.0.0.1:{port}{KG}"
        statuses = []
        for _ in range(6):  # a connection each: the kernel hands them to either worker
            async with httpx.AsyncClient(base_url=base) as http:
                token = await fetch_token(http, "")
                filed = await http.post(
                    "/dvc/v1/dossiers", json=dossier_for(fresh_settings), headers=bearer(token)
                )
                statuses.append(filed.status_code)
    finally:
        stop(process)

    assert statuses == [201] * 6, (tmp_path / "serve.log").read_text()[-2000:]
