"""`lgsp reset`: a bus running in another thread on a real port, reset from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio.to_thread
import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.cli import main as run_main
from lgsp.testing import BusOptions, LgspBus, start_bus
from tests.fixtures.processes import free_port

pytestmark = pytest.mark.anyio

KG = "kiengiang"


async def main(argv: list[str]) -> int:
    """In a worker thread: the bus's own thread answers meanwhile, the test's loop is free."""
    return await anyio.to_thread.run_sync(run_main, argv)


@pytest.fixture
def running_bus(tmp_path: Path, database_url: str, engine: AsyncEngine) -> Iterator[LgspBus]:
    options = BusOptions(
        data_dir=tmp_path,
        mode="port",
        population=20,
        database_url=database_url,
        instances=["ndxp", KG],
    )
    with start_bus(options) as bus:
        yield bus


def untouched(bus: LgspBus) -> str:
    """What a reset does to a mock nothing wrote since it seeded itself at start: leave it
    alone where the bus sees every write (one process on SQLite), else copy its seed back."""
    sqlite = make_url(bus.settings.resolved_database_url).get_backend_name() == "sqlite"
    return "unchanged" if sqlite else "reseeded"


def add_fault_rule(bus: LgspBus) -> None:
    with bus.client() as http:
        answer = http.post(
            f"{bus.base_url(KG)}/admin/faults",
            json={"service": "dancu", "status": 503},
            headers=bus.headers(KG),
        )
        assert answer.status_code == 201, answer.text


def fault_rules(bus: LgspBus) -> list[object]:
    with bus.client() as http:
        rules: list[object] = http.get(
            f"{bus.base_url(KG)}/admin/faults", headers=bus.headers(KG)
        ).json()["rules"]
        return rules


async def test_reset_prints_what_was_reset_per_system(
    running_bus: LgspBus, capsys: pytest.CaptureFixture[str]
) -> None:
    add_fault_rule(running_bus)

    code = await main(["reset", "--url", running_bus.url])

    out = capsys.readouterr().out
    assert code == 0
    assert fault_rules(running_bus) == []
    rows = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in out.splitlines()
        if line.startswith("│")
    ]
    assert [row[:3] for row in rows if row[1] == "dvc"] == [[KG, "dvc", untouched(running_bus)]]
    assert all(row[3].isdigit() and row[4].isdigit() for row in rows)
    assert "took_ms:" in out
    assert "kept: audit log, clients, signing keys, token revocations" in out


async def test_reset_json_is_the_bus_answer(
    running_bus: LgspBus, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await main(["reset", "--url", running_bus.url, "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["instances"] == ["ndxp", KG]
    outcomes = {(s["instance"], s["system"]): s["outcome"] for s in report["systems"]}
    assert outcomes[(KG, "dvc")] == untouched(running_bus)
    assert outcomes[(KG, "dancu")] == "stateless"
    assert report["took_ms"] >= 0


async def test_reset_uses_lgsp_public_url_when_no_url_is_given(
    running_bus: LgspBus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_PUBLIC_URL", running_bus.url)

    assert await main(["reset", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["instances"] == ["ndxp", KG]


async def test_reset_with_credentials_the_bus_refuses_fails_in_one_line(
    running_bus: LgspBus, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_DEMO_CLIENT_SECRET", "not-the-secret")

    code = await main(["reset", "--url", running_bus.url])

    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert "refused a token to client 'demo': 401 invalid_client" in err


async def test_reset_of_a_url_that_is_not_a_bus_says_so(
    running_bus: LgspBus, capsys: pytest.CaptureFixture[str]
) -> None:
    code = await main(["reset", "--url", f"{running_bus.url}/lgsp"])

    assert code == 1
    assert "does not answer as an LGSP bus" in capsys.readouterr().err


async def test_reset_with_no_bus_listening_fails_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    code = await main(["reset", "--url", url])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"lgsp: cannot reach the bus at {url}: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


async def test_reset_refuses_a_url_that_is_not_http(capsys: pytest.CaptureFixture[str]) -> None:
    assert await main(["reset", "--url", "ftp://127.0.0.1:8000"]) == 2
    assert "give an http:// or https:// URL" in capsys.readouterr().err


def answer_resets_with(monkeypatch: pytest.MonkeyPatch, reset: httpx.Response) -> None:
    """A bus at http://bus.test that serves NDXP, grants a token and answers the reset so:
    answers this test cannot provoke on a healthy bus."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/":
            return httpx.Response(200, json={"instances": [{"base_url": "http://x/ndxp"}]})
        if request.url.path == "/ndxp/token":
            return httpx.Response(200, json={"access_token": "t"})
        return reset

    real_client = httpx.Client
    monkeypatch.setattr(
        httpx,
        "Client",
        lambda **kwargs: real_client(transport=httpx.MockTransport(answer), **kwargs),
    )


def test_a_refused_reset_names_the_problem_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mock failing to reseed."""
    problem = {"code": "UPSTREAM_UNAVAILABLE", "detail": "System dvc could not be reset."}
    answer_resets_with(monkeypatch, httpx.Response(502, json=problem))

    code = run_main(["reset", "--url", "http://bus.test"])

    assert code == 1
    assert capsys.readouterr().err == (
        "lgsp: the bus at http://bus.test/ndxp refused the reset: 502 UPSTREAM_UNAVAILABLE: "
        "System dvc could not be reset.\n"
    )


@pytest.mark.parametrize("body", [b"<html>ok</html>", b'{"systems": "all"}', b'{"systems": []}'])
def test_a_reset_answered_without_a_report_is_a_failure_not_a_bad_argument(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], body: bytes
) -> None:
    answer_resets_with(monkeypatch, httpx.Response(200, content=body))

    code = run_main(["reset", "--url", "http://bus.test"])

    assert code == 1
    assert capsys.readouterr().err == (
        "lgsp: the bus at http://bus.test/ndxp answered the reset with no report\n"
    )
