"""An admin client bound to no organisation acts for its own instance and for no other
(SECURITY-PROBE 2026-12-07 #2): past its own gateway it is NDXP's federation client, which
every check of the other province lets through, so its own gateway refuses it."""

from __future__ import annotations

import httpx
import pytest

from lgsp.admin_tasks import create_client
from lgsp.composition import seeded_dossier_codes
from lgsp.settings import Settings
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.outbox import tiengiang_citizen

pytestmark = pytest.mark.anyio

DOSSIERS = f"{KG}/dvc/v1/dossiers"
THERE = {"X-LGSP-Target": "tiengiang"}
START = {"action": "start_processing", "actor": "KG admin", "position": "x"}


async def unbound_admin(client: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    created = await create_client(
        settings,
        instance="kiengiang",
        name="instance admin",
        services=["dvc", "qlvb", "dancu"],
        is_admin=True,
        organisation=None,
    )
    token = await fetch_token(client, client_id=created.client_id, secret=created.client_secret)
    return bearer(token)


async def test_an_unbound_admin_acts_for_its_own_instance(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = await unbound_admin(client, settings)

    here = await client.get(DOSSIERS, headers=headers)
    named_here = await client.get(DOSSIERS, headers={**headers, "X-LGSP-Target": "kiengiang"})

    assert here.status_code == 200, here.text
    assert here.json()["items"]
    assert named_here.status_code == 200, named_here.text
    assert named_here.json()["total"] == here.json()["total"]


async def test_an_unbound_admin_acts_for_no_organisation_of_another_province(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    headers = {**await unbound_admin(client, settings), **THERE}
    theirs = seeded_dossier_codes(
        province_code="82", seed=settings.seed, population=settings.population
    )[0]

    for answer in (
        await client.get(DOSSIERS, headers=headers),
        await client.get(f"{DOSSIERS}/{theirs}", headers=headers),
        await client.post(f"{DOSSIERS}/{theirs}/transitions", json=START, headers=headers),
        await client.get(f"{KG}/qlvb/v1/documents/inbox?organ_id=000.00.01.H58", headers=headers),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["code"] == "ORGANISATION_REQUIRED"
        assert "tiengiang" in answer.json()["detail"]


async def test_an_unbound_admin_still_calls_another_provinces_open_operations(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """A citizen lookup (`callers = "any"`) is the service right's alone, as for any tenant."""
    headers = {**await unbound_admin(client, settings), **THERE}

    answer = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_citizen(settings)}", headers=headers
    )

    assert answer.status_code == 200, answer.text
