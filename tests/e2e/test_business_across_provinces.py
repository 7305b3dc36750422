"""Across provinces, in today's era: a revocation of a document (the VDXP SDK's sample, under
the document's DocumentId) crosses the national axis as a message of its own, linked to the
document, and reaches the recipient's inbox beside it; nothing ends as a dead letter."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_eras import settings
from tests.e2e.test_sdk_documents import XML, as_sent
from tests.fixtures.bus import bearer, fetch_token
from tests.fixtures.documents import RECIPIENT
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio
__all__ = ["settings"]  # the fixture: the bus in today's era, An Giang and Đồng Tháp

AG, DT = "/lgsp/angiang", "/lgsp/dongthap"


async def test_a_revocation_reaches_the_other_province_linked_to_its_document(
    client: httpx.AsyncClient,
) -> None:
    ag, dt = bearer(await fetch_token(client, AG)), bearer(await fetch_token(client, DT))
    documents = f"{AG}/qlvb/v1/documents"

    async def send(name: str) -> httpx.Response:
        data = as_sent(name, "17201", recipient=RECIPIENT)
        return await client.post(documents, content=data, headers={**ag, **XML})

    first = await send("edoc_new.bak.edxml")
    assert first.status_code == 202, first.text
    revocation = await send("edoc_revocation.edxml")
    assert revocation.status_code == 202, revocation.text
    again = await send("edoc_revocation.edxml")
    assert again.json()["duplicate"] is True

    key = first.json()["id"]

    def both_listed(response: httpx.Response) -> bool:
        return len([i for i in response.json()["items"] if key in (i["id"], i["refers_to"])]) > 1

    inbox = await eventually(
        lambda: client.get(
            f"{DT}/qlvb/v1/documents/inbox", params={"organ_id": RECIPIENT, "size": 100},
            headers=dt,
        ),
        both_listed,
    )  # fmt: skip
    entries = [i for i in inbox.json()["items"] if key in (i["id"], i["refers_to"])]
    assert [(i["id"], i["business_type"], i["refers_to"]) for i in entries] == [
        (revocation.json()["id"], 1, key),  # once, however often it was sent
        (key, 0, None),
    ]
    outbox = await client.get(f"{AG}/admin/outbox", headers=ag)
    assert outbox.status_code == 200, outbox.text
    assert [m for m in outbox.json()["messages"] if m["state"] == "dead"] == []


async def test_a_replacement_under_a_number_of_its_own_reaches_the_other_province_linked(
    client: httpx.AsyncClient,
) -> None:
    """Its ReplacementInfo names the document it replaces (code review: it arrived as an
    unrelated document, and could overtake the document it replaces on the axis)."""
    ag, dt = bearer(await fetch_token(client, AG)), bearer(await fetch_token(client, DT))
    documents = f"{AG}/qlvb/v1/documents"
    first = await client.post(
        documents, content=as_sent("edoc_new.bak.edxml", "17203", recipient=RECIPIENT),
        headers={**ag, **XML},
    )  # fmt: skip
    assert first.status_code == 202, first.text
    named = as_sent("edoc_replacement.edxml", "17204", recipient=RECIPIENT).replace(
        "000.00.00.G22,2014/01/30,7806/VPCP-TTĐT".encode(),
        first.json()["document_id"].encode(),
    )

    replacement = await client.post(documents, content=named, headers={**ag, **XML})

    assert replacement.status_code == 202, replacement.text
    key = first.json()["id"]
    assert (replacement.json()["business_type"], replacement.json()["refers_to"]) == (3, key)
    inbox = await eventually(
        lambda: client.get(
            f"{DT}/qlvb/v1/documents/inbox", params={"organ_id": RECIPIENT, "size": 100},
            headers=dt,
        ),
        lambda r: any(i["refers_to"] == key for i in r.json()["items"]),
    )  # fmt: skip
    (entry,) = [i for i in inbox.json()["items"] if i["refers_to"] == key]
    assert (entry["id"], entry["business_type"]) == (replacement.json()["id"], 3)
    assert entry["document_id"].endswith(",17204/VPCP-TTĐT")  # under its own number
