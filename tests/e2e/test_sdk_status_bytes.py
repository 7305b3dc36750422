"""The SDK's status messages keep their bytes on the way back across provinces (issue 17).

A recipient in Tiền Giang reports on a document from Kiên Giang with the SDK's own status
samples (tests/samples/sdk, origin in ORIGIN.md there), the first one signed; each message is
read back as XML where it was reported and where it arrived, and is the reporter's bytes in both.
"""

from __future__ import annotations

import hashlib
from functools import partial

import httpx
import pytest

from formats.xmldsig import sign_edxml
from tests.e2e.test_sdk_documents import DOCUMENTS, TG, XML, as_sent, send, status_as_sent
from tests.fixtures import signing
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.documents import RECIPIENT
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

AS_XML = {"Accept": "application/xml"}
STEPS = ["status_inbox_01.edxml", "status_acceptance_03.edxml", "status_assignment_04.edxml",
         "status_processing_05.edxml", "status_finish_06.edxml"]  # fmt: skip


def statuses(base: str, key: str, n: int) -> str:
    return f"{base}/qlvb/v1/documents/{key}/recipients/{RECIPIENT}/statuses/{n}"


async def test_each_status_message_reads_back_as_its_reporters_bytes_in_both_provinces(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    tg_token = await fetch_token(client, TG)
    sent = await send(
        client, demo_token, as_sent("edoc_update.edxml", "17101", recipient=RECIPIENT)
    )
    assert sent.status_code == 202, sent.text
    key, document_id = sent.json()["id"], sent.json()["document_id"]
    await eventually(
        lambda: client.get(f"{TG}/qlvb/v1/documents/{key}", headers=bearer(tg_token)),
        lambda r: r.status_code == 200,
    )

    for n, name in enumerate(STEPS, start=1):
        body = status_as_sent(name, document_id, reporter=RECIPIENT)
        if n == 1:  # a signed status: the Signature must survive the trip too
            body = sign_edxml(body, key=signing.signer().key, chain=[signing.signer().certificate])
        reported = await client.post(
            f"{TG}/qlvb/v1/documents/{key}/status",
            content=body,
            headers={**bearer(tg_token), **XML},
        )
        assert reported.status_code == 200, (name, reported.text)

        there = await client.get(statuses(TG, key, n), headers={**bearer(tg_token), **AS_XML})
        home = statuses(KG, key, n)
        back_home = await eventually(
            partial(client.get, home, headers={**bearer(demo_token), **AS_XML}),
            lambda r: r.status_code == 200,
        )
        described = await client.get(statuses(KG, key, n), headers=bearer(demo_token))

        assert there.status_code == 200, there.text
        assert there.headers["content-type"].startswith("application/xml")
        assert there.content == body
        assert hashlib.sha256(back_home.content).hexdigest() == hashlib.sha256(body).hexdigest()
        assert described.json()["content_sha256"] == hashlib.sha256(body).hexdigest()
        assert (described.json()["position"], described.json()["reported_by"]) == (n, RECIPIENT)
    first = await client.get(statuses(KG, key, 1), headers={**bearer(demo_token), **AS_XML})
    assert b"<ds:Signature" in first.content or b"<Signature" in first.content


@pytest.mark.parametrize(
    ("organ_id", "n"), [(RECIPIENT, "9"), (RECIPIENT, "0"), ("not-an-organ", "1")]
)
async def test_a_status_message_at_no_place_is_404(
    client: httpx.AsyncClient, demo_token: str, organ_id: str, n: str
) -> None:
    sent = await send(
        client, demo_token, as_sent("edoc_update.edxml", "17102", recipient=RECIPIENT)
    )
    key = sent.json()["id"]

    answer = await client.get(
        f"{DOCUMENTS}/{key}/recipients/{organ_id}/statuses/{n}", headers=bearer(demo_token)
    )

    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "STATUS_NOT_FOUND"
