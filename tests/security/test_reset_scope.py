"""An instance's admin resets its own instance, never the others of the process (issue 15,
SECURITY-PROBE F10); resetting every instance takes the bus-wide admin."""

from __future__ import annotations

import httpx
import pytest

from lgsp.admin_tasks import create_client
from lgsp.settings import Settings
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
RULE = {"status": 503, "service": "dancu"}


async def instance_admin(client: httpx.AsyncClient, settings: Settings) -> dict[str, str]:
    created = await create_client(
        settings, instance="kiengiang", name="KG operator", services=[], is_admin=True
    )
    return bearer(
        await fetch_token(client, client_id=created.client_id, secret=created.client_secret)
    )


async def rules(client: httpx.AsyncClient, base: str, headers: dict[str, str]) -> list[object]:
    listed = await client.get(f"{base}/admin/faults", headers=headers)
    assert listed.status_code == 200, listed.text
    found: list[object] = listed.json()["rules"]
    return found


async def test_an_instance_admin_resets_its_own_instance_only(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    tiengiang = bearer(await fetch_token(client, TG))
    for base, headers in ((KG, bearer(demo_token)), (TG, tiengiang)):
        added = await client.post(f"{base}/admin/faults", json=RULE, headers=headers)
        assert added.status_code == 201, added.text
    operator = await instance_admin(client, settings)

    reset = await client.post(f"{KG}/admin/reset", headers=operator)

    assert reset.status_code == 200, reset.text
    assert reset.json()["instances"] == ["kiengiang"]
    assert await rules(client, KG, bearer(demo_token)) == []
    assert len(await rules(client, TG, tiengiang)) == 1


async def test_an_instance_admin_may_not_reset_every_instance(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    operator = await instance_admin(client, settings)

    refused = await client.post(f"{KG}/admin/reset", params={"scope": "bus"}, headers=operator)

    assert refused.status_code == 403
    assert refused.json()["code"] == "BUS_ADMIN_REQUIRED"


async def test_the_bus_wide_admin_resets_every_instance_or_one(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    every = await client.post(f"{KG}/admin/reset", headers=bearer(demo_token))
    one = await client.post(
        f"{KG}/admin/reset", params={"scope": "instance"}, headers=bearer(demo_token)
    )

    assert sorted(every.json()["instances"]) == ["kiengiang", "ndxp", "tiengiang"]
    assert one.json()["instances"] == ["kiengiang"]
