"""Idempotency keys are the caller's (issue 15, SECURITY-PROBE F3): a key taken first by one
client, or by another province, no longer turns a genuine message into a reused key."""

from __future__ import annotations

import httpx
import pytest

from formats.edxml import render_edxml
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.bus import KG, bearer, bus_client_token, fetch_token, registered_client
from tests.fixtures.documents import RECIPIENT, SENDER, cross_province_document
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
KEY = "edoc:kiengiang:0f7a3c9e-5b1d-5d0e-9c1a-3a2b1c0d9e8f"


async def test_a_key_handed_over_first_by_another_client_does_not_refuse_the_owners_call(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    # Bound to the sender it sends as: send_document is organisation-bound (finding 1).
    tenant = await registered_client(bus, {"qlvb": "POST"}, name="squatter", organisation=SENDER)
    squatter = await fetch_token(client, client_id=tenant.client_id, secret=tenant.client_secret)
    async_call = {"Prefer": "respond-async", "Idempotency-Key": KEY}

    first = await client.post(
        f"{KG}/qlvb/v1/documents",
        json=cross_province_document("1", subject="bogus"),
        headers={**bearer(squatter), **async_call},
    )
    genuine = await client.post(
        f"{KG}/qlvb/v1/documents",
        json=cross_province_document("2"),
        headers={**bearer(demo_token), **async_call},
    )

    assert first.status_code == 202, first.text
    assert genuine.status_code == 202, genuine.text
    assert genuine.json()["duplicate"] is False


async def test_a_key_sent_first_from_another_province_does_not_refuse_a_genuine_document(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The axis keeps the first body under a key: Tiền Giang's key is not Kiên Giang's."""
    theirs = cross_province_document("846635", notation="PRE", subject="bogus")
    theirs = {**theirs, "from": theirs["to"][0], "to": [theirs["from"]]}
    ours = cross_province_document("846635", notation="PRE")
    assert (ours["from"]["organ_id"], ours["to"][0]["organ_id"]) == (SENDER, RECIPIENT)
    xml = {"Content-Type": "application/xml", "Idempotency-Key": KEY}

    squatted = await client.post(
        f"{TG}/vdxp/v1/documents",
        content=render_edxml(theirs),
        headers={**bearer(await bus_client_token(client, settings, "system-qlvb", TG)), **xml},
    )
    genuine = await client.post(
        f"{KG}/vdxp/v1/documents",
        content=render_edxml(ours),
        headers={**bearer(await bus_client_token(client, settings, "system-qlvb")), **xml},
    )

    assert squatted.status_code == 202, squatted.text
    assert genuine.status_code == 202, genuine.text
    assert genuine.json()["duplicate"] is False


async def test_another_clients_stuck_message_does_not_hold_up_a_line_of_the_same_name(
    client: httpx.AsyncClient, bus: BusState, demo_token: str
) -> None:
    """Ordering keys are the caller's too: a tenant's message that keeps failing under the
    portal's line name (`dossier:{code}`) no longer holds the portal's messages back."""
    failing = await client.post(
        f"{KG}/admin/faults", json={"status": 503, "service": "dancu"}, headers=bearer(demo_token)
    )
    assert failing.status_code == 201, failing.text
    tenant = await registered_client(bus, {"dancu": "POST"}, name="line squatter")
    squatter = await fetch_token(client, client_id=tenant.client_id, secret=tenant.client_secret)
    line = {"Prefer": "respond-async", "X-LGSP-Ordering-Key": "dossier:000.00.01.H33-250602-0001"}

    stuck = await client.post(
        f"{KG}/dancu/v1/citizens/verify",
        json={"cccd": "091048993438", "full_name": "X", "date_of_birth": "1990-01-01"},
        headers={**bearer(squatter), **line, "Idempotency-Key": "stuck"},
    )
    local = cross_province_document("3")
    local["to"] = [{"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính tỉnh Kiên Giang"}]
    genuine = await client.post(
        f"{KG}/qlvb/v1/documents",
        json=local,
        headers={**bearer(demo_token), **line, "Idempotency-Key": "genuine"},
    )

    assert stuck.status_code == genuine.status_code == 202, (stuck.text, genuine.text)
    delivered = await eventually(
        lambda: client.get(
            f"{KG}/admin/outbox/{genuine.json()['message_id']}", headers=bearer(demo_token)
        ),
        lambda r: r.json()["state"] == "delivered",
    )
    assert delivered.json()["ordering_key"] == line["X-LGSP-Ordering-Key"]
