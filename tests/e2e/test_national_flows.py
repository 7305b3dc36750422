"""The flows through NDXP in one process: a national lookup, a document between provinces with
its status traces, and a dossier's status changes reaching the national portal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.documents import RECIPIENT, cross_province_document
from tests.fixtures.dossiers import file_residence_dossier, receive_dossier
from tests.fixtures.waiting import eventually, until_in_inbox

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"


async def test_a_province_looks_up_a_citizen_of_any_province_in_the_national_database(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    there = generate_citizens(province_code="82", seed=settings.seed, count=1)[0].so_dinh_danh
    direct = await client.get(
        f"{TG}/dancu/v1/citizens/{there}", headers=bearer(await fetch_token(client, TG))
    )

    national = await client.get(f"{KG}/csdlqgdc/v1/citizens/{there}", headers=bearer(demo_token))

    assert national.status_code == direct.status_code == 200
    assert national.json() == direct.json()


def recipient_status(document: dict[str, Any]) -> str | None:
    return next(
        (r["status"] for r in document["recipients"] if r["organ_id"] == RECIPIENT), "absent"
    )


async def test_a_document_reaches_another_provinces_inbox_once_and_its_statuses_come_back(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    tg_token = await fetch_token(client, TG)
    body = cross_province_document("77")

    sent = await client.post(f"{KG}/qlvb/v1/documents", json=body, headers=bearer(demo_token))
    again = await client.post(f"{KG}/qlvb/v1/documents", json=body, headers=bearer(demo_token))

    assert sent.status_code == 202, sent.text
    assert again.json()["duplicate"] is True
    document_id = sent.json()["id"]
    inbox = await until_in_inbox(client, TG, document_id, bearer(tg_token))
    assert [d["id"] for d in inbox.json()["items"]].count(document_id) == 1

    for code in ("01", "03"):
        reported = await client.post(
            f"{TG}/qlvb/v1/documents/{document_id}/status",
            json={"organ_id": RECIPIENT, "status_code": code},
            headers=bearer(tg_token),
        )
        assert reported.status_code == 200, reported.text

    at_sender = await eventually(
        lambda: client.get(f"{KG}/qlvb/v1/documents/{document_id}", headers=bearer(demo_token)),
        lambda r: recipient_status(r.json()) == "03",
    )
    assert recipient_status(at_sender.json()) == "03"


async def test_every_status_change_of_a_dossier_reaches_the_national_portal(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    auth = bearer(demo_token)
    code = await file_residence_dossier(
        client, KG, auth, seed=settings.seed, population=settings.population
    )
    await receive_dossier(client, KG, code, auth)

    national = await eventually(
        lambda: client.get(f"{KG}/dvcqg/v1/dossiers/{code}", headers=bearer(demo_token)),
        lambda r: r.status_code == 200 and len(r.json()["history"]) == 2,
    )

    assert national.json()["status"]["code"] == 2
    assert [entry["status"]["code"] for entry in national.json()["history"]] == [1, 2]
