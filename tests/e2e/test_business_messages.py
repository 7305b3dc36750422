"""Through the bus: the VDXP SDK's revocation, update and replacement of a document, under its
DocumentId (tests/samples/sdk/ORIGIN.md), reach the recipient's inbox, and another document
under the same number is a 409 DOCUMENT_CONFLICT rather than a silent duplicate."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.test_sdk_documents import DOCUMENTS, STC, as_sent, send
from tests.fixtures.bus import bearer

pytestmark = pytest.mark.anyio


async def test_each_business_message_reaches_the_inbox_and_a_resend_does_not(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    first = await send(client, demo_token, as_sent("edoc_new.bak.edxml", "17101"))
    assert first.status_code == 202, first.text

    answers = [
        await send(client, demo_token, as_sent(name, "17101"))
        for name in ("edoc_revocation.edxml", "edoc_update.edxml", "edoc_replacement.edxml")
    ]
    again = await send(client, demo_token, as_sent("edoc_update.edxml", "17101"))

    assert [(a.status_code, a.json()["duplicate"]) for a in answers] == [(202, False)] * 3
    assert {a.json()["document_id"] for a in answers} == {first.json()["document_id"]}
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    listed = await client.get(
        f"{DOCUMENTS}/inbox", params={"organ_id": STC, "size": 100}, headers=bearer(demo_token)
    )
    key = first.json()["id"]
    entries = [i for i in listed.json()["items"] if key in (i["id"], i["refers_to"])]
    # the document, its revocation, its update, its replacement: newest first, each its own id
    assert [(i["business_type"], i["refers_to"]) for i in entries] == [
        (3, key), (2, key), (1, key), (0, None)
    ]  # fmt: skip
    assert [i["id"] for i in entries] == [a.json()["id"] for a in reversed(answers)] + [key]
    assert {a.json()["refers_to"] for a in answers} == {key}
    assert all(i["signature"]["reason"] == "malformed" for i in entries)  # the SDK's own


async def test_a_revocation_is_read_on_its_own_by_its_id(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    first = await send(client, demo_token, as_sent("edoc_new.bak.edxml", "17103"))
    data = as_sent("edoc_revocation.edxml", "17103")
    revocation = await send(client, demo_token, data)
    key = revocation.json()["id"]
    assert key != first.json()["id"]

    as_json = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))
    as_xml = await client.get(
        f"{DOCUMENTS}/{key}", headers={**bearer(demo_token), "Accept": "application/xml"}
    )
    original = await client.get(f"{DOCUMENTS}/{first.json()['id']}", headers=bearer(demo_token))

    assert as_json.status_code == 200, as_json.text
    view = as_json.json()
    assert (view["id"], view["business_type"], view["refers_to"]) == (key, 1, first.json()["id"])
    assert view["document"]["business"]["business_doc_type"] == 1
    assert view["recipients"] == [  # statuses are reported on the document
        {"organ_id": STC, "status": None, "delivery": {"state": "delivered", "reason": None},
         "history": []}
    ]  # fmt: skip
    assert as_xml.content == data
    assert original.json()["id"] == first.json()["id"]
    assert original.json()["business_type"] == 0


async def test_another_document_under_the_same_number_is_a_conflict(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    data = as_sent("edoc_new.bak.edxml", "17102")
    assert (await send(client, demo_token, data)).status_code == 202
    other = data.replace(b"<edXML:Subject>", "<edXML:Subject>Khác: ".encode(), 1)
    assert other != data

    refused = await send(client, demo_token, other)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "DOCUMENT_CONFLICT"
