"""The `lgsp` command as an operator uses it, including `lgsp serve` in a real process."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import text

from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.cli import CreateClient, run_cli
from tests.fixtures.processes import free_port, start_lgsp, wait_ready
from tests.fixtures.processes import stop as stop_process

pytestmark = pytest.mark.anyio


async def test_clients_create_prints_credentials_once_and_stores_only_a_hash(
    client: httpx.AsyncClient, bus: BusState, create_client: CreateClient
) -> None:
    created = await create_client("QLVB vendor", "--service", "dancu")

    assert set(created) == {"client_id", "client_secret"}
    async with bus.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT secret_hash FROM api_clients WHERE client_id = :id"),
                {"id": created["client_id"]},
            )
        ).scalar_one()
    assert created["client_secret"] not in stored
    token = await fetch_token(
        client, client_id=created["client_id"], secret=created["client_secret"]
    )
    assert (await client.get(f"{KG}/services", headers=bearer(token))).status_code == 200


async def test_clients_list_and_revoke(
    client: httpx.AsyncClient,
    create_client: CreateClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client_id = (await create_client("to revoke", "--admin"))["client_id"]

    revoked = await run_cli(["clients", "revoke", "--instance", "kiengiang", client_id])
    listed = await run_cli(["clients", "list", "--instance", "kiengiang", "--json"])

    output = capsys.readouterr().out
    rows = json.loads(output[output.index("[") :])
    row = next(r for r in rows if r["client_id"] == client_id)
    assert (revoked, listed) == (0, 0)
    assert row["revoked_at"] is not None
    assert row["admin"] is True
    assert all("secret" not in key for key in row)


CLI_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ANY_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d[^\s\"│]*")


async def test_every_command_prints_times_one_way(
    client: httpx.AsyncClient,
    create_client: CreateClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Tables and JSON alike: RFC 3339 in UTC to the second, whatever the store kept."""
    client_id = (await create_client("times"))["client_id"]
    fault = ["faults", "add", "--instance", "kiengiang", "--expires-in", "60", "status=503"]
    commands = [
        ["clients", "revoke", "--instance", "kiengiang", client_id],
        ["clients", "list", "--instance", "kiengiang"],
        ["clients", "list", "--instance", "kiengiang", "--json"],
        ["tokens", "revoke", "times-jti", "--instance", "kiengiang"],
        fault,
        ["faults", "list", "--instance", "kiengiang"],
        ["faults", "list", "--instance", "kiengiang", "--json"],
    ]

    printed = []
    for argv in commands:
        assert await run_cli(argv) == 0, argv
        printed.append(capsys.readouterr().out)
    await run_cli(["faults", "clear", "--instance", "kiengiang"])

    times = {
        " ".join(argv): ANY_TIME.findall(out) for argv, out in zip(commands, printed, strict=True)
    }
    assert all(times.values()), times
    assert {
        command: [t for t in found if not CLI_TIME.fullmatch(t)] for command, found in times.items()
    } == {command: [] for command in times}


async def test_a_client_created_for_an_organisation_is_listed_with_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_DATABASE_URL", database_url)
    argv = ["clients", "create", "--instance", "kiengiang", "--name", "STP desk"]
    await run_cli([*argv, "--service", "dvc", "--organisation", "000.00.01.H33"])
    client_id = json.loads(capsys.readouterr().out)["client_id"]

    await run_cli(["clients", "list", "--instance", "kiengiang", "--json"])
    output = capsys.readouterr().out
    await run_cli(["clients", "list", "--instance", "kiengiang"])
    table = capsys.readouterr().out

    rows = json.loads(output[output.index("[") :])
    assert next(r for r in rows if r["client_id"] == client_id)["organisation"] == "000.00.01.H33"
    assert "organisation" in table
    assert "000.00.01.H33" in table


@pytest.mark.parametrize(
    ("organ_id", "code"), [("000.00.01.H33", 2), ("000.00.05.H33", 2), ("000.00.01.H01", 0)]
)
async def test_today_no_client_is_made_for_a_body_the_merger_closed(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    organ_id: str,
    code: int,
) -> None:
    monkeypatch.setenv("LGSP_DATABASE_URL", database_url)
    monkeypatch.setenv("LGSP_ERA", "2026")  # the default of `lgsp serve`
    argv = ["clients", "create", "--instance", "angiang", "--name", "STP portal desk"]

    assert await run_cli([*argv, "--service", "dvc", "--organisation", organ_id]) == code

    said = capsys.readouterr()
    if code == 0:
        assert set(json.loads(said.out)) == {"client_id", "client_secret"}
    else:
        assert said.out == ""
        assert said.err.startswith("lgsp: AGENCY_CODE_CLOSED: ")
        # the successor body where today's province has one (no district body since 2025)
        assert ("Use 000.00.01.H01." in said.err) is organ_id.startswith("000.00.01.")


async def test_a_client_bound_to_a_central_body_is_made_at_the_national_instance_only(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_DATABASE_URL", database_url)
    vpcp = ["--name", "VPCP desk", "--service", "vdxp", "--organisation", "000.00.00.G22"]

    at_province = await run_cli(["clients", "create", "--instance", "kiengiang", *vpcp])
    refused = capsys.readouterr()
    at_ndxp = await run_cli(["clients", "create", "--instance", "ndxp", *vpcp])

    assert (at_province, refused.out) == (2, "")
    assert refused.err.startswith("lgsp: CENTRAL_AGENCY_AT_PROVINCE: 000.00.00.G22 ")
    assert at_ndxp == 0
    assert set(json.loads(capsys.readouterr().out)) == {"client_id", "client_secret"}


async def test_no_client_is_made_for_an_unserved_central_code_nor_another_provinces_agency(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_DATABASE_URL", database_url)
    desk = ["--name", "desk", "--service", "vdxp", "--organisation"]

    unknown = await run_cli(["clients", "create", "--instance", "ndxp", *desk, "000.00.00.G14"])
    said_unknown = capsys.readouterr()
    elsewhere = await run_cli(
        ["clients", "create", "--instance", "kiengiang", *desk, "000.00.01.H58"]
    )
    said_elsewhere = capsys.readouterr()

    assert (unknown, said_unknown.out, elsewhere, said_elsewhere.out) == (2, "", 2, "")
    assert said_unknown.err.startswith("lgsp: UNKNOWN_ORGANISATION: ")
    assert said_elsewhere.err.startswith("lgsp: AGENCY_OF_OTHER_PROVINCE: 000.00.01.H58 ")


async def test_the_national_instance_makes_no_client_for_a_provinces_agency(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A province's agency (Cần Thơ's Sở Tư pháp) belongs to that province's instance."""
    monkeypatch.setenv("LGSP_DATABASE_URL", database_url)
    monkeypatch.setenv("LGSP_ERA", "2026")  # the default of `lgsp serve`: cantho is served
    desk = ["--name", "desk", "--service", "vdxp", "--organisation", "000.00.01.H14"]

    at_ndxp = await run_cli(["clients", "create", "--instance", "ndxp", *desk])
    said = capsys.readouterr()

    assert (at_ndxp, said.out) == (2, "")
    assert said.err.startswith("lgsp: AGENCY_OF_OTHER_PROVINCE: 000.00.01.H14 ")
    assert "--instance cantho" in said.err


CREATE_X = ["clients", "create", "--instance", "kiengiang", "--name", "x"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["clients", "create", "--instance", "atlantis", "--name", "x"], "unknown instance"),
        (CREATE_X + ["--service", "nosuch"], "unknown service"),
        (CREATE_X + ["--service", "dancu:FETCH"], "methods must be among"),
        (CREATE_X + ["--organisation", "H33"], "is not an agency id"),
        (["clients", "revoke", "--instance", "kiengiang", "nobody"], "no client"),
        (["clients", "list", "--instance", "atlantis"], "unknown instance"),
        (["faults", "list", "--instance", "atlantis"], "unknown instance"),
        (["tokens", "revoke", "abc", "--instance", "atlantis"], "unknown instance"),
        (["tokens", "revoke", "bad jti!", "--instance", "kiengiang"], "is not a token id"),
        (["tokens", "revoke", "x" * 65, "--instance", "kiengiang"], "is not a token id"),
        (
            ["tokens", "revoke", "abc", "--instance", "kiengiang", "--expires-at", "tomorrow"],
            "give seconds since 1970",
        ),
        (
            ["tokens", "revoke", "abc", "--instance", "kiengiang", "--expires-at", "1000"],
            "is past",
        ),
        (
            ["tokens", "revoke", "abc", "--instance", "kiengiang", "--expires-at", "2099-01-01"],
            "has no offset",
        ),
        (["audit", "export", "--instance", "atlantis"], "unknown instance"),
        (["serve", "--port", str(free_port()), "--instance", "atlantis"], "unknown instance"),
        (["audit", "export", "--output", "/nonexistent-lgsp/audit.jsonl"], "there is no folder"),
        (["audit", "export", "--output", "/"], "is a folder"),
    ],
)
async def test_cli_refuses_bad_arguments_with_a_message(
    tmp_path: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await run_cli([*argv, "--data-dir", str(tmp_path)])

    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.processes
def test_lgsp_serve_starts_the_bus_and_prints_how_to_call_it(tmp_path: Path) -> None:
    """The README's first command, as a real process on a loopback port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "the bus did not become ready in 60 s"
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        # /healthz answers while the bus is built: a call that comes meanwhile is held for it
        token = httpx.post(
            f"{base}/lgsp/gialai/token",
            data={"grant_type": "client_credentials"},
            auth=("demo", "lgsp-demo-secret"),
            timeout=60,
        ).json()["access_token"]
        # today's Gia Lai holds ex-Bình Định's records; the old base still answers, deprecated
        cccd = generate_citizens(province_code="52", seed=2024, count=1)[0].so_dinh_danh
        # the first call to a mock system waits for it to open (they open once the bus is)
        citizen = httpx.get(
            f"{base}/lgsp/gialai/dancu/v1/citizens/{cccd}", headers=bearer(token), timeout=60
        )
        assert citizen.status_code == 200
        assert citizen.json()["cccd"] == cccd
        old = httpx.get(f"{base}/lgsp/binhdinh/dancu/v1/citizens/{cccd}", headers=bearer(token))
        assert old.json() == citizen.json()
        assert old.headers["Link"] == f'<{base}/lgsp/gialai>; rel="successor-version"'
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"{base}/ndxp" in output
    assert f"{base}/lgsp/angiang" in output
    assert "client_secret=lgsp-demo-secret" in output
    assert (tmp_path / "lgsp.db").exists()
    kien_giang = generate_citizens(province_code="91", seed=2024, count=1)[0].so_dinh_danh
    assert kien_giang in output
    assert "Starting" not in output  # no progress drawn into a pipe


def serve(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    return start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path), "--population", "20"],
        log=tmp_path / "bus.log",
    )


@pytest.mark.processes
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_lgsp_serve_exits_0_after_a_graceful_stop(
    tmp_path: Path, stop: signal.Signals
) -> None:
    port = free_port()
    process = serve(tmp_path, port)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
        process.send_signal(stop)
        code = await anyio.to_thread.run_sync(lambda: process.wait(timeout=60))
    finally:
        stop_process(process)
    log = (tmp_path / "bus.log").read_text(encoding="utf-8", errors="replace")
    assert code == 0, log
    assert "Application shutdown complete." in log
    assert "Traceback" not in log


@pytest.mark.processes
@pytest.mark.parametrize("access_log", [True, False], ids=["access-log-on", "access-log-off"])
async def test_lgsp_serve_logs_a_line_per_request_unless_the_access_log_is_off(
    tmp_path: Path, access_log: bool
) -> None:
    port = free_port()
    process = start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path), "--population", "20"],
        env={"LGSP_ACCESS_LOG": str(access_log).lower()},
        log=tmp_path / "bus.log",
    )
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
    finally:
        stop_process(process)
    log = (tmp_path / "bus.log").read_text(encoding="utf-8", errors="replace")
    assert "Application startup complete." in log
    assert ('"GET /readyz HTTP/1.1" 200' in log) is access_log


@pytest.mark.processes
async def test_lgsp_serve_draws_start_up_progress_on_a_terminal_only(tmp_path: Path) -> None:
    port = free_port()
    primary, secondary = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LGSP_")}
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "lgsp", "serve", "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    try:
        await wait_ready(f"http://127.0.0.1:{port}", process)
    finally:
        stop_process(process)
    drawn = b""
    with contextlib.suppress(OSError):  # EIO once the process has closed its end
        while chunk := os.read(primary, 65536):
            drawn += chunk
    os.close(primary)
    assert b"Starting 6 instance(s): 5 province(s) \xc3\x97 200 citizens" in drawn
