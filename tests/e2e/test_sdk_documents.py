"""The VDXP SDK's own edXML samples through the bus, as a vendor tries it (issue 17).

The samples (tests/samples/sdk, origin in ORIGIN.md there) name agencies no province of the
bus has, so each is sent with its From, To and ResponseFor/OrganId set to seeded agencies and
its CodeNumber (and the number in its DocumentId, which names the sender instead of VPCP, whose
DocumentIds are VPCP's own) made unique: everything else, the DocumentId's date that does not
match the header included, is the SDK's.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from mocks.directory.agencies import AGENCIES
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.documents import RECIPIENT
from tests.fixtures.waiting import until_in_inbox

pytestmark = pytest.mark.anyio

SAMPLES = Path(__file__).parents[1] / "samples" / "sdk"
DOCUMENTS = f"{KG}/qlvb/v1/documents"
TG = "/lgsp/tiengiang"
STP, STC = AGENCIES["91"][1].organ_id, AGENCIES["91"][3].organ_id  # Kiên Giang's agencies
XML = {"Content-Type": "application/xml"}
SDK_DOCUMENTS = ["edoc_new.bak.edxml", "edoc_replacement.edxml", "edoc_revocation.edxml",
                 "edoc_update.edxml"]  # fmt: skip


SDK_DOCUMENT_ID = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
"""The samples' own DocumentId: VPCP's. A province's agency may not take it (the axis, and the
bus for its own clients, refuse a DocumentId naming a central body from a province), so it is
sent under its sender's organ id, still not matching the header (its date and number)."""


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def as_sent(name: str, number: str, *, recipient: str = STC) -> bytes:
    """The SDK document from Kiên Giang's Sở Tư pháp to `recipient`, numbered `number`."""
    text = sample(name)
    text = re.sub(r"(<edXML:From>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{STP}", text)
    text = re.sub(r"(<edXML:To>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{recipient}", text)
    text = re.sub(r"(<edXML:CodeNumber>)[^<]*", rf"\g<1>{number}", text)
    return text.replace(SDK_DOCUMENT_ID, f"{STP},2015/09/30,{number}/VPCP-TTĐT", 1).encode()


def status_as_sent(name: str, document_id: str, *, reporter: str) -> bytes:
    """The SDK status message about `document_id` (sent by STP), reported by `reporter`."""
    text = sample(name)
    text = re.sub(r"(<edXML:From>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{reporter}", text)
    text = re.sub(r"(<edXML:ResponseFor>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{STP}", text)
    text = re.sub(r"(<edXML:ResponseFor>.*?<edXML:DocumentId>)[^<]*", rf"\g<1>{document_id}",
                  text, flags=re.DOTALL)  # fmt: skip
    return text.encode("utf-8")


async def send(
    client: httpx.AsyncClient, token: str, data: bytes, **headers: str
) -> httpx.Response:
    return await client.post(DOCUMENTS, content=data, headers={**bearer(token), **XML, **headers})


@pytest.mark.parametrize(
    ("name", "number"), list(zip(SDK_DOCUMENTS, ("17001", "17002", "17003", "17004"), strict=True))
)
async def test_every_well_formed_sdk_document_is_taken_with_its_warnings_recorded(
    client: httpx.AsyncClient, demo_token: str, name: str, number: str
) -> None:
    data = as_sent(name, number)

    sent = await send(client, demo_token, data, **{"X-Request-ID": f"sdk-{number}"})

    assert sent.status_code == 202, sent.text
    assert "Preference-Applied" not in sent.headers
    assert sent.json()["document_id"] == f"{STP},2015/09/30,{number}/VPCP-TTĐT"
    assert [w["rule"] for w in sent.json()["warnings"]] == ["document_id_mismatch"]
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": f"sdk-{number}"}, headers=bearer(demo_token)
    )
    inbound = next(r for r in audit.json()["records"] if r["hop"] == "inbound")
    assert inbound["notes"] == {
        "warnings": ["document_id_mismatch"],
        # The SDK's Signature is in the edXML namespace: present, but no XML-DSig.
        "signature": {
            "present": True, "valid": False, "weak": False, "serial": None, "reason": "malformed"
        },
    }  # fmt: skip
    journal = await client.get(
        f"{KG}/admin/journal", params={"request_id": f"sdk-{number}"}, headers=bearer(demo_token)
    )
    (entry,) = journal.json()["entries"]
    assert "document_id_mismatch" in str(entry["response"])


async def test_strict_handling_refuses_what_is_merely_nonconforming_with_the_same_code(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    data = as_sent("edoc_update.edxml", "17010")

    refused = await send(client, demo_token, data, Prefer="handling=strict")
    taken = await send(client, demo_token, data, Prefer='respond-sync, handling="lenient"')

    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "INVALID_EDXML"
    assert refused.json()["rule"] == "document_id_mismatch"
    assert refused.headers["Preference-Applied"] == "handling=strict"
    assert taken.status_code == 202, taken.text


async def test_hostile_xml_stays_refused_whatever_the_handling(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    hostile = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><edXML/>'

    for prefer in ("handling=lenient", "handling=strict"):
        answer = await send(client, demo_token, hostile, Prefer=prefer)
        assert (answer.status_code, answer.json()["rule"]) == (422, "dtd_forbidden")


@pytest.mark.parametrize(
    ("number", "steps"),
    [
        ("17021", [("status_inbox_01.edxml", STC), ("status_acceptance_03.edxml", STC),
                   ("status_assignment_04.edxml", STC), ("status_processing_05.edxml", STC),
                   ("status_finish_06.edxml", STC)]),
        ("17022", [("status.edxml", STC), ("status_rejection_02.edxml", STC)]),
        ("17023", [("status_inbox_01.edxml", STC), ("status_cancellation_13.edxml", STP),
                   ("status_change-rejection_16.edxml", STC)]),
        ("17024", [("status_inbox_01.edxml", STC), ("status_cancellation_13.edxml", STP),
                   ("status_change-acceptance_15.edxml", STC)]),
    ],
)  # fmt: skip
async def test_every_sdk_status_message_is_taken(
    client: httpx.AsyncClient, demo_token: str, number: str, steps: list[tuple[str, str]]
) -> None:
    sent = await send(client, demo_token, as_sent("edoc_update.edxml", number))
    assert sent.status_code == 202, sent.text
    key, document_id = sent.json()["id"], sent.json()["document_id"]

    for name, reporter in steps:
        body = status_as_sent(name, document_id, reporter=reporter)
        reported = await client.post(
            f"{DOCUMENTS}/{key}/status", content=body, headers={**bearer(demo_token), **XML}
        )
        assert reported.status_code == 200, (name, reported.text)
        assert reported.json()["warnings"] == []

    fetched = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))
    codes = [h["status_code"] for h in fetched.json()["recipients"][0]["history"]]
    assert codes == [re.search(r"<edXML:StatusCode>(\d+)", sample(n))[1] for n, _ in steps]  # type: ignore[index]


async def test_the_recipient_in_another_province_gets_the_senders_bytes(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    data = as_sent("edoc_update.edxml", "17030", recipient=RECIPIENT)
    tg_token = await fetch_token(client, TG)

    sent = await send(client, demo_token, data)
    assert sent.status_code == 202, sent.text
    key = sent.json()["id"]
    await until_in_inbox(client, TG, key, bearer(tg_token))
    xml = {"Accept": "application/xml"}
    there = await client.get(f"{TG}/qlvb/v1/documents/{key}", headers={**bearer(tg_token), **xml})
    here = await client.get(f"{DOCUMENTS}/{key}", headers={**bearer(demo_token), **xml})
    as_json = await client.get(f"{DOCUMENTS}/{key}", headers=bearer(demo_token))

    assert there.status_code == here.status_code == 200, there.text
    assert there.headers["content-type"].startswith("application/xml")
    assert hashlib.sha256(there.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert here.content == data
    assert b"<Signature>" in there.content  # the SDK's (unverifiable) signature, untouched
    assert as_json.headers["content-type"] == "application/json"
    document: dict[str, Any] = as_json.json()["document"]
    assert document["document_id"] == f"{STP},2015/09/30,17030/VPCP-TTĐT"
