"""The VDXP axis as Cà Mau's LGSP publishes it through API Manager (`vdxp-product/1.0`,
DOMAIN.md §2.1): the axis's five document operations in the SDK's request and answer shapes
(DOMAIN.md §2.4), served by the VDXP SDK door's translation, with an API Manager token in place
of the SDK's HMAC; what the gateway refuses stays API Manager's fault."""

from __future__ import annotations

import base64

import httpx
import pytest

from lgsp.settings import Settings
from tests.e2e.test_dialect_vdxpsdk import SdkSystem, call_sdk, sdk_headers
from tests.e2e.test_sdk_documents import STC, STP, as_sent
from tests.fixtures.bus import KG, DialectSettings, bearer
from tests.fixtures.cli import CreateClient

pytestmark = pytest.mark.anyio

VDXP = f"{KG}/apim/vdxp-product/1.0"
SDK_FIELDS = ("status", "ErrorCode", "ErrorDesc")


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "apim", "vdxpsdk")})


async def apim_token(client: httpx.AsyncClient, system: SdkSystem) -> str:
    issued = await client.post(
        f"{KG}/apim/token", data={"grant_type": "client_credentials"}, auth=system
    )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


async def make_party(create_client: CreateClient, organisation: str) -> SdkSystem:
    """A document system of `organisation` with qlvb's right, able to speak both dialects."""
    shown = await create_client(
        "QLVB vendor", "--service", "qlvb", "--dialect", "vdxpsdk", "--organisation", organisation
    )
    return shown["client_id"], shown["secret"]


@pytest.fixture
async def parties(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    create_client: CreateClient,
) -> tuple[SdkSystem, SdkSystem]:
    monkeypatch.setenv("LGSP_DATA_DIR", str(settings.data_dir))
    return await make_party(create_client, STP), await make_party(create_client, STC)


def axis(token: str, **entries: str) -> dict[str, str]:
    """An API call carrying the SDK's JSON header argument as the jar sends it."""
    return {**bearer(token), **{f"XroadVnpt-{name}": value for name, value in entries.items()}}


async def test_the_vdxp_context_answers_the_axis_operations_in_the_axis_form(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """sendEdoc, getReceivedEdocList, getEdoc, updateStatus, getSentEdocList: each a POST, as
    the SDK sends it, answered `{status, ErrorCode, ErrorDesc, …}`, as the SDK door answers."""
    sender, recipient = parties
    sending, receiving = await apim_token(client, sender), await apim_token(client, recipient)
    data = as_sent("edoc_update.edxml", "17501")

    sent = await client.post(
        f"{VDXP}/sendEdoc",
        content=data,
        headers={**axis(sending, servicetype="eDoc", messagetype="edoc"),
                 "Content-Type": "application/octet-stream"},
    )  # fmt: skip
    doc_id = sent.json().get("DocId")
    listed = await client.post(
        f"{VDXP}/getReceivedEdocList", headers=axis(receiving, servicetype="eDoc",
                                                     messagetype="edoc"),
    )  # fmt: skip
    fetched = await client.post(f"{VDXP}/getEdoc", headers=axis(receiving, docId=str(doc_id)))
    done = await client.post(
        f"{VDXP}/updateStatus", headers=axis(receiving, status="done", docId=str(doc_id))
    )
    tracked = await client.post(
        f"{VDXP}/getSentEdocList", headers=axis(sending, servicetype="eDoc", docId=str(doc_id))
    )

    assert sent.status_code == 202, sent.text
    assert [sent.json()[k] for k in SDK_FIELDS] == ["OK", "0", ""]
    assert sent.json()["DocId"] == sent.json()["Answer"]["id"]  # the SDK's field, not `id`
    assert listed.status_code == 200, listed.text
    assert [listed.json()[k] for k in SDK_FIELDS] == ["OK", "0", ""]
    (item,) = [k for k in listed.json()["data"] if k["docId"] == doc_id]
    assert (item["messageType"], item["from"], item["status"]) == ("edoc", STP, "initial")
    assert "items" not in listed.json()
    assert fetched.status_code == 200, fetched.text
    assert base64.b64decode(fetched.json()["data"]) == data
    assert (done.status_code, done.json()["status"]) == (200, "OK"), done.text
    assert tracked.status_code == 200, tracked.text
    (result,) = tracked.json()["data"]
    assert (result["fromCode"], result["toCode"], result["receiveStatus"]) == (STP, STC, "01")


async def test_the_vdxp_context_answers_as_the_sdk_door_does(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """One translation: the same call through both doors answers the same document."""
    sender, recipient = parties
    data = as_sent("edoc_update.edxml", "17502")
    sent = await client.post(
        f"{KG}/vdxp-sdk/sendEdoc", content=data, headers=sdk_headers(sender, data)
    )
    doc_id = sent.json()["DocId"]
    token = await apim_token(client, recipient)

    for operation, entries in [
        ("getEdoc", {"filePath": "xml", "docId": doc_id}),
        ("getSentEdocList", {"servicetype": "eDoc", "messagetype": "edoc", "docId": doc_id}),
        ("getEdoc", {"docId": "not a doc id"}),
    ]:
        by_sdk = await call_sdk(client, recipient, operation, **entries)
        by_apim = await client.post(f"{VDXP}/{operation}", headers=axis(token, **entries))

        assert (by_apim.status_code, by_apim.json()) == (by_sdk.status_code, by_sdk.json())


async def test_the_axis_refuses_in_its_own_form_and_the_gateway_in_its_faults(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem], create_client: CreateClient
) -> None:
    sender, _ = parties
    token = await apim_token(client, sender)
    bystander = await apim_token(client, await make_party(create_client, "000.00.05.H33"))
    data = as_sent("edoc_update.edxml", "17503")
    sent = await client.post(
        f"{VDXP}/sendEdoc", content=data, headers=axis(token, messagetype="edoc")
    )

    bad_id = await client.post(f"{VDXP}/getEdoc", headers=axis(token, docId="a b"))
    no_party = await client.post(
        f"{VDXP}/getEdoc", headers=axis(bystander, docId=sent.json()["DocId"])
    )
    bad_hash = await client.post(
        f"{VDXP}/sendEdoc", content=data, headers=axis(token, **{"hash-file": "00"})
    )
    no_token = await client.post(f"{VDXP}/getEdoc", headers={"XroadVnpt-docId": "x"})
    a_get = await client.get(f"{VDXP}/getReceivedEdocList", headers=bearer(token))
    unknown = await client.post(f"{VDXP}/registerAgency", headers=bearer(token))

    assert sent.status_code == 202, sent.text
    assert (bad_id.status_code, bad_id.json()["ErrorCode"]) == (422, "DOCID_INVALID")
    assert no_party.status_code == 403
    assert (no_party.json()["status"], no_party.json()["ErrorCode"]) == (
        "FAIL",
        "NOT_A_PARTY",
    )
    assert no_party.headers["content-type"] == "application/json"
    assert (bad_hash.status_code, bad_hash.json()["ErrorCode"]) == (422, "FILE_HASH_MISMATCH")
    assert (no_token.status_code, no_token.json()["fault"]["code"]) == (401, 900902)
    assert (a_get.status_code, a_get.json()["fault"]["code"]) == (404, 900906)
    assert (unknown.status_code, unknown.json()["fault"]["code"]) == (404, 900906)
