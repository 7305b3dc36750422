"""The document system checks each document's XML-DSig signature against the roots it trusts,
answers the verdict (`Signature`), and keeps the signed bytes for every reader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from pydantic import SecretStr

from adapters import CONTRACTS
from adapters._qlvb_contracts import SignatureInvalid
from adapters.base import CanonicalRequest, SystemResponse
from adapters.qlvb import QlvbAdapter
from formats.edxml import read_edxml, render_edxml
from formats.xmldsig import sign_edxml
from mocks.config import SystemConfig
from mocks.directory.agencies import AGENCIES, TODAYS_AGENCIES
from tests.fixtures import signing
from tests.fixtures.documents import NOW
from tests.unit.mocks.test_qlvb_app import (
    STC,
    XML,
    assert_fail,
    assert_ok,
    inbox,
    make_document,
    running,
    status_message,
)

pytestmark = pytest.mark.anyio


def trusting(url: str, **changes: Any) -> SystemConfig:
    root = signing.root().certificate.public_bytes(serialization.Encoding.PEM).decode()
    return SystemConfig(
        instance="kiengiang",
        province_code="91",
        seed=7,
        database_url=url,
        trusted_roots_pem=root,
        revoked_serials=[format(signing.REVOKED_SERIAL, "x")],
        **changes,
    )


@pytest.fixture(name="client")
async def fx_client(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(trusting(sqlite_url)) as client:
        yield client


@pytest.fixture(name="refusing")
async def fx_refusing(sqlite_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(trusting(sqlite_url, signature_policy="refuse")) as client:
        yield client


CO_SENDER = "000.00.02.H33"
"""Another agency of the province than the documents' sender: its certificate is as trusted."""


def unidentified() -> signing.Signer:
    """A certificate of the trusted CA whose subject has no UID: it names no agency."""
    certificate = signing._certificate(
        signing._name("Sở Tư pháp tỉnh Kiên Giang", "Sở Tư pháp tỉnh Kiên Giang"),
        signing._key("signer"),
        signing.root(),
        serial=0x1003,
        not_before=NOW - timedelta(days=1),
        not_after=NOW + timedelta(days=365),
    )
    return signing.Signer(signing._key("signer"), certificate)


def signed(number: str, signer: signing.Signer) -> bytes:
    data = render_edxml(make_document(number=number))
    return sign_edxml(data, key=signer.key, chain=[signer.certificate])


@pytest.mark.parametrize(
    ("number", "signer", "valid", "reason"),
    [
        ("301", lambda: signing.signer(), True, None),
        ("302", lambda: signing.signer(serial=0x2002, expired=True), False, "expired"),
        ("303", lambda: signing.signer(serial=signing.REVOKED_SERIAL), False, "revoked"),
        ("304", lambda: signing.signer(issuer="Rogue CA"), False, "untrusted"),
        ("307", lambda: signing.signer(organ_id=CO_SENDER), False, "signer_not_sender"),
    ],
)
async def test_each_document_is_taken_and_its_signature_judged(
    client: httpx.AsyncClient, number: str, signer: Any, valid: bool, reason: str | None
) -> None:
    data = signed(number, signer())

    answer = assert_ok(await client.post("/sendEdoc", content=data, headers=XML))
    fetched = assert_ok(
        await client.post("/getEdoc", json={"documentId": answer["DocumentId"], "format": "json"})
    )
    raw = await client.post("/getEdoc", json={"documentId": answer["DocumentId"]})

    assert (answer["Signature"]["Valid"], answer["Signature"]["Reason"]) == (valid, reason)
    assert fetched["Signature"] == answer["Signature"]
    assert raw.content == data


async def test_a_tampered_document_is_taken_and_reported_tampered(
    client: httpx.AsyncClient,
) -> None:
    data = signed("305", signing.signer()).replace(b"Giang", b"Giamg", 1)

    answer = assert_ok(await client.post("/sendEdoc", content=data, headers=XML))

    assert (answer["Signature"]["Valid"], answer["Signature"]["Reason"]) == (False, "tampered")


async def test_the_adapter_shows_the_verdict_in_the_contracts_shape(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.post("/sendEdoc", content=signed("306", signing.signer()), headers=XML)
    adapter = QlvbAdapter(today=lambda: NOW.date())
    request = CanonicalRequest("send_document", {}, body=b"", content_type="application/xml")

    sent = adapter.to_canonical(request, SystemResponse(200, answer.content, "application/json"))

    CONTRACTS["qlvb"]["send_document"].response.model_validate(sent.content)
    assert sent.content["signature"]["valid"] is True
    assert sent.content["signature"]["serial"] == "1001"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (lambda: render_edxml(make_document(number="401")), "missing"),
        (lambda: signed("402", signing.signer()).replace(b"Giang", b"Giamg", 1), "tampered"),
        (lambda: signed("403", signing.signer(serial=0x2002, expired=True)), "expired"),
        (lambda: signed("404", signing.signer(issuer="Rogue CA")), "untrusted"),
        (lambda: signed("406", signing.signer(organ_id=CO_SENDER)), "signer_not_sender"),
        (lambda: signed("407", unidentified()), "signer_unidentified"),
    ],
)
async def test_a_refusing_system_refuses_what_is_not_validly_signed_naming_why(
    refusing: httpx.AsyncClient, data: Any, reason: str
) -> None:
    body = data()

    refused = await refusing.post("/sendEdoc", content=body, headers=XML)
    adapter = QlvbAdapter(today=lambda: NOW.date())
    request = CanonicalRequest("send_document", {}, body=b"", content_type="application/xml")

    assert_fail(refused, 422, "SIGNATURE_INVALID")
    assert refused.json()["Reason"] == reason
    with pytest.raises(SignatureInvalid) as error:
        adapter.to_canonical(request, SystemResponse(422, refused.content, "application/json"))
    assert error.value.extensions == {"reason": reason}
    document_id = read_edxml(body).message["document_id"]
    fetched = await refusing.post("/getEdoc", json={"documentId": document_id})
    assert fetched.status_code == 404  # nothing was kept


async def test_a_refusing_system_takes_a_validly_signed_document(
    refusing: httpx.AsyncClient,
) -> None:
    answer = assert_ok(
        await refusing.post("/sendEdoc", content=signed("405", signing.signer()), headers=XML)
    )

    assert answer["Signature"]["Valid"] is True


# --- status messages ------------------------------------------------------------------------


REPORTER = "Sở Tài chính tỉnh Kiên Giang"  # STC, the recipient reporting


def signed_status(document: dict[str, Any], code: str, signer: signing.Signer) -> bytes:
    return sign_edxml(
        status_message(document, STC, code), key=signer.key, chain=[signer.certificate]
    )


@pytest.mark.parametrize(
    ("signer", "valid", "reason"),
    [
        (lambda: signing.signer("Sở Tài chính tỉnh Kiên Giang"), True, None),
        (lambda: signing.signer(serial=0x2003, expired=True), False, "expired"),
        (lambda: signing.signer(serial=signing.REVOKED_SERIAL), False, "revoked"),
        (lambda: signing.signer(issuer="Rogue CA"), False, "untrusted"),
        (lambda: None, False, "missing"),
    ],
)
async def test_a_status_message_is_taken_and_its_signature_judged_as_a_documents(
    client: httpx.AsyncClient, signer: Any, valid: bool, reason: str | None
) -> None:
    document = make_document(number="311")
    assert_ok(await client.post("/sendEdoc", content=render_edxml(document), headers=XML))
    made = signer()
    data = (
        status_message(document, STC, "01") if made is None else signed_status(document, "01", made)
    )

    answer = assert_ok(await client.post("/updateStatus", content=data, headers=XML))
    shown = assert_ok(
        await client.post(
            "/getStatus",
            json={
                "documentId": answer["DocumentId"],
                "organId": STC,
                "position": 1,
                "format": "json",
            },
        )  # fmt: skip
    )

    assert (answer["Signature"]["Valid"], answer["Signature"]["Reason"]) == (valid, reason)
    assert shown["Signature"] == answer["Signature"]


async def test_a_tampered_status_message_is_reported_tampered(client: httpx.AsyncClient) -> None:
    document = make_document(number="312")
    assert_ok(await client.post("/sendEdoc", content=render_edxml(document), headers=XML))
    data = signed_status(document, "01", signing.signer(REPORTER)).replace(
        "Trạng thái".encode(), "Trạng thai".encode(), 1
    )

    answer = assert_ok(await client.post("/updateStatus", content=data, headers=XML))

    assert (answer["Signature"]["Valid"], answer["Signature"]["Reason"]) == (False, "tampered")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (lambda d: status_message(d, STC, "01"), "missing"),
        (lambda d: signed_status(d, "01", signing.signer(serial=0x2004, expired=True)), "expired"),
        (lambda d: signed_status(d, "01", signing.signer()), "signer_not_sender"),  # the sender's
    ],
)
async def test_a_refusing_system_refuses_a_status_not_validly_signed_and_records_nothing(
    refusing: httpx.AsyncClient, data: Any, reason: str
) -> None:
    document = make_document(number="313")
    assert_ok(
        await refusing.post("/sendEdoc", content=signed("313", signing.signer()), headers=XML)
    )

    refused = await refusing.post("/updateStatus", content=data(document), headers=XML)
    taken = await refusing.post(
        "/updateStatus",
        content=signed_status(document, "01", signing.signer(REPORTER)),
        headers=XML,
    )

    assert_fail(refused, 422, "SIGNATURE_INVALID")
    assert refused.json()["Reason"] == reason
    assert assert_ok(taken)["Recipients"] == [{"OrganId": STC, "StatusCode": "01"}]


def identity_pem(signer: signing.Signer) -> SecretStr:
    key = signer.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SecretStr((key + signer.certificate.public_bytes(serialization.Encoding.PEM)).decode())


async def test_a_status_composed_here_is_signed_by_its_reporter(sqlite_url: str) -> None:
    """`?sign=sender` on a status (the bus's JSON report): signed as the reporting agency with
    the key its CA issued it, as a document composed here is signed as its sender."""
    reporter = signing.signer("Sở Tài chính tỉnh Kiên Giang", serial=0x3001)
    config = trusting(sqlite_url, signing_identities={STC: identity_pem(reporter)})
    document = make_document(number="314")
    async with running(config) as client:
        assert_ok(await client.post("/sendEdoc", content=render_edxml(document), headers=XML))
        answer = assert_ok(
            await client.post(
                "/updateStatus",
                params={"sign": "sender"},
                content=status_message(document, STC, "01"),
                headers=XML,
            )
        )
        raw = await client.post(
            "/getStatus",
            json={"documentId": answer["DocumentId"], "organId": STC, "position": 1},
        )

    assert answer["Signature"]["Valid"] is True, answer["Signature"]
    assert answer["Signature"]["Serial"] == "3001"
    assert "Sở Tài chính" in answer["Signature"]["Subject"]
    assert b"http://www.w3.org/2000/09/xmldsig#" in raw.content  # the signed bytes are kept


async def test_the_adapter_shows_a_status_verdict_in_the_contracts_shape(
    client: httpx.AsyncClient,
) -> None:
    document = make_document(number="315")
    assert_ok(await client.post("/sendEdoc", content=render_edxml(document), headers=XML))
    answer = await client.post(
        "/updateStatus",
        content=signed_status(document, "01", signing.signer(REPORTER)),
        headers=XML,
    )
    adapter = QlvbAdapter(today=lambda: NOW.date())
    request = CanonicalRequest("post_status", {}, body=b"", content_type="application/xml")

    recorded = adapter.to_canonical(
        request, SystemResponse(200, answer.content, "application/json")
    )

    CONTRACTS["qlvb"]["post_status"].response.model_validate(recorded.content)
    assert (recorded.content["signature"]["valid"], recorded.content["signature"]["serial"]) == (
        True,
        "1001",
    )


@pytest.mark.parametrize("era", ["2024", "2026"])
async def test_the_seeded_documents_and_statuses_are_signed_by_their_agencies(
    sqlite_url: str, era: str
) -> None:
    """Every document between agencies is signed (FIDELITY-2026.md §2): the seed signs each
    document as its sender and each status message as its reporter, with the keys the system
    was handed, so a recipient's check of either is valid."""
    agencies = AGENCIES["91"] + (TODAYS_AGENCIES["91"] if era == "2026" else ())
    identities = {
        agency.organ_id: identity_pem(signing.signer(agency.organ_id, serial=0x5000 + i))
        for i, agency in enumerate(agencies)
    }
    config = trusting(sqlite_url, era=era, signing_identities=identities)
    documents, statuses = [], []
    async with running(config) as client:
        for agency in agencies:
            for item in (await inbox(client, agency.organ_id, "edoc", size=100))["data"]:
                fetched = await client.post(
                    "/getEdoc", json={"docId": item["id"], "format": "json"}
                )
                documents.append((item["from"], assert_ok(fetched)["Signature"]))
            for item in (await inbox(client, agency.organ_id, "status", size=100))["data"]:
                fetch = {"documentId": item["documentId"], "organId": item["recipient"],
                         "position": item["position"], "format": "json"}  # fmt: skip
                fetched = await client.post("/getStatus", json=fetch)
                statuses.append((item["from"], assert_ok(fetched)["Signature"]))

    assert len(documents) >= 6
    assert len(statuses) >= 10
    for sender, signature in documents + statuses:
        assert signature["Valid"] is True, (sender, signature)
        assert sender in signature["Subject"]  # signed as the agency it comes from


async def test_the_system_signs_only_for_a_call_its_own_bus_vouched_for(sqlite_url: str) -> None:
    """SECURITY re-probe finding 1: `?sign=sender` signs as the sending (reporting) agency only
    for a call that entered the bus at this instance (`X-LGSP-Origin`), where the bus bound
    the caller to that agency; one another province's bus passed on is refused, unsigned."""
    config = trusting(
        sqlite_url,
        signing_identities={
            "000.00.01.H33": identity_pem(signing.signer(serial=0x3002)),
            STC: identity_pem(signing.signer(REPORTER, serial=0x3003)),
        },
    )
    document = make_document(number="316")
    sign = {"sign": "sender"}
    async with running(config) as client:
        foreign = await client.post(
            "/sendEdoc", params=sign, content=render_edxml(document),
            headers={**XML, "X-LGSP-Origin": "tiengiang"},
        )  # fmt: skip
        kept = await client.post("/getEdoc", json={"documentId": read_edxml(
            render_edxml(document)).message["document_id"]})  # fmt: skip
        sent = assert_ok(
            await client.post(
                "/sendEdoc",
                params=sign,
                content=render_edxml(document),
                headers={**XML, "X-LGSP-Origin": "kiengiang"},
            )  # fmt: skip
        )
        report = status_message(document, STC, "01")
        foreign_report = await client.post(
            "/updateStatus", params=sign, content=report,
            headers={**XML, "X-LGSP-Origin": "tiengiang"},
        )  # fmt: skip
        reported = assert_ok(
            await client.post(
                "/updateStatus",
                params=sign,
                content=report,
                headers={**XML, "X-LGSP-Origin": "kiengiang"},
            )  # fmt: skip
        )

    assert_fail(foreign, 422, "UNKNOWN_SENDER")
    assert kept.status_code == 404  # nothing kept, nor a number taken
    assert (sent["Duplicate"], sent["Signature"]["Valid"], sent["Signature"]["Serial"]) == (
        False, True, "3002",
    )  # fmt: skip
    assert_fail(foreign_report, 422, "OTHER_PROVINCE")
    assert (reported["Signature"]["Valid"], reported["Signature"]["Serial"]) == (True, "3003")
