"""The running bus delivers what its systems enqueued: through its own gateway, on one trail."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.audit.repository import AuditRepository
from lgsp.db import make_session_factory
from lgsp.outbox import DeferredCall, enqueue
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

SETTLE_SECONDS = 15.0


async def enqueue_at_kiengiang(
    engine: AsyncEngine, call: DeferredCall, *, client_id: str, request_id: str
) -> None:
    async with make_session_factory(engine).begin() as session:
        await enqueue(
            session,
            call,
            instance="kiengiang",
            client_id=client_id,
            request_id=request_id,
            now=datetime.now(UTC),
        )


def lookup_in_tiengiang(settings: Settings, key: str) -> DeferredCall:
    cccd = generate_citizens(province_code="82", seed=settings.seed, count=1)[0].so_dinh_danh
    return DeferredCall(
        service="dancu",
        version="v1",
        method="GET",
        path=f"/citizens/{cccd}",
        body=b"",
        content_type=None,
        idempotency_key=key,
        target_instance="tiengiang",
    )


async def outbox_message(
    client: httpx.AsyncClient, token: str, key: str, *, until: set[str]
) -> dict[str, Any]:
    """The message with this idempotency key, once its state is one of `until`."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        page = await client.get(f"{KG}/admin/outbox", headers=bearer(token))
        assert page.status_code == 200, page.text
        found = [m for m in page.json()["messages"] if m["idempotency_key"] == key]
        if found and found[0]["state"] in until:
            return found[0]
        assert time.monotonic() < deadline, f"message {key} did not reach {until}: {found}"
        await asyncio.sleep(0.05)


async def test_an_enqueued_call_is_delivered_through_ndxp_under_the_request_id_that_caused_it(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    engine: AsyncEngine,
    bus: BusState,
) -> None:
    await enqueue_at_kiengiang(
        engine, lookup_in_tiengiang(settings, "k-1"), client_id="demo", request_id="cause-1"
    )

    message = await outbox_message(client, demo_token, "k-1", until={"delivered"})

    assert (message["attempts"], message["last_status"]) == (0, 200)
    async with make_session_factory(engine)() as session:
        records = await AuditRepository(session).by_request_id("cause-1")
    assert {(r.instance, r.hop, r.caller, r.target) for r in records} == {
        ("kiengiang", "inbound", "demo", "kiengiang"),
        ("kiengiang", "forward", "kiengiang", "ndxp"),
        ("ndxp", "inbound", "lgsp-kiengiang", "ndxp"),
        ("ndxp", "forward", "ndxp", "tiengiang"),
        ("tiengiang", "inbound", "ndxp", "tiengiang"),
        ("tiengiang", "upstream", "tiengiang", "dancu"),
    }


async def test_a_refused_delivery_is_dead_at_once_and_an_admin_can_re_drive_it(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, engine: AsyncEngine
) -> None:
    # system-dvc may only POST to dancu: a GET is refused with 403, which retrying cannot mend.
    await enqueue_at_kiengiang(
        engine, lookup_in_tiengiang(settings, "k-2"), client_id="system-dvc", request_id="cause-2"
    )

    dead = await outbox_message(client, demo_token, "k-2", until={"dead"})
    redriven = await client.post(
        f"{KG}/admin/outbox/{dead['id']}/redrive", headers=bearer(demo_token)
    )
    again = await outbox_message(client, demo_token, "k-2", until={"dead"})

    assert dead["last_status"] == 403
    assert dead["last_error"].startswith("ACCESS_DENIED")
    assert redriven.status_code == 200
    assert redriven.json()["state"] == "pending"
    assert again["last_status"] == 403
    assert again["updated_at"] > dead["updated_at"]


async def test_metrics_show_the_outbox_depth_of_each_instance_by_state(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, engine: AsyncEngine
) -> None:
    await enqueue_at_kiengiang(
        engine, lookup_in_tiengiang(settings, "k-3"), client_id="demo", request_id="cause-3"
    )
    await outbox_message(client, demo_token, "k-3", until={"delivered"})

    lines = (await client.get("/metrics")).text.splitlines()

    assert 'lgsp_outbox_messages{instance="kiengiang",state="delivered"} 1' in lines
    assert 'lgsp_outbox_messages{instance="kiengiang",state="dead"} 0' in lines
    assert 'lgsp_outbox_messages{instance="tiengiang",state="pending"} 0' in lines
