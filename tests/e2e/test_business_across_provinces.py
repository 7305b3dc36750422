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
