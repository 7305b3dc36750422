"""Revocations, updates and replacements (Bussiness/BussinessDocType 1/2/3, DOMAIN.md §3.3)
of a document sent before: each reaches the recipients as a message of its own, linked to the
document, while a true resend stays a no-op and another document under the same number is a
conflict. The inbox shows each entry's business type and the signature's check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from formats.edxml import render_edxml
from tests.unit.mocks.test_qlvb_app import (
    STC,
    STP,
    XML,
    assert_fail,
    assert_ok,
    document_id,
    fx_client,
    fx_url,
    inbox,
    make_document,
    send,
    status_message,
)

pytestmark = pytest.mark.anyio
__all__ = ["fx_client", "fx_url"]  # the fixtures `client` and `url`, used by name

SAMPLES = Path(__file__).parents[2] / "samples" / "sdk"
REASONS = {1: "Thu hồi văn bản", 2: "Cập nhật văn bản", 3: "Văn bản thay thế"}


def business(document: dict[str, Any], kind: int, **changes: Any) -> dict[str, Any]:
    """`document` again as a business message of `kind`, under its number and DocumentId."""
    return {
        **document,
        **changes,
        "business": {"business_doc_type": kind, "business_doc_reason": REASONS[kind], "paper": 0},
    }


def replacement(document: dict[str, Any], replaced: dict[str, Any]) -> dict[str, Any]:
    """`document`, under a number of its own, as a replacement (3) of `replaced`, which its
    ReplacementInfo names, as the VDXP SDK's sample does."""
    message = business(document, 3)
    named = {
        "document_id": document_id(replaced),
        "organ_ids": [o["organ_id"] for o in replaced["to"]],
    }
    return {**message, "business": {**message["business"], "replacement_info": [named]}}


async def test_a_revocation_update_and_replacement_each_reach_the_recipient_linked(
    client: httpx.AsyncClient,
) -> None:
    document = make_document(number="3001")
    first = assert_ok(await send(client, document))

    answers = [
        assert_ok(await send(client, business(document, kind, subject=f"V/v lần {kind}")))
        for kind in (1, 2, 3)
    ]

    assert [a["Duplicate"] for a in answers] == [False] * 3
    assert [a["BusinessType"] for a in answers] == [1, 2, 3]
    assert {a["RefersTo"] for a in answers} == {first["DocId"]}
    assert len({first["DocId"], *(a["DocId"] for a in answers)}) == 4
    assert all(a["DocumentId"] == first["DocumentId"] for a in answers)
    assert all(a["Recipients"] == [{"OrganId": STC, "StatusCode": None}] for a in answers)
    listed = (await inbox(client, STC, size=4))["data"]
    assert [(i["id"], i["businessType"], i["refersTo"]) for i in listed] == [
        (answers[2]["DocId"], 3, first["DocId"]),
        (answers[1]["DocId"], 2, first["DocId"]),
        (answers[0]["DocId"], 1, first["DocId"]),
        (first["DocId"], 0, None),
    ]
    assert [i["subject"] for i in listed[:3]] == ["V/v lần 3", "V/v lần 2", "V/v lần 1"]
    revocation = await client.post("/getEdoc", json={"docId": answers[0]["DocId"]})
    assert revocation.content == render_edxml(business(document, 1, subject="V/v lần 1"))
    as_json = assert_ok(
        await client.post(
            "/getEdoc", json={"docId": answers[0]["DocId"], "format": "json", "organId": STC}
        )
    )
    assert (as_json["BusinessType"], as_json["RefersTo"]) == (1, first["DocId"])


async def test_a_business_message_sent_again_is_the_same_message(client: httpx.AsyncClient) -> None:
    document = make_document(number="3002")
    assert_ok(await send(client, document))
    revocation = business(document, 1)
    first = assert_ok(await send(client, revocation))
    total = (await inbox(client, STC))["total"]

    again = assert_ok(await send(client, revocation))

    assert (again["DocId"], again["Duplicate"]) == (first["DocId"], True)
    assert (await inbox(client, STC))["total"] == total


async def test_another_document_under_a_number_already_sent_is_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    document = make_document(number="3003")
    first = assert_ok(await send(client, document))
    total = (await inbox(client, STC))["total"]

    other = await send(client, {**document, "subject": "V/v một việc khác hẳn"})

    body = assert_fail(other, 409, "DOCUMENT_CONFLICT")
    assert (body["DocId"], body["DocumentId"]) == (first["DocId"], first["DocumentId"])
    assert "BussinessDocType" in body["ErrorDesc"]
    assert (await inbox(client, STC))["total"] == total


async def test_another_senders_document_under_a_document_id_taken_shows_nothing_of_it(
    client: httpx.AsyncClient,
) -> None:
    """Security review 2026-12: the conflict told any sender the DocId (and so the content) of
    the document another agency sent under the DocumentId it claimed."""
    document = make_document(number="3004")
    assert_ok(await send(client, document))
    claimed = {**make_document(sender=STC, to=(STP,), number="3005"),
               "document_id": document_id(document)}  # fmt: skip

    body = assert_fail(await send(client, claimed), 409, "DOCUMENT_CONFLICT")

    assert "Another agency's document" in body["ErrorDesc"]
    assert not {"DocId", "DocumentId"} & body.keys()


def sample(name: str) -> bytes:
    """An SDK sample from Kiên Giang's Sở Tư pháp to its Sở Tài chính, DocumentId and numbers
    as the SDK wrote them (ORIGIN.md)."""
    text = (SAMPLES / name).read_text(encoding="utf-8")
    text = re.sub(r"(<edXML:From>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{STP}", text)
    text = re.sub(r"(<edXML:To>\s*<edXML:OrganId>)[^<]*", rf"\g<1>{STC}", text)
    return text.encode("utf-8")


async def test_the_sdks_samples_under_one_document_id_each_reach_the_recipient(
    client: httpx.AsyncClient,
) -> None:
    """edoc_new, then its revocation, update and replacement: one header DocumentId."""
    first = assert_ok(await client.post("/sendEdoc", content=sample("edoc_new.bak.edxml"),
                                        headers=XML))  # fmt: skip

    answers = [
        assert_ok(await client.post("/sendEdoc", content=sample(name), headers=XML))
        for name in ("edoc_revocation.edxml", "edoc_update.edxml", "edoc_replacement.edxml")
    ]

    assert [(a["BusinessType"], a["RefersTo"], a["Duplicate"]) for a in answers] == [
        (1, first["DocId"], False), (2, first["DocId"], False), (3, first["DocId"], False)
    ]  # fmt: skip
    listed = (await inbox(client, STC, size=4))["data"]
    assert [i["businessType"] for i in listed] == [3, 2, 1, 0]


async def test_an_inbox_entry_carries_the_signatures_check_from_when_it_was_taken(
    client: httpx.AsyncClient,
) -> None:
    sent = assert_ok(await send(client, make_document(number="3004")))

    (entry,) = [i for i in (await inbox(client, STC))["data"] if i["id"] == sent["DocId"]]

    assert entry["signature"] == sent["Signature"]
    assert (entry["signature"]["Present"], entry["signature"]["Reason"]) == (False, "missing")


async def test_a_status_timestamp_written_day_first_is_taken(client: httpx.AsyncClient) -> None:
    document = make_document(number="3005")
    assert_ok(await send(client, document))
    message = status_message(document, STC, "01")
    stamp = re.search(rb"<edXML:Timestamp>(\d{4})/(\d\d)/(\d\d) ([\d:]{8})<", message)
    assert stamp is not None, message
    year, month, day, time = stamp.groups()
    day_first = message.replace(
        stamp[0], b"<edXML:Timestamp>%s/%s/%s %s<" % (day, month, year, time)
    )

    answer = assert_ok(await client.post("/updateStatus", content=day_first, headers=XML))

    assert answer["Recipients"] == [{"OrganId": STC, "StatusCode": "01"}]
    assert [w["Rule"] for w in answer["Warnings"]] == ["bad_date"]


def retyped(document: dict[str, Any]) -> dict[str, Any]:
    """`document` sent again with its promulgation date retyped: other bytes, and what its
    recipients read unchanged (`content_fingerprint`)."""
    return {**document, "promulgation": {**document["promulgation"], "date": "2025-06-01"}}


@pytest.mark.parametrize(
    "about_an_earlier_document",
    [
        pytest.param(True, id="a-revocation-of-a-document-sent-before"),
        pytest.param(False, id="a-replacement-under-its-own-number"),
    ],
)
async def test_a_business_message_resent_with_other_bytes_is_the_same_message(
    client: httpx.AsyncClient, about_an_earlier_document: bool
) -> None:
    """A resend is recognised by what its recipients read, for business messages too (code
    review: a re-signed or retyped revocation reached every recipient a second time)."""
    number = "3010" if about_an_earlier_document else "3011"
    document = make_document(number=number)
    if about_an_earlier_document:
        assert_ok(await send(client, document))
    message = business(document, 1 if about_an_earlier_document else 3)
    first = assert_ok(await send(client, message))
    total = (await inbox(client, STC))["total"]

    again = assert_ok(await send(client, retyped(message)))

    assert (again["DocId"], again["Duplicate"]) == (first["DocId"], True)
    assert (await inbox(client, STC))["total"] == total


async def test_a_replacement_under_a_number_of_its_own_is_linked_to_what_it_replaces(
    client: httpx.AsyncClient,
) -> None:
    """Its ReplacementInfo names the document it replaces, as in the VDXP SDK's sample (code
    review: it reached the recipient as an unrelated document)."""
    replaced = make_document(number="3012")
    first = assert_ok(await send(client, replaced))
    message = replacement(make_document(number="3013"), replaced)

    answer = assert_ok(await send(client, message))
    again = assert_ok(await send(client, retyped(message)))

    assert (answer["BusinessType"], answer["RefersTo"]) == (3, first["DocId"])
    assert answer["DocumentId"] == document_id(message)  # its own number, kept
    assert (again["DocId"], again["Duplicate"]) == (answer["DocId"], True)
    listed = (await inbox(client, STC, size=2))["data"]
    assert [(i["id"], i["businessType"], i["refersTo"]) for i in listed] == [
        (answer["DocId"], 3, first["DocId"]),
        (first["DocId"], 0, None),
    ]


async def test_a_replacement_naming_no_document_here_is_a_document_of_its_own(
    client: httpx.AsyncClient,
) -> None:
    elsewhere = make_document(number="3014")  # never sent here
    message = replacement(make_document(number="3015"), elsewhere)

    answer = assert_ok(await send(client, message))

    assert answer["DocumentId"] == document_id(message)
    assert "RefersTo" not in answer


@pytest.mark.parametrize("kind", [pytest.param(1, id="revocation"), pytest.param(2, id="update")])
async def test_a_revocation_or_update_goes_to_the_documents_recipients_only(
    client: httpx.AsyncClient, kind: int
) -> None:
    """Code review 2026-12: a revocation could name an organisation the document never reached,
    which then found a revocation of a document it never had in its inbox."""
    document = make_document(number=f"303{kind}")
    assert_ok(await send(client, document))
    stranger = "000.00.02.H33"  # Kiên Giang's Sở Xây dựng: no recipient of the document
    widened = business(
        document, kind, to=[*document["to"], {"organ_id": stranger, "organ_name": "Sở Xây dựng"}]
    )
    before = (await inbox(client, stranger))["total"]  # the seed's

    refused = await send(client, widened)
    taken = assert_ok(await send(client, business(document, kind)))

    assert assert_fail(refused, 422, "NOT_A_RECIPIENT_OF_DOCUMENT")["OrganIds"] == [stranger]
    assert (await inbox(client, stranger))["total"] == before
    assert (taken["BusinessType"], taken["Duplicate"]) == (kind, False)
