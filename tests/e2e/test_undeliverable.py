"""A delivery the bus gave up on is visible to its sender (issue 17): the sender's trace says
`undeliverable`, with the reason, rather than `status: null` as if still in transit; an admin's
re-drive of the dead letter puts it back on its way, and the trace follows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_sdk_documents import DOCUMENTS, TG, as_sent, send
from tests.fixtures.bus import KG, bearer, fetch_token, registered_client
from tests.fixtures.documents import RECIPIENT
from tests.fixtures.outbox import hand_over_lookup, tiengiang_citizen
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio


def delivery_to(document: dict[str, Any], organ_id: str) -> dict[str, Any]:
    (recipient,) = [r for r in document["recipients"] if r["organ_id"] == organ_id]
    return {"status": recipient["status"], **recipient["delivery"]}


async def refuse_once(
    client: httpx.AsyncClient, base: str, headers: dict[str, str], service: str, path: str
) -> None:
    """The next POST to `service`'s `path` behind `base` is refused with a 422 (a fault rule)."""
    refusal = {"service": service, "method": "POST", "path": path, "status": 422, "times": 1}
    fault = await client.post(f"{base}/admin/faults", json=refusal, headers=headers)
    assert fault.status_code == 201, fault.text


async def dead_letter(
    client: httpx.AsyncClient, base: str, headers: dict[str, str], path: str
) -> dict[str, Any]:
    """Waits until the outbox at `base` gives up a message to `path`; answers that message."""
    dead = await eventually(
        lambda: client.get(f"{base}/admin/outbox", params={"state": "dead"}, headers=headers),
        lambda r: any(m["path"] == path for m in r.json()["messages"]),
    )
    return next(m for m in dead.json()["messages"] if m["path"] == path)


async def test_a_dead_letter_shows_in_the_senders_trace_and_a_redrive_restores_it(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    admin = bearer(demo_token)
    await refuse_once(client, KG, admin, "vdxp", "/documents")
    sent = await send(
        client, demo_token, as_sent("edoc_update.edxml", "17401", recipient=RECIPIENT)
    )
    key = sent.json()["id"]

    message = await dead_letter(client, KG, admin, "/documents")
    given_up = await client.get(f"{DOCUMENTS}/{key}", headers=admin)
    redriven = await client.post(f"{KG}/admin/outbox/{message['id']}/redrive", headers=admin)
    tg_token = await fetch_token(client, TG)
    await eventually(
        lambda: client.get(f"{TG}/qlvb/v1/documents/{key}", headers=bearer(tg_token)),
        lambda r: r.status_code == 200,
    )
    on_its_way = await client.get(f"{DOCUMENTS}/{key}", headers=admin)

    undeliverable = delivery_to(given_up.json(), RECIPIENT)
    assert (undeliverable["status"], undeliverable["state"]) == (None, "undeliverable")
    assert "HTTP 422" in undeliverable["reason"]
    assert redriven.status_code == 200, redriven.text
    assert delivery_to(on_its_way.json(), RECIPIENT) == {
        "status": None, "state": "in_transit", "reason": None
    }  # fmt: skip


async def test_a_document_still_in_transit_says_so_and_a_local_one_is_delivered(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    sent = await send(client, demo_token, as_sent("edoc_update.edxml", "17402"))

    fetched = await client.get(f"{DOCUMENTS}/{sent.json()['id']}", headers=bearer(demo_token))

    (recipient,) = fetched.json()["recipients"]
    assert recipient["delivery"] == {"state": "delivered", "reason": None}


async def test_a_system_reads_the_state_of_its_own_handovers_only(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, bus: BusState
) -> None:
    cccd = tiengiang_citizen(settings)
    await hand_over_lookup(client, demo_token, cccd, key="k-own-1", request_id="own-1")
    other = await registered_client(bus, {"dancu": "*"}, name="someone else")
    other_token = await fetch_token(client, client_id=other.client_id, secret=other.client_secret)

    own = await eventually(
        lambda: client.get(
            f"{KG}/handovers", params={"key": "k-own-1"}, headers=bearer(demo_token)
        ),
        lambda r: r.json().get("state") == "delivered",
    )
    theirs = await client.get(
        f"{KG}/handovers", params={"key": "k-own-1"}, headers=bearer(other_token)
    )
    garbled = await client.get(
        f"{KG}/handovers", params={"key": "k own"}, headers=bearer(demo_token)
    )
    anonymous = await client.get(f"{KG}/handovers", params={"key": "k-own-1"})

    assert own.json()["idempotency_key"] == "k-own-1"
    assert (theirs.status_code, theirs.json()["code"]) == (404, "NOT_FOUND")
    assert garbled.status_code == 422
    assert anonymous.status_code == 401


async def test_a_document_the_axis_could_not_forward_shows_in_the_senders_trace(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    ndxp = bearer(await fetch_token(client, "/ndxp"))
    tien_giang = bearer(await fetch_token(client, TG))
    await refuse_once(client, TG, tien_giang, "qlvb", "/inbound/documents")
    sent = await send(
        client, demo_token, as_sent("edoc_update.edxml", "17403", recipient=RECIPIENT)
    )
    key = sent.json()["id"]

    message = await dead_letter(client, "/ndxp", ndxp, "/inbound/documents")
    given_up = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))
    redriven = await client.post(f"/ndxp/admin/outbox/{message['id']}/redrive", headers=ndxp)
    await eventually(
        lambda: client.get(f"{TG}/qlvb/v1/documents/{key}", headers=tien_giang),
        lambda r: r.status_code == 200,
    )
    on_its_way = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))

    undeliverable = delivery_to(given_up.json(), RECIPIENT)
    assert (undeliverable["status"], undeliverable["state"]) == (None, "undeliverable")
    assert "tiengiang" in undeliverable["reason"]
    assert "HTTP 422" in undeliverable["reason"]
    assert redriven.status_code == 200, redriven.text
    assert delivery_to(on_its_way.json(), RECIPIENT)["state"] == "in_transit"


async def test_a_revocation_the_axis_could_not_forward_shows_in_the_senders_view_until_redriven(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """A business message's forwarding is visible as its document's is (code review: the
    axis's dead hand-overs of revocations, updates and replacements were never looked at)."""
    ndxp = bearer(await fetch_token(client, "/ndxp"))
    tien_giang = bearer(await fetch_token(client, TG))
    sent = await send(
        client, demo_token, as_sent("edoc_new.bak.edxml", "17404", recipient=RECIPIENT)
    )
    await eventually(
        lambda: client.get(f"{TG}/qlvb/v1/documents/{sent.json()['id']}", headers=tien_giang),
        lambda r: r.status_code == 200,
    )
    await refuse_once(client, TG, tien_giang, "qlvb", "/inbound/documents")
    revocation = await send(
        client, demo_token, as_sent("edoc_revocation.edxml", "17404", recipient=RECIPIENT)
    )
    key = revocation.json()["id"]

    dead = await eventually(
        lambda: client.get("/ndxp/admin/outbox", params={"state": "dead"}, headers=ndxp),
        lambda r: any(m["idempotency_key"].startswith("business:") for m in r.json()["messages"]),
    )
    given_up = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))
    (message,) = [
        m for m in dead.json()["messages"] if m["idempotency_key"].startswith("business:")
    ]
    redriven = await client.post(f"/ndxp/admin/outbox/{message['id']}/redrive", headers=ndxp)
    delivered = await eventually(
        lambda: client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token)),
        lambda r: delivery_to(r.json(), RECIPIENT)["state"] == "delivered",
    )

    undeliverable = delivery_to(given_up.json(), RECIPIENT)
    assert (undeliverable["status"], undeliverable["state"]) == (None, "undeliverable")
    assert "tiengiang" in undeliverable["reason"]
    assert "HTTP 422" in undeliverable["reason"]
    assert redriven.status_code == 200, redriven.text
    assert (
        await client.get(f"{TG}/qlvb/v1/documents/{key}", headers=tien_giang)
    ).status_code == 200
    assert delivery_to(delivered.json(), RECIPIENT) == {
        "status": None, "state": "delivered", "reason": None
    }  # fmt: skip
