"""Two workers on one database (`lgsp serve --workers N`, or two processes) honour each other's
dialect credentials: an OpenCPS session one answered, and the end of an API Manager token the
other revoked. Two apps in this process stand for the two workers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lgsp.settings import Settings
from tests.e2e.test_dialects import DEMO, first_cccd, opaque_token
from tests.fixtures.apps import serving, systems_opened
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer
from tests.fixtures.topology import topology_text

pytestmark = pytest.mark.anyio

DST = {"dstcode": "000.00.00.H33"}


@pytest.fixture
async def workers(
    fresh_settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    from lgsp.composition import create_bus

    topology = tmp_path / "topology.toml"
    topology.write_text(
        topology_text(dialects={"kiengiang": ("bus", "apim", "opencps")}), encoding="utf-8"
    )
    # A revocation another process made is seen at its next call (no cached deny list).
    settings = fresh_settings.model_copy(
        update={"topology_file": topology, "client_cache_seconds": 0}
    )
    # A bus starts in about a second; on a loaded machine in many more.
    first_bus, second_bus = (create_bus(settings, instances=["kiengiang"]) for _ in range(2))
    async with (
        serving(first_bus, TEST_PUBLIC_URL) as first,
        serving(second_bus, TEST_PUBLIC_URL) as second,
    ):
        await asyncio.gather(systems_opened(first), systems_opened(second))
        yield first, second


async def opencps_login(http: httpx.AsyncClient) -> str:
    answer = await http.post(
        f"{KG}/opencps/auth", json={"username": DEMO[0], "password": DEMO[1]}, headers=DST
    )
    assert answer.json()["error_code"] == "0", answer.text
    session: str = answer.json()["session"]
    return session


async def procedures(http: httpx.AsyncClient, session: str) -> dict[str, object]:
    answer = await http.post(
        f"{KG}/opencps/integration",
        json={"session": session, "madonvi": "000.00.00.H33", "service": "LayDanhSachTTHC"},
        headers=DST,
    )
    document: dict[str, object] = answer.json()
    return document


async def test_an_opencps_session_one_worker_answered_is_honoured_by_the_other(
    workers: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    first, second = workers
    session = await opencps_login(first)

    listed = await procedures(second, session)

    assert listed["error_code"] == "0", listed
    assert listed["result"]


async def test_an_api_manager_token_revoked_at_one_worker_is_refused_at_the_other(
    workers: tuple[httpx.AsyncClient, httpx.AsyncClient], fresh_settings: Settings
) -> None:
    first, second = workers
    lookup = f"{KG}/apim/dancu/1.0/citizens/{first_cccd(fresh_settings)}"
    token = await opaque_token(first)
    before = await second.get(lookup, headers=bearer(token))

    revoked = await first.post(f"{KG}/apim/revoke", data={"token": token}, auth=DEMO)
    at_first = await first.get(lookup, headers=bearer(token))
    at_second = await second.get(lookup, headers=bearer(token))

    assert before.status_code == 200, before.text  # the second worker has the token in hand
    assert revoked.status_code == 200, revoked.text
    assert (at_first.status_code, at_first.json()["fault"]["code"]) == (401, 900901)
    assert (at_second.status_code, at_second.json()["fault"]["code"]) == (401, 900901)
