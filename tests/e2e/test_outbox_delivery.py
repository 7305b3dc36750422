"""The running bus delivers what was handed over to it: through its own gateway, on one trail.

A caller hands a call over with `Prefer: respond-async` (lgsp/outbox/handoff.py), as the mock
systems do (mocks/bus.py): 202 once stored, then the worker makes the call as that caller.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from lgsp.audit.repository import AuditRepository
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.apps import serving
from tests.fixtures.bus import (
    KG,
    TEST_PUBLIC_URL,
    BusPool,
    asgi_client,
    bearer,
    fetch_token,
    registered_client,
)
from tests.fixtures.outbox import hand_over_lookup, tiengiang_citizen

pytestmark = pytest.mark.anyio

SETTLE_SECONDS = 15.0


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


async def test_a_handed_over_call_is_delivered_through_ndxp_under_the_request_id_that_caused_it(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    cccd = tiengiang_citizen(settings)
    taken = await hand_over_lookup(client, demo_token, cccd, key="k-1", request_id="cause-1")

    message = await outbox_message(client, demo_token, "k-1", until={"delivered"})

    assert (taken["message_id"], taken["duplicate"]) == (message["id"], False)
    assert (message["client_id"], message["attempts"], message["last_status"]) == ("demo", 1, 200)
    # The admin API shows the path masked, as the console and the audit log do.
    assert message["path"] == f"/citizens/{cccd[:3]}{'*' * 7}{cccd[-2:]}"
    async with make_session_factory(bus.engine)() as session:
        records = await AuditRepository(session).by_request_id("cause-1")
    assert [(r.hop, r.status) for r in records if r.instance == "kiengiang"][0] == ("inbound", 202)
    assert {(r.instance, r.hop, r.caller, r.target) for r in records} == {
        ("kiengiang", "pending", "demo", "kiengiang"),  # written before the message is stored
        ("kiengiang", "inbound", "demo", "kiengiang"),
        ("kiengiang", "forward", "kiengiang", "ndxp"),
        ("ndxp", "inbound", "lgsp-kiengiang", "ndxp"),
        ("ndxp", "forward", "ndxp", "tiengiang"),
        ("tiengiang", "inbound", "ndxp", "tiengiang"),
        ("tiengiang", "upstream", "tiengiang", "dancu"),
    }


async def test_a_refused_delivery_is_dead_at_once_and_an_admin_can_re_drive_it(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    # A well-formed number Tiền Giang does not hold: 404, which retrying cannot mend.
    unknown = tiengiang_citizen(settings)[:6] + "999999"
    await hand_over_lookup(client, demo_token, unknown, key="k-2", request_id="cause-2")

    dead = await outbox_message(client, demo_token, "k-2", until={"dead"})
    redriven = await client.post(
        f"{KG}/admin/outbox/{dead['id']}/redrive", headers=bearer(demo_token)
    )
    again = await outbox_message(client, demo_token, "k-2", until={"dead"})

    assert dead["last_status"] == 404
    assert dead["last_error"].startswith("CITIZEN_NOT_FOUND")
    assert redriven.status_code == 200
    assert redriven.json()["state"] == "pending"
    assert again["last_status"] == 404
    assert again["updated_at"] > dead["updated_at"]


async def test_metrics_show_the_outbox_depth_of_each_instance_by_state(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = tiengiang_citizen(settings)
    await hand_over_lookup(client, demo_token, cccd, key="k-3", request_id="cause-3")
    await outbox_message(client, demo_token, "k-3", until={"delivered"})

    lines = (await client.get("/metrics")).text.splitlines()

    assert 'lgsp_outbox_messages{instance="kiengiang",state="delivered"} 1' in lines
    assert 'lgsp_outbox_messages{instance="kiengiang",state="dead"} 0' in lines
    assert 'lgsp_outbox_messages{instance="tiengiang",state="pending"} 0' in lines


async def test_a_hand_over_repeated_with_its_key_is_the_same_message(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    cccd = tiengiang_citizen(settings)
    first = await hand_over_lookup(client, demo_token, cccd, key="k-4", request_id="cause-4")
    again = await hand_over_lookup(client, demo_token, cccd, key="k-4", request_id="cause-4b")
    other = await client.get(
        f"{KG}/dancu/v1/citizens/{cccd[:6]}000001",
        headers={**bearer(demo_token), "Prefer": "respond-async", "Idempotency-Key": "k-4"},
    )

    assert (again["message_id"], again["duplicate"]) == (first["message_id"], True)
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    page = (await client.get(f"{KG}/admin/outbox", headers=bearer(demo_token))).json()
    assert [m["idempotency_key"] for m in page["messages"]] == ["k-4"]


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        pytest.param("/dancu/v1/citizens/{cccd}", {}, 422, "INVALID_REQUEST", id="no-key"),
        pytest.param(
            "/dancu/v1/citizens/{cccd}",
            {"Idempotency-Key": "has space"},
            422,
            "INVALID_REQUEST",
            id="bad-key",
        ),
        pytest.param(
            "/dancu/v1/citizens/{cccd}",
            {"Idempotency-Key": "k", "X-LGSP-Target": "atlantis"},
            404,
            "TARGET_NOT_FOUND",
            id="unknown-target",
        ),
        pytest.param(
            "/dancu/v1/nothing/here", {"Idempotency-Key": "k"}, 404, "OPERATION_NOT_FOUND", id="op"
        ),
        pytest.param(
            "/dvc/v1/dossiers/x/transitions",
            {"Idempotency-Key": "k"},
            405,
            "METHOD_NOT_ALLOWED",
            id="method",
        ),
    ],
)
async def test_a_hand_over_the_gateway_refuses_stores_nothing(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    path: str,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = await client.get(
        KG + path.format(cccd=tiengiang_citizen(settings)),
        headers={**bearer(demo_token), "Prefer": "respond-async", **headers},
    )

    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    page = (await client.get(f"{KG}/admin/outbox", headers=bearer(demo_token))).json()
    assert page["messages"] == []


async def test_a_hand_over_is_checked_against_the_callers_rights_first(
    client: httpx.AsyncClient, bus: BusState, demo_token: str, settings: Settings
) -> None:
    reader = await registered_client(bus, {"qlvb": "GET"}, name="No citizen lookups")
    token = await fetch_token(client, client_id=reader.client_id, secret=reader.client_secret)

    response = await client.get(
        f"{KG}/dancu/v1/citizens/{tiengiang_citizen(settings)}",
        headers={**bearer(token), "Prefer": "respond-async", "Idempotency-Key": "k-5"},
    )

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    page = (await client.get(f"{KG}/admin/outbox", headers=bearer(demo_token))).json()
    assert page["messages"] == []


async def test_a_hand_over_this_process_cannot_route_yet_is_stored_and_retried(
    fresh_settings: Settings,
) -> None:
    """Kiên Giang alone, no NDXP here nor at a url: a national call is still taken (202),
    and its delivery fails with the reason, to be retried, rather than the hand-over."""
    from lgsp.composition import create_bus

    application = create_bus(fresh_settings, instances=["kiengiang"])
    async with serving(application, TEST_PUBLIC_URL, raise_app_exceptions=False) as client:
        token = await fetch_token(client)
        cccd = tiengiang_citizen(fresh_settings)
        taken = await client.get(
            f"{KG}/csdlqgdc/v1/citizens/{cccd}",
            headers={**bearer(token), "Prefer": "respond-async", "Idempotency-Key": "k-6"},
        )
        now = await client.get(f"{KG}/csdlqgdc/v1/citizens/{cccd}", headers=bearer(token))
        deadline = time.monotonic() + SETTLE_SECONDS
        tried = await outbox_message(client, token, "k-6", until={"pending", "dead"})
        while tried["attempts"] == 0:  # the worker, woken by the hand-over, tries at once
            assert time.monotonic() < deadline, tried
            await asyncio.sleep(0.05)
            tried = await outbox_message(client, token, "k-6", until={"pending", "dead"})

    assert taken.status_code == 202, taken.text
    assert (now.status_code, now.json()["code"]) == (502, "UPSTREAM_UNAVAILABLE")
    assert tried["last_status"] == 502
    assert tried["last_error"].startswith("UPSTREAM_UNAVAILABLE")


async def test_a_hand_over_is_delivered_once_committed_without_waiting_for_the_poll(
    settings: Settings, bus_pool: BusPool
) -> None:
    # The module's bus with a worker that polls once a minute (the longest allowed).
    app, bus = await bus_pool.get(settings, outbox_poll_seconds=60.0)
    assert bus.outbox_worker is not None
    async with asgi_client(app) as client:
        token = await fetch_token(client)
        cccd = tiengiang_citizen(settings)
        await hand_over_lookup(client, token, cccd, key="k-wake", request_id="wake-1")
        message = await outbox_message(client, token, "k-wake", until={"delivered"})

    assert (message["attempts"], message["last_status"]) == (1, 200)  # the delivering attempt
    # Delivered by a round the hand-over's commit started, not by the fallback poll.
    assert bus.outbox_worker.fallback_polls == 0
