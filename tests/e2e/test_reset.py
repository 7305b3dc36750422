"""`POST {base}/admin/reset`: the bus back to its seeded state, whatever a test did to it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from adapters.base import SystemRequest, SystemResponse
from lgsp.audit.verify import verify_chain
from lgsp.auth.repository import ClientRepository
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_national_flows import TG
from tests.fixtures.bus import KG, BusPool, bearer, fetch_token, registered_client
from tests.fixtures.documents import RECIPIENT, cross_province_document
from tests.fixtures.dossiers import file_residence_dossier
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

DOSSIERS = f"{KG}/dvc/v1/dossiers"
SEEDED_DOSSIERS_PER_PROVINCE = 10  # one in each TrangThaiHoSo (mocks/dvc/seed.py)


async def reset(client: httpx.AsyncClient, token: str, base: str = KG) -> dict[str, Any]:
    response = await client.post(f"{base}/admin/reset", headers=bearer(token))
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def dossier_listing(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get(DOSSIERS, params={"size": 100}, headers=bearer(token))
    assert response.status_code == 200, response.text
    listing: dict[str, Any] = response.json()
    return listing


async def file_dossier(client: httpx.AsyncClient, token: str, settings: Settings) -> str:
    return await file_residence_dossier(
        client, KG, bearer(token), seed=settings.seed, population=settings.population
    )


async def test_reset_undoes_dossiers_documents_and_their_national_traces(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    seeded = await dossier_listing(client, demo_token)
    code = await file_dossier(client, demo_token, settings)
    first_seeded = seeded["items"][-1]["code"]
    moved = await client.post(
        f"{DOSSIERS}/{first_seeded}/transitions",
        json={"action": "receive", "actor": "Nguyễn Thị Lan", "position": "Cán bộ"},
        headers=bearer(demo_token),
    )
    tg_token = await fetch_token(client, TG)
    sent = await client.post(
        f"{KG}/qlvb/v1/documents", json=cross_province_document("901"), headers=bearer(demo_token)
    )
    document_id = sent.json()["id"]
    inbox_of_tg = {"organ_id": RECIPIENT, "size": 100}
    await eventually(
        lambda: client.get(
            f"{TG}/qlvb/v1/documents/inbox", params=inbox_of_tg, headers=bearer(tg_token)
        ),
        lambda r: any(d["id"] == document_id for d in r.json()["items"]),
    )
    await eventually(  # the filing's sync reached the national portal
        lambda: client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token)),
        lambda r: r.status_code == 200,
    )

    await reset(client, demo_token)

    after = await dossier_listing(client, demo_token)
    await file_dossier(client, demo_token, settings)
    await reset(client, demo_token)  # from the copy the first reset kept (mocks/reset.py)
    after_again = await dossier_listing(client, demo_token)
    inbox = await client.get(
        f"{TG}/qlvb/v1/documents/inbox", params=inbox_of_tg, headers=bearer(tg_token)
    )
    at_sender = await client.get(
        f"{KG}/qlvb/v1/documents/{document_id}", headers=bearer(demo_token)
    )
    national = await client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token))
    assert moved.status_code == 200, moved.text
    assert after == after_again == seeded
    assert document_id not in [d["id"] for d in inbox.json()["items"]]
    assert at_sender.status_code == 404
    assert national.status_code == 404


async def test_reset_empties_the_outboxes_and_reports_each_mock(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    await file_dossier(client, demo_token, settings)

    report = await reset(client, demo_token)
    outbox = await client.get(f"{KG}/admin/outbox", headers=bearer(demo_token))

    outcomes = {(s["instance"], s["system"]): s["outcome"] for s in report["systems"]}
    seeded = {(s["instance"], s["system"]): s["seeded"] for s in report["systems"]}
    assert report["instances"] == ["ndxp", "kiengiang", "tiengiang"]
    assert report["outbox_deleted"] >= 1
    assert set(outbox.json()["counts"].values()) == {0}
    assert outcomes[("kiengiang", "dvc")] == "reseeded"  # the others: as nothing wrote them
    assert outcomes[("kiengiang", "dancu")] == outcomes[("ndxp", "csdlqgdc")] == "stateless"
    assert seeded[("kiengiang", "dvc")] == SEEDED_DOSSIERS_PER_PROVINCE
    assert seeded[("tiengiang", "qlvb")] > 0
    assert seeded[("ndxp", "dvcqg")] > 0
    assert "audit log" in report["kept"]


async def test_a_reset_leaves_alone_the_mocks_nothing_changed_since_the_last_one(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    """The tests' bus is the one writer of its systems' rows, on either database
    (`systems_sole_writer`): it sees every write to its mocks."""
    await file_dossier(client, demo_token, settings)
    await reset(client, demo_token)

    report = await reset(client, demo_token)

    outcomes = {s["outcome"] for s in report["systems"]} - {"stateless"}
    deleted = {s["deleted"] for s in report["systems"]}
    assert (outcomes, deleted) == ({"unchanged"}, {0})


async def test_where_another_process_may_write_the_mocks_every_reset_seeds_them_again(
    bus_pool: BusPool, settings: Settings
) -> None:
    """What PostgreSQL gets by default, and `--workers`: the writes of other processes are not
    seen here."""
    async with bus_pool.client(settings, systems_sole_writer=False) as client:
        token = await fetch_token(client)
        await reset(client, token)

        report = await reset(client, token)

    outcomes = {s["outcome"] for s in report["systems"]} - {"stateless"}
    assert outcomes == {"reseeded"}
    assert max(s["deleted"] for s in report["systems"]) > 0


async def test_reset_from_any_instance_resets_the_whole_bus(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    code = await file_dossier(client, demo_token, settings)

    await reset(client, await fetch_token(client, "/ndxp"), base="/ndxp")

    gone = await client.get(f"{DOSSIERS}/{code}", headers=bearer(demo_token))
    assert gone.status_code == 404


async def test_reset_keeps_the_audit_chain_and_the_integrators_clients(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    mine = await registered_client(bus, {"dancu": "GET"}, name="integrator")
    before = await verify_chain(bus.session_factory)

    await reset(client, demo_token)

    after = await verify_chain(bus.session_factory)
    token = await fetch_token(client, client_id=mine.client_id, secret=mine.client_secret)
    assert after.ok, after.problems
    assert after.checked > before.checked  # nothing deleted, the reset itself recorded
    assert token


async def test_reset_restores_a_revoked_demo_client(
    client: httpx.AsyncClient, demo_token: str, bus: BusState
) -> None:
    from datetime import UTC, datetime

    async with bus.session_factory.begin() as session:
        demo = await ClientRepository(session).get("kiengiang", "demo")
        assert demo is not None
        demo.revoked_at = datetime.now(UTC)
    ndxp_token = await fetch_token(client, "/ndxp")
    refused = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=("demo", "lgsp-demo-secret")
    )

    await reset(client, ndxp_token, base="/ndxp")

    assert refused.status_code == 401
    assert await fetch_token(client)


async def test_reset_gives_the_demo_client_back_its_rights_and_recreates_a_deleted_one(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    async with bus.session_factory.begin() as session:
        repository = ClientRepository(session)
        demo = await repository.get("kiengiang", "demo")
        assert demo is not None
        demo.is_admin = False
        demo.rights[:] = [right for right in demo.rights if right.service != "dancu"]
        gone = await repository.get("tiengiang", "demo")
        assert gone is not None
        await session.delete(gone)
    stripped = await fetch_token(client)
    ndxp_token = await fetch_token(client, "/ndxp")
    refused = await client.get(f"{KG}/admin/clients", headers=bearer(stripped))

    await reset(client, ndxp_token, base="/ndxp")

    token = await fetch_token(client)
    assert refused.status_code == 403
    assert (await client.get(f"{KG}/admin/clients", headers=bearer(token))).status_code == 200
    async with bus.session_factory() as session:
        restored = await ClientRepository(session).get("kiengiang", "demo")
        assert restored is not None
        assert "dancu" in {right.service for right in restored.rights}
    assert await fetch_token(client, TG)


async def test_a_system_that_cannot_be_reset_makes_the_reset_a_problem_and_the_bus_goes_on(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the systems are reset together: the failure still comes back as itself."""

    async def refuse(_request: SystemRequest) -> SystemResponse:
        return SystemResponse(status=500, body=b"")

    monkeypatch.setattr(bus.instances["tiengiang"].systems["dvc"], "send", refuse)
    failed = await client.post(f"{KG}/admin/reset", headers=bearer(demo_token))
    monkeypatch.undo()

    assert failed.status_code == 502, failed.text
    assert failed.json()["code"] == "UPSTREAM_UNAVAILABLE"
    assert "dvc of tiengiang" in failed.json()["detail"]
    assert (await reset(client, demo_token))["systems"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer not-a-token"}, 401)],
)
async def test_reset_refuses_callers_without_a_token(
    client: httpx.AsyncClient, headers: dict[str, str], status: int
) -> None:
    response = await client.post(f"{KG}/admin/reset", headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_reset_refuses_a_client_that_is_not_an_admin(
    client: httpx.AsyncClient, bus: BusState, settings: Settings
) -> None:
    plain = await registered_client(bus, {"dvc": "*"}, name="not an admin")
    token = await fetch_token(client, client_id=plain.client_id, secret=plain.client_secret)
    code_before = await client.get(f"{KG}/dvc/v1/procedures", headers=bearer(token))

    response = await client.post(f"{KG}/admin/reset", headers=bearer(token))

    assert code_before.status_code == 200
    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"


async def test_readers_during_resets_never_see_a_half_seeded_mock(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    await file_dossier(client, demo_token, settings)
    seen: list[int] = []

    async def read_while_resetting() -> None:
        for _ in range(15):
            seen.append((await dossier_listing(client, demo_token))["total"])

    async def reset_repeatedly() -> None:
        for _ in range(3):
            await reset(client, demo_token)

    await asyncio.gather(read_while_resetting(), reset_repeatedly())

    assert min(seen) >= SEEDED_DOSSIERS_PER_PROVINCE
    assert (await dossier_listing(client, demo_token))["total"] == SEEDED_DOSSIERS_PER_PROVINCE


async def test_reset_removes_fault_rules(client: httpx.AsyncClient, demo_token: str) -> None:
    added = await client.post(
        f"{KG}/admin/faults",
        json={"service": "dvc", "status": 503},
        headers=bearer(demo_token),
    )
    faulty = await client.get(DOSSIERS, headers=bearer(demo_token))

    await reset(client, demo_token)

    rules = await client.get(f"{KG}/admin/faults", headers=bearer(demo_token))
    healthy = await client.get(DOSSIERS, headers=bearer(demo_token))
    assert added.status_code == 201, added.text
    assert faulty.status_code == 503
    assert rules.json()["rules"] == []
    assert healthy.status_code == 200


async def test_a_reset_is_not_bounded_by_the_instances_upstream_timeout(
    bus_pool: BusPool, settings: Settings
) -> None:
    """A reset may start each mock (the first call to it opens and seeds its database) or
    delete and seed its rows again, which takes far longer than the millisecond a test of
    timeouts may give calls to its systems (a second overran on a loaded machine): it has a
    bound of its own (`RESET_TIMEOUT_SECONDS`). Here it is the first call to every mock."""
    async with bus_pool.client(settings, upstream_timeout_seconds=0.001) as client:
        token = await fetch_token(client)

        report = await reset(client, token)

    assert {s["outcome"] for s in report["systems"]} == {"unchanged", "stateless"}
