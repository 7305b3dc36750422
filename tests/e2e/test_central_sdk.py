"""The VDXP SDK at the national instance: a central body's document system (VPCP's) points the
jar at NDXP's door `/ndxp/vdxp-sdk`, lists and fetches what reached its national inbox with
`getReceivedEdocList`, `countReceiveEdoc`, `getEdoc` and `downloadEdoc`, and sends with
`sendEdoc`: the SDK's calls are the national axis's (DOMAIN.md §2.4, its sample's sender VPCP),
and the axis is a central body's exchange."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import httpx
import pytest

from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME
from lgsp.settings import Settings
from tests.e2e.test_central_agencies import VPCP, from_central
from tests.e2e.test_sdk_documents import DOCUMENTS, STP, XML, as_sent
from tests.fixtures.bus import DialectSettings, bearer
from tests.fixtures.cli import CreateClient
from tests.fixtures.waiting import eventually

pytestmark = pytest.mark.anyio

DOOR = "/ndxp/vdxp-sdk"
SdkSystem = tuple[str, str]


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"ndxp": ("bus", "apim", "vdxpsdk")})


@pytest.fixture
async def vpcp(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, create_client: CreateClient
) -> SdkSystem:
    """VPCP's document system at NDXP, as its operator makes it: `lgsp clients create
    --instance ndxp --dialect vdxpsdk --organisation 000.00.00.G22`."""
    monkeypatch.setenv("LGSP_DATA_DIR", str(settings.data_dir))
    shown = await create_client(
        "VPCP (SDK)", "--instance", "ndxp", "--service", "vdxp", "--dialect", "vdxpsdk",
        "--organisation", VPCP,
    )  # fmt: skip
    return shown["systemid"], shown["secret"]


def _signed(system: SdkSystem, entries: dict[str, str], content_type: str) -> dict[str, str]:
    stamp = sdk.format_timestamp(datetime.now(VIETNAM_TIME))
    signed = sdk.signed_headers(*system, {"Content-Type": content_type, **entries}, timestamp=stamp)
    return {**signed, "Content-Type": content_type}


async def call_sdk(
    client: httpx.AsyncClient, system: SdkSystem, name: str, **entries: str
) -> httpx.Response:
    headers = _signed(system, entries, "application/json")
    if name == "downloadEdoc":  # a GET, its entries also as query parameters (the jar's)
        return await client.get(f"{DOOR}/{name}", params=entries, headers=headers)
    return await client.post(f"{DOOR}/{name}", headers=headers)


async def test_vpcps_sdk_lists_and_fetches_what_reached_its_national_inbox(
    client: httpx.AsyncClient, demo_token: str, vpcp: SdkSystem
) -> None:
    data = as_sent("edoc_new.bak.edxml", "18101", recipient=VPCP)
    sent = await client.post(DOCUMENTS, content=data, headers={**bearer(demo_token), **XML})
    assert sent.status_code == 202, sent.text
    document_id = sent.json()["document_id"]

    listed = await eventually(
        lambda: call_sdk(client, vpcp, "getReceivedEdocList", servicetype="eDoc",
                         messagetype="edoc"),
        lambda r: r.status_code != 200 or any(
            k["documentId"] == document_id for k in r.json().get("data", [])
        ),
    )  # fmt: skip
    assert listed.status_code == 200, listed.text
    assert (listed.json()["status"], listed.json()["ErrorCode"]) == ("OK", "0")
    (item,) = [k for k in listed.json()["data"] if k["documentId"] == document_id]
    assert (item["messageType"], item["from"], item["to"]) == ("edoc", STP, VPCP)
    assert (item["status"], item["contentLength"]) == ("initial", str(len(data)))
    fetched = await call_sdk(client, vpcp, "getEdoc", filePath="xml", docId=item["docId"])
    assert fetched.status_code == 200, fetched.text
    assert base64.b64decode(fetched.json()["data"]) == data  # the sender's bytes
    downloaded = await call_sdk(client, vpcp, "downloadEdoc", docId=item["docId"])
    assert (downloaded.status_code, downloaded.content) == (200, data)
    counted = await call_sdk(client, vpcp, "countReceiveEdoc", servicetype="eDoc",
                             messagetype="edoc")  # fmt: skip
    assert counted.json()["count"] == listed.json()["total"]


async def test_vpcps_sdk_sends_from_the_national_instance(
    client: httpx.AsyncClient, vpcp: SdkSystem
) -> None:
    data = from_central("18102")
    entries = {
        "from": VPCP,
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "hash-file": sdk.sdk_hex(hashlib.sha256(data).digest()),
    }

    sent = await client.post(
        f"{DOOR}/sendEdoc", content=data,
        headers=_signed(vpcp, entries, "application/octet-stream"),
    )  # fmt: skip

    assert sent.status_code == 202, sent.text
    assert (sent.json()["status"], sent.json()["Answer"]["sender"]) == ("OK", VPCP)
    assert sent.json()["Answer"]["destinations"][0]["organ_ids"] == [STP]


async def test_a_message_id_that_is_no_inbox_id_is_refused_in_the_sdks_form(
    client: httpx.AsyncClient, vpcp: SdkSystem
) -> None:
    refused = await call_sdk(client, vpcp, "getEdoc", filePath="xml", docId="not-a-number")

    assert refused.status_code == 422, refused.text
    assert (refused.json()["status"], refused.json()["ErrorCode"]) == ("FAIL", "DOCID_INVALID")
    assert "no message of the national inbox" in refused.json()["ErrorDesc"]  # the value's fault


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("updateStatus", {"docId": "1", "status": "done"}),
        ("getAgenciesList", {}),
        ("getSentEdocList", {"servicetype": "eDoc", "messagetype": "edoc", "docId": "1"}),
    ],
)
async def test_a_provinces_call_is_not_offered_at_the_national_instance_in_the_sdks_form(
    client: httpx.AsyncClient, vpcp: SdkSystem, name: str, entries: dict[str, str]
) -> None:
    refused = await call_sdk(client, vpcp, name, **entries)

    assert refused.status_code == 404, refused.text
    assert (refused.json()["status"], refused.json()["ErrorCode"]) == ("FAIL", "NOT_OFFERED_HERE")
    assert "sendEdoc" in refused.json()["ErrorDesc"]
