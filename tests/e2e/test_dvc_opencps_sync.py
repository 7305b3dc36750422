"""Kiên Giang's portal syncs to DVCQG in the OpenCPS dialect (`mocks/dvc/opencps_sync.py`): a
dossier filed in the province reaches the national portal through the instance's OpenCPS door,
as a real one-stop system's would, and the bus's audit and journal show the door's calls under
the filing's request id."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from lgsp.db import make_engine, make_session_factory
from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from mocks.dvc.models import NationalSync
from tests.e2e.test_dialects import journal, trail
from tests.fixtures.apps import systems_opened
from tests.fixtures.bus import KG, DialectSettings, bearer, bus_settings, fetch_token
from tests.fixtures.dossiers import (
    applicant_of,
    file_residence_dossier,
    first_adult,
    receive_dossier,
)
from tests.fixtures.topology import todays_topology_text
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

SYNC_PATH = f"{KG}/dvcqg/v1/dossiers/sync"
AG = "/lgsp/angiang"
UPSTREAM_TIMEOUT_SECONDS = 60.0
"""Not the 10 s default: the first test asserts each sync was taken at its first call, which a
slow hop on a loaded machine must not turn into a 504 (the door's "-9") and a retry."""


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    """The portal calls its instance in OpenCPS's dialect, which the instance speaks."""
    return dialect_settings(
        {"kiengiang": ("bus", "opencps")},
        system_dialects={("kiengiang", "dvc"): "opencps"},
        upstream_timeout_seconds=UPSTREAM_TIMEOUT_SECONDS,
    )


async def sync_rows(settings: Settings, code: str) -> list[NationalSync]:
    """The portal's queue for the dossier, read from the systems' database."""
    engine = make_engine(settings.systems_database_url)
    try:
        async with make_session_factory(engine)() as session:
            rows = await session.scalars(
                select(NationalSync)
                .where(NationalSync.dossier_code == code)
                .order_by(NationalSync.id)
            )
            return list(rows.all())
    finally:
        await engine.dispose()


async def national(client: httpx.AsyncClient, token: str, code: str, entries: int) -> Any:
    answer = await eventually(
        lambda: client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(token)),
        lambda r: r.status_code == 200 and len(r.json()["history"]) == entries,
    )
    return answer.json()


async def test_a_filed_dossier_reaches_dvcqg_through_the_opencps_door(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    # Each sync at its first call: not while the other systems still open on the event loop
    # the first sync's upstream timer runs on (a loaded run had a 5xx, "-9", then a retry).
    await systems_opened(client)
    headers = {**bearer(demo_token), "X-Request-ID": "portal-opencps-1"}
    code = await file_residence_dossier(
        client, KG, headers, seed=settings.seed, population=settings.population
    )
    await receive_dossier(client, KG, code, bearer(demo_token))

    synced = await national(client, demo_token, code, 2)

    assert [entry["status"]["code"] for entry in synced["history"]] == [1, 2]
    # the police of the applicant's commune (seed 7's first adult lives in Phường Đông Hồ)
    assert synced["agency"]["name"] == "Công an phường Đông Hồ, thành phố Hà Tiên"
    rows = await eventually_synced(settings, code, 2)
    assert [(row.step, row.attempts, row.error_code) for row in rows] == [
        (1, 1, None),  # each synced at its first call
        (2, 1, None),
    ]
    # The door's calls, in the bus's own dialect, under the filing's request id.
    records = await trail(client, demo_token, "portal-opencps-1")
    door_calls = [(r["hop"], r["method"], r["path"], r["status"]) for r in records]
    assert ("inbound", "GET", f"{KG}/dvcqg/v1/dossiers/{code}", 404) in door_calls
    assert ("inbound", "POST", SYNC_PATH, 200) in door_calls
    entries = await journal(client, demo_token, "portal-opencps-1")
    assert {
        (e["client_id"], e["method"], e["path"], e["status"])
        for e in entries
        if e["service"] == "dvcqg"
    } >= {("system-dvc", "POST", "/dvcqg/v1/dossiers/sync", 200)}, entries


async def eventually_synced(settings: Settings, code: str, count: int) -> list[NationalSync]:
    """The queue's rows once the portal has recorded every answer (just after DVCQG's)."""
    deadline = time.monotonic() + 20
    while True:
        rows = await sync_rows(settings, code)
        if len(rows) == count and all(row.state == "synced" for row in rows):
            return rows
        assert time.monotonic() < deadline, [(r.state, r.error_code) for r in rows]
        await asyncio.sleep(0.05)


async def test_a_sync_the_door_refuses_is_retried_until_it_is_taken(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    fault = await client.post(
        f"{KG}/admin/faults",
        json={"service": "dvcqg", "method": "POST", "status": 503, "times": 1},
        headers=bearer(demo_token),
    )
    assert fault.status_code == 201, fault.text

    code = await file_residence_dossier(
        client, KG, bearer(demo_token), seed=settings.seed, population=settings.population
    )

    await national(client, demo_token, code, 1)
    [row] = await eventually_synced(settings, code, 1)
    assert (row.attempts, row.error_code) == (2, "-9")  # UNAVAILABLE, then taken: two calls


class TestTodaysMap:
    """Era 2026, the bus's default: An Giang's portal (Kiên Giang's records since 1 July 2025)
    at a door that refuses an agency code the merger closed (H33)."""

    @pytest.fixture
    def settings(
        self, bus_database_url: str, bus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Settings:
        path = tmp_path_factory.mktemp("portal-today") / "opencps.toml"
        topology = todays_topology_text(
            {"angiang": ("bus", "opencps")}, {("angiang", "dvc"): "opencps"}
        )
        path.write_text(topology, encoding="utf-8")
        return bus_settings(bus_database_url, bus_data_dir, era="2026", topology_file=path)

    async def test_todays_portal_syncs_as_its_province_of_today(
        self, client: httpx.AsyncClient, settings: Settings
    ) -> None:
        token = await fetch_token(client, AG)
        citizens = generate_citizens(
            province_code="91", seed=settings.seed, count=settings.population
        )
        filed = await client.post(
            f"{AG}/dvc/v1/dossiers",
            json={
                "procedure_code": "1.004222.000.00.00.H01",  # RESIDENCE, as An Giang's today
                "applicant": applicant_of(first_adult(citizens)),
                "summary": "Đăng ký thường trú",
            },
            headers=bearer(token),
        )
        assert filed.status_code == 201, filed.text
        code = filed.json()["code"]

        synced = await eventually(
            lambda: client.get(f"{AG}/dvcqg/v1/dossiers/{code}", headers=bearer(token)),
            lambda r: r.status_code == 200,
        )

        assert synced.json()["code"] == code
        [row] = await eventually_synced(settings, code, 1)
        assert (row.attempts, row.error_code) == (1, None)
