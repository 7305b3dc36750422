"""The VDXP SDK pointed at the bus (issue 17): `sendEdoc` with the jar's `XroadVnpt-*` HMAC
headers, at Kiên Giang's door `{base}/vdxp-sdk`, answered by the same core as the bus's own
dialect (qlvb send_document and post_status: same audit trail), refused in the SDK's form when
the signature, the timestamp, the file or its size is not right."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters import CONTRACTS
from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME
from formats.edxml import read_status, render_edxml
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.e2e.test_sdk_documents import DOCUMENTS, STC, STP, as_sent, status_as_sent
from tests.fixtures.bus import KG, DialectSettings, bearer
from tests.fixtures.cli import CreateClient
from tests.fixtures.documents import local_document

pytestmark = pytest.mark.anyio

DOOR = f"{KG}/vdxp-sdk"
SEND = f"{DOOR}/sendEdoc"


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings(
        {"kiengiang": ("bus", "vdxpsdk")},
        vdxp_sdk_max_file_bytes=512 * 1024,
        vdxp_sdk_max_skew_seconds=300,  # the stale cases; no window by default
    )


SdkSystem = tuple[str, str]
"""A vendor's SDK system: its systemid and its secret."""
MakeSystem = Callable[..., Awaitable[SdkSystem]]


@pytest.fixture(name="make_system")
def fx_make_system(
    client: httpx.AsyncClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    create_client: CreateClient,
) -> MakeSystem:
    """Makes a vendor's SDK system as an operator would: `lgsp clients create --dialect vdxpsdk`
    with the extra options given (the bus of `client` already up)."""
    monkeypatch.setenv("LGSP_DATA_DIR", str(settings.data_dir))

    async def make(*extra: str) -> SdkSystem:
        options = ["--service", "qlvb", "--dialect", "vdxpsdk", *extra]
        shown = await create_client("QLVB vendor (SDK)", *options)
        assert shown["systemid"] == shown["client_id"]
        return shown["systemid"], shown["secret"]

    return make


@pytest.fixture
async def system(make_system: MakeSystem) -> SdkSystem:
    return await make_system()


@pytest.fixture
async def parties(make_system: MakeSystem) -> tuple[SdkSystem, SdkSystem]:
    """A sender's SDK system bound to Sở Tư pháp and a recipient's bound to Sở Tài chính."""
    sender = await make_system("--organisation", STP)
    return sender, await make_system("--organisation", STC)


@pytest.fixture
async def bystander(make_system: MakeSystem) -> SdkSystem:
    """An SDK system bound to Sở Văn hóa, which sends and receives nothing in these tests."""
    return await make_system("--organisation", "000.00.05.H33")


def sdk_headers(
    system: SdkSystem,
    data: bytes,
    *,
    messagetype: str = "edoc",
    at: datetime | None = None,
    file_hash: str | None = None,
) -> dict[str, str]:
    """What SDKVXP-2.0.1's sendEdoc sends for `data` (adapters.dialects.vdxpsdk)."""
    entries = {
        "Content-Type": "application/octet-stream",
        "from": "000.00.01.H33",
        "servicetype": "eDoc",
        "messagetype": messagetype,
        "hash-file": file_hash or sdk.sdk_hex(hashlib.sha256(data).digest()),
    }
    stamp = sdk.format_timestamp(at or datetime.now(VIETNAM_TIME))
    signed = sdk.signed_headers(*system, entries, timestamp=stamp)
    return {**signed, "Content-Type": "application/octet-stream"}


def assert_core_call(audit: httpx.Response, caller: str, path: str) -> None:
    """The SDK call reached the core's qlvb as `caller` (the system's own client), at `path`,
    and was answered 200: the audit's inbound record of the call says so."""
    records = audit.json()["records"]
    inbound = next(r for r in records if r["hop"] == "inbound" and r["service"] == "qlvb")
    assert (inbound["caller"], inbound["status"]) == (caller, 200)
    assert inbound["path"].endswith(path)


async def test_the_sdks_senddoc_is_taken_through_the_same_core(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem], demo_token: str
) -> None:
    system = parties[0]  # bound to the sender: a system sends as its own agency only
    data = as_sent("edoc_update.edxml", "17301")
    headers = {**sdk_headers(system, data), "X-Request-ID": "sdk-door-17301"}

    sent = await client.post(SEND, content=data + b"\r\n", headers=headers)  # as the jar does
    fetched = await client.get(
        f"{DOCUMENTS}/{sent.json()['DocId']}",
        headers={**bearer(demo_token), "Accept": "application/xml"},
    )
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-door-17301"}, headers=bearer(demo_token)
    )

    assert sent.status_code == 202, sent.text
    assert (sent.json()["status"], sent.json()["ErrorCode"]) == ("OK", "0")
    assert [w["rule"] for w in sent.json()["Answer"]["warnings"]] == ["document_id_mismatch"]
    assert fetched.content == data  # the file, without the jar's trailing CRLF
    records = audit.json()["records"]
    inbound = next(r for r in records if r["hop"] == "inbound" and r["service"] == "qlvb")
    assert inbound["caller"] == system[0]
    assert (inbound["status"], inbound["notes"]["warnings"]) == (202, ["document_id_mismatch"])


async def test_a_status_message_through_the_sdk_moves_the_trace(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem], demo_token: str
) -> None:
    system, recipient = parties
    data = as_sent("edoc_update.edxml", "17302")
    sent = await client.post(SEND, content=data, headers=sdk_headers(system, data))
    status = status_as_sent("status_inbox_01.edxml", sent.json()["Answer"]["document_id"],
                            reporter=STC)  # fmt: skip

    reported = await client.post(
        SEND, content=status, headers=sdk_headers(recipient, status, messagetype="status")
    )
    fetched = await client.get(f"{DOCUMENTS}/{sent.json()['DocId']}", headers=bearer(demo_token))

    assert reported.status_code == 200, reported.text
    assert reported.json()["status"] == "OK"
    assert fetched.json()["recipients"][0]["status"] == "01"


async def test_a_multipart_upload_with_file_doc_is_taken(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    system = parties[0]
    data = as_sent("edoc_update.edxml", "17303")
    headers = sdk_headers(system, data)
    del headers["Content-Type"]  # httpx sets multipart/form-data with its boundary

    sent = await client.post(
        SEND, files={"file_doc": ("edoc.edxml", data, "application/xml")}, headers=headers
    )

    assert sent.status_code == 202, sent.text


def _tampered(headers: dict[str, str]) -> dict[str, str]:
    mac = headers[sdk.HASH_HEADER]
    return {**headers, sdk.HASH_HEADER: ("0" if mac[0] != "0" else "1") + mac[1:]}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("wrong secret", 401, "SIGNATURE_INVALID"),
        ("tampered hmac", 401, "SIGNATURE_INVALID"),
        ("unknown system", 401, "SIGNATURE_INVALID"),
        ("header changed after signing", 401, "SIGNATURE_INVALID"),
        ("missing headers", 401, "SIGNATURE_MISSING"),
        ("stale timestamp", 401, "TIMESTAMP_STALE"),
        ("timestamp from the future", 401, "TIMESTAMP_STALE"),
        ("another file", 401, "FILE_HASH_MISMATCH"),
        ("oversize file", 413, "TOO_LARGE"),
    ],
)
async def test_a_bad_sdk_call_is_refused_in_the_sdks_form_and_recorded(
    client: httpx.AsyncClient,
    system: SdkSystem,
    demo_token: str,
    case: str,
    status: int,
    code: str,
) -> None:
    data = as_sent("edoc_update.edxml", "17310")
    body = data
    headers: dict[str, Any] = sdk_headers(system, data)
    if case == "wrong secret":
        headers = sdk_headers((system[0], system[1] + "x"), data)
    elif case == "tampered hmac":
        headers = _tampered(headers)
    elif case == "unknown system":
        headers = sdk_headers(("vxp.saas.99", system[1]), data)
    elif case == "header changed after signing":
        headers["XroadVnpt-from"] = "000.00.03.H33"
    elif case == "missing headers":
        headers = {"Content-Type": "application/octet-stream"}
    elif case == "stale timestamp":
        headers = sdk_headers(system, data, at=datetime.now(VIETNAM_TIME) - timedelta(hours=1))
    elif case == "timestamp from the future":
        headers = sdk_headers(system, data, at=datetime.now(VIETNAM_TIME) + timedelta(hours=1))
    elif case == "another file":
        body = as_sent("edoc_update.edxml", "17311")
    elif case == "oversize file":
        body = data + b" " * (512 * 1024)
        headers = sdk_headers(system, body)
    headers["X-Request-ID"] = f"sdk-bad-{case.replace(' ', '-')}"

    refused = await client.post(SEND, content=body, headers=headers)
    inbox = await client.get(
        f"{DOCUMENTS}/inbox", params={"organ_id": STC}, headers=bearer(demo_token)
    )

    assert refused.status_code == status, refused.text
    assert (refused.json()["status"], refused.json()["ErrorCode"]) == ("FAIL", code)
    assert all(item["document_id"].split(",")[2] != "17310/VPCP-TTĐT"
               for item in inbox.json()["items"])  # fmt: skip
    if status == 401:  # refused at the door, and recorded at its path like its other refusals
        audit = await client.get(
            f"{KG}/admin/audit", params={"request_id": headers["X-Request-ID"]},
            headers=bearer(demo_token),
        )  # fmt: skip
        (record,) = [r for r in audit.json()["records"] if r["hop"] == "inbound"]
        assert (record["method"], record["path"], record["status"]) == ("POST", SEND, 401)


def query_headers(system: SdkSystem, **entries: str) -> dict[str, str]:
    """What SDKVXP-2.0.1 sends for a call without a file: the fields of its JSON header
    argument as signed entries, after `Content-Type: application/json`."""
    stamp = sdk.format_timestamp(datetime.now(VIETNAM_TIME))
    signed = sdk.signed_headers(
        *system, {"Content-Type": "application/json", **entries}, timestamp=stamp
    )
    return {**signed, "Content-Type": "application/json"}


async def call_sdk(
    client: httpx.AsyncClient, system: SdkSystem, name: str, **entries: str
) -> httpx.Response:
    if name == "downloadEdoc":  # a GET, its entries also as query parameters (the jar's)
        return await client.get(
            f"{DOOR}/{name}", params=entries, headers=query_headers(system, **entries)
        )
    return await client.post(f"{DOOR}/{name}", headers=query_headers(system, **entries))


async def test_the_sdks_receiving_calls_take_a_document_from_list_to_done(
    client: httpx.AsyncClient,
    demo_token: str,
    parties: tuple[SdkSystem, SdkSystem],
) -> None:
    """ServiceTest's case 4 as a vendor runs it: list, fetch each, updateStatus done; then the
    sender's case 5, getSentEdocList. Each call goes through the core as its qlvb operation."""
    sender, recipient = parties
    data = as_sent("edoc_update.edxml", "17320")  # its DocumentId names another sender
    sent = await client.post(SEND, content=data, headers=sdk_headers(sender, data))
    doc_id = sent.json()["DocId"]

    listed = await call_sdk(client, recipient, "getReceivedEdocList",
                            servicetype="eDoc", messagetype="edoc")  # fmt: skip
    fetched = await client.post(
        f"{DOOR}/getEdoc",
        headers={**query_headers(recipient, filePath="xml", docId=doc_id),
                 "X-Request-ID": "sdk-getedoc-17320"},
    )  # fmt: skip
    done = await call_sdk(client, recipient, "updateStatus", status="done", docId=doc_id)
    again = await call_sdk(client, recipient, "updateStatus", status="done", docId=doc_id)
    relisted = await call_sdk(client, recipient, "getReceivedEdocList",
                              servicetype="eDoc", messagetype="edoc")  # fmt: skip
    tracked = await call_sdk(client, sender, "getSentEdocList",
                             servicetype="eDoc", messagetype="edoc", docId=doc_id)  # fmt: skip
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-getedoc-17320"}, headers=bearer(demo_token)
    )

    assert listed.status_code == 200, listed.text
    assert (listed.json()["status"], listed.json()["ErrorCode"]) == ("OK", "0")
    (item,) = [k for k in listed.json()["data"] if k["docId"] == doc_id]
    assert (item["serviceType"], item["messageType"], item["from"]) == ("eDoc", "edoc", STP)
    assert (item["status"], item["created_time"]) == ("initial", item["updated_time"])
    assert all(value is not None for value in item.values())  # the jar cannot read a null
    assert fetched.status_code == 200, fetched.text
    assert base64.b64decode(fetched.json()["data"]) == data  # the sender's bytes
    assert (done.status_code, done.json()["status"]) == (200, "OK"), done.text
    assert (again.status_code, again.json()["status"]) == (200, "OK")  # done twice: no change
    (item,) = [k for k in relisted.json()["data"] if k["docId"] == doc_id]
    assert (item["status"], item["statusCode"]) == ("done", "01")
    assert tracked.status_code == 200, tracked.text
    (result,) = tracked.json()["data"]
    assert (result["fromCode"], result["toCode"], result["senderDocId"]) == (STP, STC, doc_id)
    assert (result["sendStatus"], result["receiveStatus"]) == ("done", "01")
    assert result["notation"] == "17320/VPCP-TTĐT"
    assert_core_call(audit, recipient[0], f"/qlvb/v1/documents/{doc_id}")  # get_document


async def test_the_sdk_lists_and_fetches_the_status_messages_an_agency_received(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """`messagetype: status`: the sender's system lists its recipients' reports and fetches
    each as the reporter's bytes, signed by the reporter's document system."""
    sender, recipient = parties
    data = render_edxml(local_document("17321", subject="V/v thử SDK nhận trạng thái"))
    sent = await client.post(SEND, content=data, headers=sdk_headers(sender, data))
    doc_id = sent.json()["DocId"]
    await call_sdk(client, recipient, "updateStatus", status="done", docId=doc_id)

    listed = await call_sdk(client, sender, "getReceivedEdocList",
                            servicetype="eDoc", messagetype="status")  # fmt: skip
    (item,) = [k for k in listed.json()["data"] if k["docId"].startswith(doc_id + "/")]
    fetched = await call_sdk(client, sender, "getEdoc", filePath="xml", docId=item["docId"])
    acknowledged = await call_sdk(client, sender, "updateStatus", status="done",
                                  docId=item["docId"])  # fmt: skip

    assert (item["messageType"], item["from"], item["statusCode"]) == ("status", STC, "01")
    assert item["to"] == STP  # the recipient's report is addressed to the sender
    status = read_status(base64.b64decode(fetched.json()["data"])).message
    assert (status["from"]["organ_id"], status["status_code"]) == (STC, "01")
    assert b"http://www.w3.org/2000/09/xmldsig#" in base64.b64decode(fetched.json()["data"])
    assert (acknowledged.status_code, acknowledged.json()["status"]) == (200, "OK")


async def test_the_sdk_counts_what_its_list_holds(
    client: httpx.AsyncClient, demo_token: str, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """`countReceiveEdoc` and `countReceiveStatus` (KnobstickServiceImp, SDKVXP-2.0.1): how
    many documents, or status messages, `getReceivedEdocList` lists, as a JSON number, through
    the core's inbox (same rights and audit)."""
    sender, recipient = parties
    before = await call_sdk(client, recipient, "countReceiveEdoc",
                            servicetype="eDoc", messagetype="edoc")  # fmt: skip
    data = render_edxml(local_document("17330", subject="V/v thử SDK đếm văn bản đến"))
    doc_id = (await client.post(SEND, content=data, headers=sdk_headers(sender, data))).json()[
        "DocId"
    ]
    statuses_before = await call_sdk(client, sender, "countReceiveStatus", servicetype="eDoc")
    await call_sdk(client, recipient, "updateStatus", status="done", docId=doc_id)

    counted = await client.post(
        f"{DOOR}/countReceiveEdoc",
        content=b"{}",  # the jar's body for this call
        headers={**query_headers(recipient, servicetype="eDoc", messagetype="edoc"),
                 "X-Request-ID": "sdk-count-17330"},
    )  # fmt: skip
    listed = await call_sdk(client, recipient, "getReceivedEdocList",
                            servicetype="eDoc", messagetype="edoc")  # fmt: skip
    statuses = await call_sdk(client, sender, "countReceiveStatus", servicetype="eDoc")
    status_list = await call_sdk(client, sender, "getReceivedEdocList",
                                 servicetype="eDoc", messagetype="status")  # fmt: skip
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-count-17330"}, headers=bearer(demo_token)
    )

    assert counted.status_code == 200, counted.text
    assert (counted.json()["status"], counted.json()["ErrorCode"]) == ("OK", "0")
    assert isinstance(counted.json()["count"], int)  # the jar reads it with getAsInt
    assert counted.json()["count"] == before.json()["count"] + 1 == listed.json()["total"]
    assert statuses.json()["count"] == statuses_before.json()["count"] + 1
    assert statuses.json()["count"] == len(status_list.json()["data"])
    assert_core_call(audit, recipient[0], "/qlvb/v1/documents/inbox")  # get_inbox


async def test_download_edoc_answers_the_senders_bytes_as_the_file(
    client: httpx.AsyncClient, demo_token: str, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """`downloadEdoc` (KnobstickServiceImp → VnptService.dowload → HttpConnection.download): a
    GET with the signed headers and the entries as query parameters, whose body the jar
    streams into `{filePath}/{yyyy}/{M}/{docId}.edxml`: the sender's bytes, Signature
    included, through the core's get_document."""
    sender, recipient = parties
    data = as_sent("edoc_update.edxml", "17331")  # the SDK's own sample, its Signature kept
    doc_id = (await client.post(SEND, content=data, headers=sdk_headers(sender, data))).json()[
        "DocId"
    ]
    entries = {"filePath": "xml", "docId": doc_id}

    downloaded = await client.get(
        f"{DOOR}/downloadEdoc", params=entries,
        headers={**query_headers(recipient, **entries), "X-Request-ID": "sdk-download-17331"},
    )  # fmt: skip
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-download-17331"},
        headers=bearer(demo_token),
    )  # fmt: skip

    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.headers["content-type"].startswith("application/xml")
    assert downloaded.content == data
    assert_core_call(audit, recipient[0], f"/qlvb/v1/documents/{doc_id}")  # get_document


async def test_an_agency_that_is_no_party_reads_no_document_nor_status_message(
    client: httpx.AsyncClient,
    parties: tuple[SdkSystem, SdkSystem],
    bystander: SdkSystem,
) -> None:
    """A docId is no secret (the axis derives it), nor is a status knobstick's
    (`{docId}/{recipient}/{n}`): only the sender's and recipients' systems read the document,
    only its reporter's and addressee's a status message, whichever SDK call asks for it."""
    sender, recipient = parties
    data = as_sent("edoc_update.edxml", "17332")
    doc_id = (await client.post(SEND, content=data, headers=sdk_headers(sender, data))).json()[
        "DocId"
    ]
    done = await call_sdk(client, recipient, "updateStatus", status="done", docId=doc_id)
    assert done.status_code == 200, done.text
    status_id = f"{doc_id}/{STC}/1"  # the recipient's 01, addressed to the sender

    for read in (doc_id, status_id):
        for name, entries in (("downloadEdoc", {"filePath": "xml"}),
                              ("getEdoc", {"filePath": "xml"}),
                              ("updateStatus", {"status": "processing"})):  # fmt: skip
            answer = await call_sdk(client, bystander, name, docId=read, **entries)
            assert answer.status_code == 403, (read, name, answer.text)
            assert (answer.json()["status"], answer.json()["ErrorCode"]) == ("FAIL", "NOT_A_PARTY")
    for party in parties:
        answer = await call_sdk(client, party, "getEdoc", filePath="xml", docId=status_id)
        assert (answer.status_code, answer.json()["status"]) == (200, "OK"), answer.text


async def test_the_sdk_lists_the_agencies_a_document_can_be_addressed_to(
    client: httpx.AsyncClient, system: SdkSystem, demo_token: str
) -> None:
    """`getAgenciesList`, `getAgenciesListQD20` and `getSynchronizeUnit` (AgencyServiceImp,
    SDKVXP-2.0.1) through the core's qlvb list_organisations: this province's agencies and the
    other provinces'."""
    listed = await client.post(
        f"{DOOR}/getAgenciesList",
        headers={**query_headers(system), "X-Request-ID": "sdk-agencies-17340"},
    )
    qd20 = await call_sdk(client, system, "getAgenciesListQD20", level="1")
    units = await call_sdk(client, system, "getSynchronizeUnit")
    canonical = await client.get(f"{KG}/qlvb/v1/organisations", headers=bearer(demo_token))
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-agencies-17340"},
        headers=bearer(demo_token),
    )  # fmt: skip

    assert listed.status_code == 200, listed.text
    assert (listed.json()["status"], listed.json()["ErrorCode"]) == ("OK", "0")
    agencies = {a["code"]: a for a in listed.json()["data"]}
    assert {STP, STC} <= set(agencies)
    assert any(code.endswith(".H58") for code in agencies)  # Tiền Giang's, over the axis
    assert agencies[STP]["id"] == STP
    assert agencies[STP]["name"] == "Sở Tư pháp tỉnh Kiên Giang"
    assert agencies[STP]["pid"] == "000.00.00.H33"  # the UBND tỉnh (assigned)
    assert all(None not in a.values() for a in agencies.values())  # the jar cannot read a null
    assert {a["code102"] for a in qd20.json()["data"]} == set(agencies)
    (unit,) = [u for u in units.json()["data"] if u["code"] == STP]
    assert (unit["pid"], unit["version"], unit["deleted"], unit["isAgency"]) == (
        "000.00.00.H33", 1, False, True)  # fmt: skip
    CONTRACTS["qlvb"]["list_organisations"].response.model_validate(canonical.json())
    assert [i["in_province"] for i in canonical.json()["items"] if i["organ_id"] == STC] == [True]
    assert_core_call(audit, system[0], "/qlvb/v1/organisations")  # list_organisations


@pytest.mark.parametrize(
    ("name", "entries", "status", "code"),
    [
        ("getEdoc", {"filePath": "xml", "docId": "bm8tc3VjaC1kb2N1bWVudA"}, 404,
         "DOCUMENT_NOT_FOUND"),
        ("getEdoc", {"filePath": "xml", "docId": "../admin"}, 422, "DOCID_INVALID"),
        ("updateStatus", {"status": "finished", "docId": "bm8tc3VjaC1kb2N1bWVudA"}, 422,
         "STATUS_INVALID"),
        ("getSentEdocList", {"servicetype": "eDoc"}, 422, "DOCID_INVALID"),
        ("downloadEdoc", {"filePath": "xml", "docId": "bm8tc3VjaC1kb2N1bWVudA"}, 404,
         "DOCUMENT_NOT_FOUND"),
        ("downloadEdoc", {"filePath": "xml"}, 422, "DOCID_INVALID"),
    ],
)  # fmt: skip
async def test_a_bad_sdk_query_is_refused_in_the_sdks_form(
    client: httpx.AsyncClient,
    parties: tuple[SdkSystem, SdkSystem],
    name: str,
    entries: dict[str, str],
    status: int,
    code: str,
) -> None:
    answer = await call_sdk(client, parties[0], name, **entries)  # an agency's system

    assert answer.status_code == status, answer.text
    assert (answer.json()["status"], answer.json()["ErrorCode"]) == ("FAIL", code)


async def test_a_captured_sdk_call_is_answered_at_its_own_operation_only(
    client: httpx.AsyncClient, parties: tuple[SdkSystem, SdkSystem]
) -> None:
    """Security review 2026-12: the path is not signed, so the recipient's `updateStatus`
    headers, seen on the wire, read its inbox and the document at the other paths within the
    window; and a sender's `sendEdoc` headers its inbox. Each call signs its own fields."""
    sender, recipient = parties
    data = as_sent("edoc_update.edxml", "17999")
    sent = await client.post(SEND, content=data, headers=sdk_headers(sender, data))
    captured = query_headers(recipient, status="processing", docId=sent.json()["DocId"])
    own = await client.post(f"{DOOR}/updateStatus", headers=captured)

    as_list = await client.post(f"{DOOR}/getReceivedEdocList", headers=captured)
    as_fetch = await client.post(f"{DOOR}/getEdoc", headers=captured)
    send_as_list = await client.post(
        f"{DOOR}/getReceivedEdocList", headers=sdk_headers(sender, data)
    )
    unsorted = await call_sdk(client, recipient, "getReceivedEdocList", servicetype="eDoc")

    assert own.status_code == 200, own.text
    for replayed in (as_list, as_fetch, send_as_list):
        assert replayed.status_code == 401, replayed.text
        assert (replayed.json()["status"], replayed.json()["ErrorCode"]) == (
            "FAIL", "SIGNATURE_INVALID")  # fmt: skip
        assert "data" not in replayed.json()
    assert (unsorted.status_code, unsorted.json()["ErrorCode"]) == (401, "SIGNATURE_MISSING")


async def test_an_sdk_query_with_a_bad_signature_is_refused_and_recorded(
    client: httpx.AsyncClient, system: SdkSystem, demo_token: str
) -> None:
    headers = query_headers((system[0], system[1] + "x"), servicetype="eDoc", messagetype="edoc")

    refused = await client.post(
        f"{DOOR}/getReceivedEdocList", headers={**headers, "X-Request-ID": "sdk-bad-query"}
    )
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": "sdk-bad-query"}, headers=bearer(demo_token)
    )

    assert refused.status_code == 401, refused.text
    assert (refused.json()["status"], refused.json()["ErrorCode"]) == ("FAIL", "SIGNATURE_INVALID")
    (record,) = [r for r in audit.json()["records"] if r["hop"] == "inbound"]
    assert (record["method"], record["path"], record["status"]) == (
        "POST", f"{DOOR}/getReceivedEdocList", 401
    )  # fmt: skip


async def test_a_call_the_sdk_door_does_not_offer_is_an_unknown_path(
    client: httpx.AsyncClient, system: SdkSystem
) -> None:
    answer = await call_sdk(client, system, "registerAgency")

    assert answer.status_code == 404, answer.text
    assert answer.json()["status"] == "FAIL"


async def test_the_secret_is_kept_sealed_never_in_the_clear(
    bus: BusState, system: SdkSystem
) -> None:
    from sqlalchemy import text

    async with bus.engine.connect() as conn:
        stored = (
            await conn.execute(
                text("SELECT sealed_secret FROM dialect_sdk_secrets WHERE client_id = :id"),
                {"id": system[0]},
            )
        ).scalar_one()

    assert stored.startswith("fernet:")
    assert system[1] not in stored
