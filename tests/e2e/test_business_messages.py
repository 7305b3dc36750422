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
    entries = [i for i in listed.json()["items"] if i["id"] == first.json()["id"]]
    assert len(entries) == 4  # the document, its revocation, its update, its replacement


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
