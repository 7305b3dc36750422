"""The document system checks each document's XML-DSig signature against the roots it trusts,
answers the verdict (`Signature`), and keeps the signed bytes for every reader."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from adapters import CONTRACTS
from adapters._qlvb_contracts import SignatureInvalid
from adapters.base import CanonicalRequest, SystemResponse
from adapters.qlvb import QlvbAdapter
from formats.edxml import read_edxml, render_edxml
from formats.xmldsig import sign_edxml
from mocks.config import SystemConfig
from tests.fixtures import signing
from tests.fixtures.documents import NOW
from tests.unit.mocks.test_qlvb_app import XML, assert_fail, assert_ok, make_document, running

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
