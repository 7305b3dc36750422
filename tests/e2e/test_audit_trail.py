"""Every hop is recorded, before the answer leaves, in a chain that shows any later edit."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.admin_tasks import verify_audit
from lgsp.audit.chain import AuditEntry
from lgsp.audit.repository import AuditRepository
from lgsp.journal.capture import JournalEntry
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.cli import run_cli
from tests.fixtures.documents import cross_province_document

pytestmark = pytest.mark.anyio


def first_cccd(settings: Settings) -> str:
    return generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh


async def lookup(
    client: httpx.AsyncClient, token: str, cccd: str, request_id: str
) -> httpx.Response:
    return await client.get(
        f"{KG}/dancu/v1/citizens/{cccd}",
        headers={**bearer(token), "X-Request-ID": request_id},
    )


async def look_up_three_times(
    client: httpx.AsyncClient, token: str, settings: Settings, tag: str
) -> None:
    """Three calls, `{tag}-0` to `{tag}-2`, to chain records a test can then tamper with."""
    cccd = first_cccd(settings)
    for n in range(3):
        await lookup(client, token, cccd, f"{tag}-{n}")


async def test_a_call_leaves_an_inbound_and_an_upstream_record(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = first_cccd(settings)
    call = await lookup(client, demo_token, cccd, "trail-1")

    trail = await client.get(
        f"{KG}/admin/audit", params={"request_id": "trail-1"}, headers=bearer(demo_token)
    )

    assert trail.status_code == 200
    inbound, upstream = trail.json()["records"]
    assert (inbound["hop"], inbound["caller"], inbound["target"]) == (
        "inbound",
        "demo",
        "kiengiang",
    )
    assert (upstream["hop"], upstream["caller"], upstream["target"]) == (
        "upstream",
        "kiengiang",
        "dancu",
    )
    assert inbound["service"] == upstream["service"] == "dancu"
    assert inbound["status"] == 200
    assert inbound["response_sha256"] == hashlib.sha256(call.content).hexdigest()
    assert inbound["request_sha256"] == hashlib.sha256(b"").hexdigest()
    assert upstream["prev_hash"] == inbound["hash"]
    assert upstream["seq"] == inbound["seq"] + 1


async def test_audit_records_hold_no_full_cccd(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = first_cccd(settings)
    await lookup(client, demo_token, cccd, "trail-mask")

    records = (
        await client.get(
            f"{KG}/admin/audit", params={"request_id": "trail-mask"}, headers=bearer(demo_token)
        )
    ).json()["records"]

    assert len(records) == 2
    for record in records:
        assert cccd not in record["path"]
        assert cccd[:3] in record["path"]


async def test_refused_calls_are_recorded_too(client: httpx.AsyncClient, demo_token: str) -> None:
    await client.get(f"{KG}/services", headers={"X-Request-ID": "trail-401"})

    records = (
        await client.get(
            f"{KG}/admin/audit", params={"request_id": "trail-401"}, headers=bearer(demo_token)
        )
    ).json()["records"]

    assert [(r["hop"], r["status"], r["caller"]) for r in records] == [("inbound", 401, None)]


async def test_audit_endpoint_needs_an_admin_client(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    from lgsp.admin_tasks import create_client

    plain = await create_client(
        settings, instance="kiengiang", name="plain", services=["dancu"], is_admin=False
    )
    token = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)
    admin_without_scope = await fetch_token(client, scope="dancu")

    for candidate in (token, admin_without_scope):
        response = await client.get(
            f"{KG}/admin/audit", params={"request_id": "x"}, headers=bearer(candidate)
        )
        assert response.status_code == 403
        assert response.json()["code"] == "ACCESS_DENIED"


@pytest.mark.usefixtures("spoiled_bus")
async def test_no_answer_leaves_when_its_record_cannot_be_committed(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    async with bus.engine.begin() as conn:
        await conn.execute(text("DROP TABLE audit_records"))

    response = await lookup(client, demo_token, first_cccd(settings), "trail-503")

    assert response.status_code == 503
    assert response.json()["code"] == "AUDIT_UNAVAILABLE"
    assert "full_name" not in response.text


@pytest.mark.usefixtures("spoiled_bus")
async def test_chain_verifies_and_detects_an_edited_record(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    await look_up_three_times(client, demo_token, settings, "edit")
    assert (await verify_audit(settings, instance=None)).ok

    async with bus.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE audit_records SET status = 500"
                " WHERE request_id = 'edit-1' AND hop = 'inbound'"
            )
        )
        seq = (
            await conn.execute(
                text(
                    "SELECT seq FROM audit_records WHERE request_id = 'edit-1' AND hop = 'inbound'"
                )
            )
        ).scalar_one()

    report = await verify_audit(settings, instance=None)

    assert not report.ok
    assert [(p.instance, p.seq) for p in report.problems] == [("kiengiang", seq)]


@pytest.mark.usefixtures("spoiled_bus")
async def test_chain_detects_a_deleted_record(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    await look_up_three_times(client, demo_token, settings, "del")

    async with bus.engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM audit_records WHERE request_id = 'del-1' AND hop = 'upstream'")
        )

    report = await verify_audit(settings, instance="kiengiang")

    assert not report.ok
    assert report.problems[0].instance == "kiengiang"


@pytest.mark.usefixtures("spoiled_bus", "cli_database")
async def test_audit_verify_command_exit_codes(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    bus: BusState,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await lookup(client, demo_token, first_cccd(settings), "cli-1")
    await lookup(client, demo_token, first_cccd(settings), "cli-2")

    data_dir = ["--data-dir", str(settings.data_dir)]
    intact = await run_cli(["audit", "verify", *data_dir])
    async with bus.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_records WHERE request_id = 'cli-2'"))
    broken = await run_cli(["audit", "verify", *data_dir])

    out = capsys.readouterr()
    assert intact == 0
    assert "intact" in out.out
    assert broken == 1
    assert "kiengiang" in out.err


async def test_an_over_long_client_id_is_refused_401_and_audited_under_a_bounded_id(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    """Security probe F9: on PostgreSQL this was 503 AUDIT_UNAVAILABLE with no record (the
    claimed id went to a VARCHAR(64) column as sent); so was a long method, at any path."""
    login = await client.post(
        f"{KG}/token",
        data={"grant_type": "client_credentials"},
        auth=("a" * 100, "x"),
        headers={"X-Request-ID": "f9-login"},
    )
    method = await client.request("PROPFINDANDMUCHMORE", f"{KG}/services")
    async with bus.session_factory() as session:
        records = await AuditRepository(session).by_request_id("f9-login")

    assert (login.status_code, login.json()["error"]) == (401, "invalid_client")
    assert [(r.hop, r.status, r.caller) for r in records] == [("inbound", 401, "a" * 63 + "…")]
    assert method.status_code == 405


async def test_control_characters_from_the_caller_cannot_break_the_audit_write(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """PostgreSQL refuses NUL in text: an unescaped client id would turn into a 503 (a path
    with one is refused before it reaches an instance: `EntryMiddleware`)."""
    path = await client.get(f"{KG}/dvc/v1/%00", headers=bearer(demo_token))
    login = await client.post(
        f"{KG}/token",
        data={"grant_type": "client_credentials", "client_id": "x\x00y", "client_secret": "s"},
    )

    assert (path.status_code, path.json()["code"]) == (400, "INVALID_PATH")
    assert login.status_code == 401


TAIL_TRUNCATION = (
    "DELETE FROM audit_records WHERE instance = 'kiengiang' AND seq > {keep}",
    "UPDATE audit_heads SET seq = {keep}, hash = (SELECT hash FROM audit_records"
    " WHERE instance = 'kiengiang' AND seq = {keep}) WHERE instance = 'kiengiang'",
)
INSTANCE_DELETION = (
    "DELETE FROM audit_records WHERE instance = 'kiengiang'",
    "DELETE FROM audit_heads WHERE instance = 'kiengiang'",
)


@pytest.mark.parametrize(
    ("statements", "argv"),
    [
        pytest.param(TAIL_TRUNCATION, [], id="tail-truncated"),
        pytest.param(INSTANCE_DELETION, [], id="instance-deleted"),
        pytest.param(INSTANCE_DELETION, ["--instance", "kiengiang"], id="instance-deleted-named"),
    ],
)
async def test_audit_verify_detects_the_newest_records_deleted_after_the_bus_stopped(
    fresh_settings: Settings,
    engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    statements: tuple[str, ...],
    argv: list[str],
) -> None:
    """Security probe F18: the head row is rewritten as easily as the records, so the bus
    signs checkpoints of it into the data dir, where the database cannot reach."""
    from lgsp.composition import create_bus
    from tests.fixtures.apps import running
    from tests.fixtures.bus import TEST_INSTANCES

    monkeypatch.setenv("LGSP_DATABASE_URL", fresh_settings.database_url)
    async with (
        running(create_bus(fresh_settings, instances=TEST_INSTANCES)) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url=fresh_settings.public_url
        ) as client,
    ):
        token = await fetch_token(client)
        for n in range(3):
            assert (await lookup(client, token, first_cccd(fresh_settings), f"f18-{n}")).is_success
    data_dir = ["--data-dir", str(fresh_settings.data_dir)]
    intact = await run_cli(["audit", "verify", *data_dir, *argv])
    async with engine.begin() as conn:
        newest = (
            await conn.execute(text("SELECT seq FROM audit_heads WHERE instance = 'kiengiang'"))
        ).scalar_one()
        for statement in statements:
            await conn.execute(text(statement.format(keep=newest - 2)))

    broken = await run_cli(["audit", "verify", *data_dir, *argv])

    out = capsys.readouterr()
    assert (intact, broken) == (0, 1), out
    assert "checkpoint(s) matched" in out.out
    assert "instance kiengiang" in out.err
    assert "newest records deleted" in out.err


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("POST", "/qlvb/v1/documents", "document", id="stored-and-forwarded"),
        pytest.param("POST", "/admin/faults", "fault", id="admin-change"),
        pytest.param("POST", "/admin/revoked-tokens", "jti", id="admin-revocation"),
        pytest.param("POST", "/token/revoke", "own-token", id="token-revocation"),
    ],
)
async def test_a_change_names_its_caller_even_if_the_process_dies_before_the_answer_is_recorded(
    client: httpx.AsyncClient,
    demo_token: str,
    bus: BusState,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: str,
) -> None:
    """Security probe F16: the change commits (in the system, or in the bus's own tables)
    before the call's `inbound` record; a process killed in between left a stored, forwarded
    document that no record tied to its client. Here the `inbound` write is what never
    happens, as after a SIGKILL; the `pending` record written before the change remains."""
    real_append = bus.audit_writer.append

    async def killed_before_the_inbound_record(
        entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None:
        if any(e.hop == "inbound" and (e.request_id, e.caller) == ("f16", "demo") for e in entries):
            raise RuntimeError("SIGKILL")
        await real_append(entries, journal=journal)

    monkeypatch.setattr(bus.audit_writer, "append", killed_before_the_inbound_record)
    payloads: dict[str, dict[str, Any]] = {
        "document": {"json": cross_province_document("1616")},
        "fault": {"json": {"status": 503}},
        "jti": {"json": {"jti": "leaked-1"}},
        "own-token": {"data": {"token": demo_token}, "auth": ("demo", "lgsp-demo-secret")},
    }
    payload = payloads[body]
    headers = {"X-Request-ID": "f16"} if "auth" in payload else {**bearer(demo_token)}
    headers["X-Request-ID"] = "f16"

    lost = await client.request(method, f"{KG}{path}", headers=headers, **payload)
    async with bus.session_factory() as session:
        records = await AuditRepository(session).by_request_id("f16", instance="kiengiang")

    assert lost.status_code == 503  # the answer was never recorded, so never given
    assert [(r.hop, r.caller, r.method, r.status) for r in records][:1] == [
        ("pending", "demo", method, 0)
    ]
    if body == "document":  # …while the change itself went through, as the probe saw
        again = await client.post(f"{KG}{path}", headers=bearer(demo_token), **payload)
        assert again.json()["duplicate"] is True
