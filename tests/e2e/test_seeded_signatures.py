"""The seeded documents and status messages are signed (issue 17: every document between
agencies is), in era 2026 by today's bodies too: the bus's CA hands the document system a key
for each body that sends or reports in the seed, and a reader's check of each is valid."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lgsp.settings import Settings
from mocks.directory.agencies import TODAYS_AGENCIES
from tests.fixtures.bus import bearer, bus_settings, fetch_token

pytestmark = pytest.mark.anyio

AG = "/lgsp/angiang"
QLVB = f"{AG}/qlvb/v1"
UBND = TODAYS_AGENCIES["91"][0].organ_id  # Ủy ban nhân dân tỉnh An Giang, of today


@pytest.fixture
def settings(bus_database_url: str, bus_data_dir: Path) -> Settings:
    return bus_settings(bus_database_url, bus_data_dir).model_copy(update={"era": "2026"})


async def test_seeded_documents_and_statuses_of_today_s_bodies_are_validly_signed(
    client: httpx.AsyncClient,
) -> None:
    headers = bearer(await fetch_token(client, AG))
    inbox = await client.get(f"{QLVB}/documents/inbox",
                             params={"organ_id": UBND, "size": 100}, headers=headers)  # fmt: skip
    statuses = await client.get(
        f"{QLVB}/documents/inbox",
        params={"organ_id": UBND, "size": 100, "kind": "status"}, headers=headers,
    )  # fmt: skip
    assert inbox.status_code == 200, inbox.text
    assert statuses.status_code == 200, statuses.text
    urls = [f"{QLVB}/documents/{item['id']}" for item in inbox.json()["items"]]
    urls += [
        f"{QLVB}/documents/{item['id']}/recipients/{item['organ_id']}/statuses/{item['position']}"
        for item in statuses.json()["items"]
    ]
    senders = {item["from"]["organ_id"] for item in inbox.json()["items"]}
    reporters = {item["reported_by"] for item in statuses.json()["items"]}

    checks = [(await client.get(url, headers=headers)).json()["signature"] for url in urls]

    assert senders & {a.organ_id for a in TODAYS_AGENCIES["91"]}  # today's bodies send ...
    assert reporters & {a.organ_id for a in TODAYS_AGENCIES["91"]}  # ... and report
    for check in checks:
        assert check["valid"] is True, check
        assert "TEST CA" in check["issuer"]
