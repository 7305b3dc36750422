"""`POST {base}/admin/journal/wait`: verify, waiting for what has yet to arrive (issue 19)."""

from __future__ import annotations

from typing import Any

import anyio
import httpx
import pytest

from lgsp.settings import Settings
from tests.fixtures.bus import KG, BusPool, bearer, fetch_token
from tests.fixtures.clocks import WatchedClock
from tests.fixtures.documents import cross_province_document
from tests.fixtures.dossiers import file_residence_dossier

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
WAIT = f"{KG}/admin/journal/wait"
SAMPLES = f"{KG}/admin/samples"
LOOKUP = f"{KG}/dancu/v1/citizens/091199999999"  # nobody's CCCD: a 404 from the system
CAP = 0.2
"""`journal_wait_max_seconds` of the bus that caps waits."""
HANG_SECONDS = 120.0
"""Ends a wait that would never answer on a clock held still. Not a bound on speed: pytest's
timeout cannot end such a test (its signal lands inside the bus, which answers it 500)."""


async def test_a_wait_answers_as_soon_as_the_call_arrives(
    client: httpx.AsyncClient, demo_token: str, bus_clock: WatchedClock
) -> None:
    """The bus's clock stands still: a wait that answered only at its deadline never would."""
    answers: list[httpx.Response] = []

    async def wait() -> None:
        expectation = {"path": "/dancu/v1/citizens/*", "count": 1, "timeout_seconds": 20}
        answers.append(await client.post(WAIT, json=expectation, headers=bearer(demo_token)))

    with anyio.fail_after(HANG_SECONDS):
        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await bus_clock.until_read(2)  # its deadline, then the time left once it found nothing
            assert not answers  # still waiting: nothing has arrived
            assert (await client.get(LOOKUP, headers=bearer(demo_token))).status_code == 404

    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json() == {"verified": True, "count": 1, "expected": "exactly 1"}


async def test_a_wait_that_times_out_is_408_with_the_near_misses(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    await client.get(LOOKUP, headers=bearer(demo_token))

    answer = await client.post(
        WAIT,
        json={"path": "/dancu/v1/citizens/*", "status": 200, "timeout_seconds": 0.3},
        headers=bearer(demo_token),
    )

    assert answer.status_code == 408
    problem = answer.json()
    assert problem["code"] == "WAIT_TIMED_OUT"
    assert problem["count"] == 0
    assert [miss["status"] for miss in problem["near_misses"]] == [404]


@pytest.mark.parametrize("timeout", [0, -1, 61, "soon"])
async def test_a_wait_is_bounded(client: httpx.AsyncClient, demo_token: str, timeout: Any) -> None:
    answer = await client.post(WAIT, json={"timeout_seconds": timeout}, headers=bearer(demo_token))

    assert answer.status_code == 422
    assert answer.json()["code"] == "INVALID_REQUEST"


async def test_a_wait_needs_an_admin(client: httpx.AsyncClient) -> None:
    assert (await client.post(WAIT, json={})).status_code == 401


async def test_a_document_is_seen_arriving_in_the_other_province(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = await client.post(
        f"{KG}/qlvb/v1/documents",
        json=cross_province_document("71"),
        headers=bearer(demo_token),
    )
    assert sent.status_code == 202, sent.text

    arrived = await client.post(
        f"{TG}/admin/journal/wait",
        json={
            "path": "/qlvb/v1/inbound/documents",
            "request_id": sent.headers["x-request-id"],
            "status": 202,
            "timeout_seconds": 20,
        },
        headers=bearer(await fetch_token(client, TG)),
    )

    assert arrived.status_code == 200, arrived.text


async def test_a_dossier_is_seen_synchronised_to_the_national_portal(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    request_id = "wait-dossier-1"
    await file_residence_dossier(
        client,
        KG,
        {**bearer(demo_token), "X-Request-ID": request_id},
        seed=settings.seed,
        population=settings.population,
    )

    synced = await client.post(
        "/ndxp/admin/journal/wait",
        json={"service": "dvcqg", "request_id": request_id, "timeout_seconds": 20},
        headers=bearer(await fetch_token(client, "/ndxp")),
    )

    assert synced.status_code == 200, synced.text


async def test_the_bus_caps_how_long_a_wait_holds(
    settings: Settings, bus_pool: BusPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bus's clock moves to the cap and no further: a wait held for the 30 s it asked
    would never answer."""
    clock = WatchedClock()
    answers: list[httpx.Response] = []
    async with bus_pool.client(settings, journal_wait_max_seconds=CAP) as client:
        assert bus_pool.state is not None
        monkeypatch.setattr(bus_pool.state, "clock", clock)
        token = await fetch_token(client)

        async def wait() -> None:
            expectation = {"status": 418, "timeout_seconds": 30}
            answers.append(await client.post(WAIT, json=expectation, headers=bearer(token)))

        with anyio.fail_after(HANG_SECONDS):
            async with anyio.create_task_group() as group:
                group.start_soon(wait)
                await clock.until_read(1)  # its deadline
                clock.now += CAP

    assert answers[0].status_code == 408
    assert "Waited 0.2 s" in answers[0].json()["detail"]
