"""Through the VDXP SDK door: a revocation is a knobstick of its own in the recipient's
`getReceivedEdocList` (its own docId, `businessType`, `refersTo` the document's docId,
`signature`), and `getEdoc` of that docId gives the revocation's bytes, not the document's."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.e2e.test_dialect_vdxpsdk import (
    DOOR,
    SEND,
    SdkSystem,
    call_sdk,
    fx_make_system,
    parties,
    query_headers,
    sdk_headers,
    settings,
)
from tests.e2e.test_sdk_documents import as_sent

pytestmark = pytest.mark.anyio
__all__ = ["fx_make_system", "parties", "settings"]  # fixtures, used by name


async def test_a_revocation_is_its_own_knobstick_and_is_fetched_by_its_doc_id(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    sender, recipient = parties
    sent = []
    for name in ("edoc_new.bak.edxml", "edoc_revocation.edxml"):
        data = as_sent(name, "17330")
        answer = await client.post(SEND, content=data, headers=sdk_headers(sender, data))
        assert answer.status_code == 202, answer.text
        sent.append((answer.json()["DocId"], data))
    (document, _), (revocation, revoking) = sent

    listed = await call_sdk(client, recipient, "getReceivedEdocList",
                            servicetype="eDoc", messagetype="edoc")  # fmt: skip
    fetched = await client.post(
        f"{DOOR}/getEdoc", headers=query_headers(recipient, filePath="xml", docId=revocation)
    )

    assert revocation != document
    sticks = {k["docId"]: k for k in listed.json()["data"] if k["docId"] in sent[0] + sent[1]}
    assert (sticks[revocation]["businessType"], sticks[revocation]["refersTo"]) == ("1", document)
    assert (sticks[document]["businessType"], "refersTo" in sticks[document]) == ("0", False)
    assert sticks[revocation]["signature"]["reason"] == "malformed"  # the SDK's own Signature
    assert fetched.status_code == 200, fetched.text
    assert base64.b64decode(fetched.json()["data"]) == revoking
