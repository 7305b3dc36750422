"""`lgsp tokens revoke` and `lgsp audit export` on the database of a bus that is running."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from jose import jwt

from lgsp import admin_tasks
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.cli import run_cli

pytestmark = pytest.mark.anyio

SERVICES = f"{KG}/services"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The bus reads the deny-list on every call, so a CLI revocation shows at once."""
    return settings.model_copy(update={"client_cache_seconds": 0})


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def test_tokens_revoke_refuses_that_token_on_the_running_bus(
    client: httpx.AsyncClient, cli_database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    doomed, other = await fetch_token(client), await fetch_token(client)
    jti = jwt.get_unverified_claims(doomed)["jti"]

    code = await run_cli(["tokens", "revoke", jti, "--instance", "kiengiang"])
    again = await run_cli(["tokens", "revoke", jti, "--instance", "kiengiang"])

    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert (code, again) == (0, 0)
    assert (first["newly_revoked"], second["newly_revoked"]) == (True, False)
    assert (await client.get(SERVICES, headers=bearer(doomed))).status_code == 401
    assert (await client.get(SERVICES, headers=bearer(other))).status_code == 200


async def test_tokens_revoke_keeps_the_jti_until_the_expiry_given(
    fresh_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LGSP_DATABASE_URL", fresh_settings.database_url)
    exp = int((datetime.now(UTC) + timedelta(minutes=30)).timestamp())

    code = await run_cli(
        ["tokens", "revoke", "leaked-1", "--instance", "kiengiang", "--expires-at", str(exp)]
    )

    assert code == 0
    kept_until = json.loads(capsys.readouterr().out)["expires_at"]
    assert datetime.fromisoformat(kept_until) == datetime.fromtimestamp(exp, UTC)


async def calls_with_an_audit_trail(client: httpx.AsyncClient, count: int) -> str:
    """`count` citizen lookups, each with its own request id; the CCCD number looked up."""
    token = await fetch_token(client)
    cccd = generate_citizens(province_code="91", seed=7, count=1)[0].so_dinh_danh
    for n in range(count):
        answer = await client.get(
            f"{KG}/dancu/v1/citizens/{cccd}",
            headers={**bearer(token), "X-Request-ID": f"export-{n}"},
        )
        assert answer.status_code == 200
    return cccd


async def test_audit_export_writes_each_chain_in_order_in_small_pages(
    client: httpx.AsyncClient,
    cli_database: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cccd = await calls_with_an_audit_trail(client, 3)
    monkeypatch.setattr(admin_tasks, "EXPORT_PAGE_SIZE", 2)  # page boundaries inside the chain
    output = tmp_path / "audit.jsonl"

    code = await run_cli(["audit", "export", "--instance", "kiengiang", "--output", str(output)])

    records = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert code == 0
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert {r["instance"] for r in records} == {"kiengiang"}
    assert {f"export-{n}" for n in range(3)} <= {r["request_id"] for r in records}
    assert all(r["prev_hash"] == p["hash"] for p, r in zip(records, records[1:], strict=False))
    lookups = [r for r in records if r["request_id"].startswith("export-")]
    assert lookups
    assert all(cccd not in r["path"] for r in lookups)  # masked as stored
    assert f"exported {len(records)} audit records of 1 instance(s)" in capsys.readouterr().err
    assert not list(tmp_path.glob(".audit.jsonl.partial"))


async def test_audit_export_of_every_instance_goes_to_standard_output(
    client: httpx.AsyncClient, cli_database: None, capsys: pytest.CaptureFixture[str]
) -> None:
    await calls_with_an_audit_trail(client, 1)

    code = await run_cli(["audit", "export"])

    captured = capsys.readouterr()
    instances = {json.loads(line)["instance"] for line in captured.out.splitlines()}
    assert code == 0
    assert {"kiengiang"} <= instances
    assert "\x1b[" not in captured.err  # no progress drawn on a pipe


async def test_audit_export_draws_progress_on_a_terminal(
    client: httpx.AsyncClient,
    cli_database: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await calls_with_an_audit_trail(client, 2)
    terminal = FakeTerminal()
    monkeypatch.setattr("sys.stderr", terminal)

    code = await run_cli(["audit", "export", "--instance", "kiengiang", "-o", str(tmp_path / "a")])

    records = len((tmp_path / "a").read_text(encoding="utf-8").splitlines())
    assert code == 0
    assert "kiengiang" in terminal.getvalue()
    assert f"{records}/{records}" in terminal.getvalue()


async def test_audit_export_failing_half_way_leaves_no_file(
    client: httpx.AsyncClient,
    cli_database: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await calls_with_an_audit_trail(client, 1)
    output = tmp_path / "audit.jsonl"
    output.write_text("the previous export\n", encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("lgsp.audit.schemas.AuditRecordOut.model_validate", refuse)

    with pytest.raises(RuntimeError):
        await run_cli(["audit", "export", "--output", str(output)])

    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


async def test_progress_is_not_drawn_when_records_go_to_the_same_terminal(
    client: httpx.AsyncClient, cli_database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await calls_with_an_audit_trail(client, 1)
    stdout, stderr = FakeTerminal(), FakeTerminal()
    monkeypatch.setattr("sys.stdout", stdout)
    monkeypatch.setattr("sys.stderr", stderr)

    code = await run_cli(["audit", "export", "--instance", "kiengiang"])

    assert code == 0
    assert "\x1b[" not in stderr.getvalue()
    assert stdout.getvalue().count("\n") >= 1
