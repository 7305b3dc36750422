"""The doors themselves: a door an instance does not speak is a clear 404, and what a door
refuses on its own is recorded (audit and journal) at the door's path with the status sent."""

from __future__ import annotations

import base64
import hashlib
import json
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.dialects import soap
from lgsp.dialects.mount import DOOR_PREFIXES
from lgsp.settings import Settings
from lgsp.topology import Dialect
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import (
    KG,
    TEST_SEED,
    DialectSettings,
    bearer,
    bus_settings,
    fetch_token,
)
from tests.fixtures.topology import todays_topology_text

pytestmark = pytest.mark.anyio

TG = "/lgsp/tiengiang"
AG = "/lgsp/angiang"
SOAP = f"{KG}/soap/{soap.OPERATION}"
LAT_HEADER = base64.b64encode(
    json.dumps(
        {
            "AppName": "QLVB",
            "AccessKey": "demo",
            "SecretKey": "lgsp-demo-secret",
            "PartnerCode": "",
            "PartnerCodeCus": "",
        }  # fmt: skip
    ).encode()
).decode()


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    """Kiên Giang speaks every dialect but `apim` and `lgspaccesstoken`; Tiền Giang none but
    `lgspaccesstoken`; NDXP `apim`, as by default."""
    return dialect_settings(
        {
            "kiengiang": ("bus", "soap", "opencps", "vdxpsdk"),
            "tiengiang": ("bus", "lgspaccesstoken"),
        }
    )


def unique_id(*parts: str) -> str:
    """A request id of its own for each case: the shared bus keeps its audit trail."""
    return "door-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


async def trail(
    client: httpx.AsyncClient, token: str, request_id: str, base: str = KG
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The inbound audit records and the journal entries of `request_id` at `base`."""
    if base != KG:
        token = await fetch_token(client, base)
    audit = await client.get(
        f"{base}/admin/audit", params={"request_id": request_id}, headers=bearer(token)
    )
    journal = await client.get(
        f"{base}/admin/journal", params={"request_id": request_id}, headers=bearer(token)
    )
    inbound = [r for r in audit.json()["records"] if r["hop"] == "inbound"]
    return inbound, journal.json()["entries"]


@pytest.mark.parametrize(
    ("method", "path", "headers", "dialect", "spoken_at"),
    [
        ("POST", f"{KG}/apim/token", {}, "apim", ["ndxp"]),
        ("GET", f"{KG}/apim/dancu/1.0/citizens/x", {}, "apim", ["ndxp"]),
        ("GET", f"{KG}/lgspaccesstoken/dancu/v1/citizens/x",
         {"lgspaccesstoken": LAT_HEADER}, "lgspaccesstoken", ["tiengiang"]),
        ("GET", f"{TG}/soap/{soap.OPERATION}?wsdl", {}, "soap", ["kiengiang"]),
        ("POST", f"{TG}/opencps/auth", {}, "opencps", ["kiengiang"]),
        ("POST", f"{TG}/vdxp-sdk/sendEdoc", {}, "vdxpsdk", ["kiengiang"]),
        ("GET", "/ndxp/soap/", {}, "soap", ["kiengiang"]),
    ],
)  # fmt: skip
async def test_a_door_the_instance_does_not_speak_says_where_it_is_spoken(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    path: str,
    headers: dict[str, str],
    dialect: Dialect,
    spoken_at: list[str],
) -> None:
    request_id = unique_id(method, path)
    sent = {**headers, "X-Request-ID": request_id}
    form = b"grant_type=client_credentials" if method == "POST" else None
    if form is not None:
        sent["Content-Type"] = "application/x-www-form-urlencoded"
    where = path.split("?")[0]
    base = "/ndxp" if where.startswith("/ndxp") else "/".join(where.split("/")[:3])

    answer = await client.request(method, path, headers=sent, content=form)
    inbound, journal = await trail(client, demo_token, request_id, base)

    assert answer.status_code == 404, answer.text  # no slash redirect, no 401
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["code"], problem["dialect"], problem["instance"]) == (
        "DIALECT_NOT_SPOKEN", dialect, where
    )  # fmt: skip
    assert sorted(problem["spoken_at"]) == spoken_at
    for name in spoken_at:
        assert problem["spoken_at"][name].endswith(f"/{name}/{DOOR_PREFIXES[dialect]}")
        assert name in problem["detail"]
    assert dialect in problem["detail"]
    assert [(r["path"], r["status"]) for r in inbound] == [(where, 404)]
    assert [(e["status"], json.loads(e["response"]["body"])["code"]) for e in journal] == [
        (404, "DIALECT_NOT_SPOKEN")
    ]


async def test_the_closed_door_gives_each_speakers_door_url(client: httpx.AsyncClient) -> None:
    apim = await client.get(f"{TG}/apim/token")
    opencps = await client.get("/ndxp/opencps/integration")

    assert apim.json()["spoken_at"] == {"ndxp": "http://lgsp.test/ndxp/apim"}
    assert opencps.json()["spoken_at"] == {"kiengiang": "http://lgsp.test/lgsp/kiengiang/opencps"}


async def test_the_closed_door_gives_the_topology_line_that_opens_it(
    client: httpx.AsyncClient,
) -> None:
    problem = (await client.get(f"{TG}/soap/{soap.OPERATION}?wsdl")).json()

    line, _, entry = problem["to_speak_it"].partition(" in the [[instances]] entry named ")
    assert entry == "'tiengiang'"
    assert tomllib.loads(line)["dialects"] == ["bus", "lgspaccesstoken", "soap"]  # kept, added


async def test_the_doors_an_instance_speaks_still_answer(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    wsdl = await client.get(SOAP, params={"wsdl": ""})
    apim = await client.post(
        "/ndxp/apim/token",
        data={"grant_type": "client_credentials"},
        auth=("demo", "lgsp-demo-secret"),
    )
    lat = await client.get(
        f"{TG}/lgspaccesstoken/dancu/v1/citizens/082000000000",
        headers={"lgspaccesstoken": LAT_HEADER},
    )

    assert wsdl.status_code == 200
    assert apim.status_code == 200
    assert apim.json()["token_type"] == "Bearer"
    assert lat.json()["error_code"] != "100", lat.text  # credentials taken; the lookup answered


@pytest.mark.parametrize(
    ("case", "method", "body", "headers", "status"),
    [
        ("malformed", "POST", b"<s:Envelope", {}, 500),
        ("wrong method", "GET", b"", {}, 500),
        ("oversized", "POST", b"<" + b"a" * (soap.LIMITS.max_bytes + 10) + b"/>", {}, 500),
        ("dtd", "POST", b'<!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>', {}, 500),
        ("unknown operation", "POST", b"<x/>", {}, 500),
        ("malformed, wrapped", "POST", b"<s:Envelope", {"Accept": "application/json"}, 400),
    ],
)
async def test_a_soap_request_the_door_refuses_is_recorded_as_the_caller_got_it(
    client: httpx.AsyncClient,
    demo_token: str,
    case: str,
    method: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    path = f"{KG}/soap/NoSuchOperation" if case == "unknown operation" else SOAP
    request_id = "soap-refused-" + case.replace(" ", "-").replace(",", "")

    answer = await client.request(
        method,
        path,
        content=body or None,
        headers={**bearer(demo_token), "Content-Type": "text/xml", "X-Request-ID": request_id,
                 **headers},
    )  # fmt: skip
    inbound, journal = await trail(client, demo_token, request_id)

    assert answer.status_code == status, answer.text
    assert b"soap:Client" in answer.content
    assert [(r["method"], r["path"], r["status"]) for r in inbound] == [(method, path, status)]
    (entry,) = journal
    assert (entry["path"], entry["status"]) == (path.removeprefix(KG), status)
    assert "soap:Client" in entry["response"]["body"]
    if case in ("malformed", "dtd"):
        assert entry["request"]["body"] == body.decode()
    if case == "oversized":
        assert entry["request"]["truncated"]


async def test_a_soap_request_the_door_takes_is_recorded_at_the_core_as_before(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    envelope = (
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
        '<d:XacThucThongTinCongDanRequest xmlns:d="http://dancuquocgia.bca"><d:MaYeuCau>1'
        "</d:MaYeuCau><d:MaDichVu>033</d:MaDichVu><d:MaCanBo>C</d:MaCanBo><d:SoDinhDanh>"
        "082000000000</d:SoDinhDanh><d:SoCMND/><d:HoVaTen>A</d:HoVaTen>"
        "</d:XacThucThongTinCongDanRequest></s:Body></s:Envelope>"
    )

    answer = await client.post(
        SOAP,
        content=envelope.encode(),
        headers={**bearer(demo_token), "Content-Type": "text/xml", "X-Request-ID": "soap-ok"},
    )
    inbound, _ = await trail(client, demo_token, "soap-ok")

    assert answer.status_code == 200, answer.text
    (record,) = inbound
    assert record["path"].startswith(f"{KG}/csdlqgdc/v1/citizens/082")  # masked


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", f"{KG}/opencps/integration", 405, "METHOD_NOT_ALLOWED"),
        ("POST", f"{KG}/opencps/nothing", 404, "NOT_FOUND"),
        ("POST", f"{KG}/opencps/a/b/c", 404, "NOT_FOUND"),
    ],
)
async def test_an_opencps_path_the_door_does_not_serve_is_refused_at_its_path(
    client: httpx.AsyncClient, demo_token: str, method: str, path: str, status: int, code: str
) -> None:
    request_id = unique_id(method, path)
    answer = await client.request(method, path, headers={"X-Request-ID": request_id})
    inbound, journal = await trail(client, demo_token, request_id)

    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert (problem["code"], problem["instance"]) == (code, path)
    assert path in problem["detail"]
    if status == 405:
        assert answer.headers["allow"] == "POST"
    assert [(r["path"], r["status"]) for r in inbound] == [(path, status)]
    assert [(e["path"], e["status"]) for e in journal] == [(path.removeprefix(KG), status)]


async def test_an_opencps_request_the_door_cannot_read_is_recorded_without_its_body(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    secret = b'{"username": "demo", "password": "lgsp-demo-secret"}'  # no dstcode header

    answer = await client.post(
        f"{KG}/opencps/auth", content=secret, headers={"X-Request-ID": "opencps-unread"}
    )
    inbound, journal = await trail(client, demo_token, "opencps-unread")

    assert answer.status_code == 200
    assert answer.json()["error_code"] != "0"
    assert [(r["path"], r["status"]) for r in inbound] == [(f"{KG}/opencps/auth", 200)]
    (entry,) = journal
    assert "lgsp-demo-secret" not in json.dumps(entry)
    assert json.loads(entry["response"]["body"]) == answer.json()


@pytest.mark.parametrize(
    ("method", "path", "base", "refusal"),
    [
        pytest.param(
            "POST",
            f"{KG}/vdxp-sdk/registerAgency",
            KG,
            {
                "status": "FAIL",
                "ErrorCode": "NOT_FOUND",
                "ErrorDesc": f"Nothing is served at {KG}/vdxp-sdk/registerAgency.",
            },
            id="sdk-path-not-offered",
        ),
        pytest.param(
            "GET",
            "/ndxp/apim/nothing",
            "/ndxp",
            {
                "fault": {
                    "code": 900906,
                    "message": "No matching resource found for given API Request",
                    "description": "No matching resource found",
                }
            },
            id="api-manager-path-with-no-service",
        ),
    ],
)
async def test_a_path_the_door_cannot_serve_is_refused_in_its_own_form_at_its_path(
    client: httpx.AsyncClient,
    demo_token: str,
    method: str,
    path: str,
    base: str,
    refusal: dict[str, Any],
) -> None:
    """The door's own refusal, recorded in the audit trail and the journal at the door's path."""
    request_id = unique_id(method, path)
    answer = await client.request(method, path, headers={"X-Request-ID": request_id})
    inbound, journal = await trail(client, demo_token, request_id, base)

    assert answer.status_code == 404, answer.text
    assert answer.json() == refusal
    assert [(r["path"], r["status"]) for r in inbound] == [(path, 404)]
    assert [(e["path"], e["status"]) for e in journal] == [(path.removeprefix(base), 404)]


async def test_an_oversized_sdk_query_is_recorded_as_refused(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    path = f"{KG}/vdxp-sdk/getReceivedEdocList"

    answer = await client.post(
        path, content=b"{" + b" " * (64 * 1024) + b"}", headers={"X-Request-ID": "sdk-large"}
    )
    inbound, _ = await trail(client, demo_token, "sdk-large")

    assert answer.status_code == 413, answer.text
    assert [(r["path"], r["status"]) for r in inbound] == [(path, 413)]


async def test_sdk_refusals_carry_no_json_null(client: httpx.AsyncClient) -> None:
    unsigned = await client.post(f"{KG}/vdxp-sdk/getReceivedEdocList")
    unsent = await client.post(f"{KG}/vdxp-sdk/sendEdoc", content=b"x")
    unknown = await client.post(f"{KG}/vdxp-sdk/registerAgency")

    for answer in (unsigned, unsent, unknown):
        assert answer.json()["status"] == "FAIL", answer.text
        assert "null" not in answer.text, answer.text
        assert "DocId" not in answer.json()


async def test_an_lgspaccesstoken_path_with_no_service_names_the_door(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    path = f"{TG}/lgspaccesstoken/nothing"

    answer = await client.get(
        path, headers={"lgspaccesstoken": LAT_HEADER, "X-Request-ID": "lat-path"}
    )
    inbound, _ = await trail(client, demo_token, "lat-path", TG)

    assert answer.status_code == 404
    assert path in answer.json()["message"]
    # Besides the door's asking the token endpoint for the client's bus token:
    assert [(r["path"], r["status"]) for r in inbound if r["path"] != f"{TG}/token"] == [
        (path, 404)
    ]


async def test_a_failed_opencps_login_is_recorded_as_the_caller_got_it(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """OpenCPS answers every refusal 200 with its `error_code`: the door's record says so, at
    its path, beside the token endpoint's own record of the credentials it refused."""
    answer = await client.post(
        f"{KG}/opencps/auth",
        json={"username": "demo", "password": "not-the-secret"},
        headers={"dstcode": "000.00.00.H33", "X-Request-ID": "opencps-login-failed"},
    )
    inbound, journal = await trail(client, demo_token, "opencps-login-failed")

    assert answer.status_code == 200
    assert answer.json()["error_code"] == "-1"
    assert sorted((r["path"], r["status"]) for r in inbound) == [
        (f"{KG}/opencps/auth", 200),
        (f"{KG}/token", 401),
    ]
    (entry,) = journal
    assert (entry["path"], entry["status"]) == ("/opencps/auth", 200)
    assert json.loads(entry["response"]["body"]) == answer.json()
    assert "not-the-secret" not in json.dumps(entry)


class TestTodaysMap:
    """Era 2026, the bus's default: An Giang, which absorbed Kiên Giang (H33), speaking the
    dialects whose doors take agency codes."""

    @pytest.fixture
    def settings(
        self, bus_database_url: str, bus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> Settings:
        path = tmp_path_factory.mktemp("doors-today") / "opencps.toml"
        path.write_text(
            todays_topology_text({"angiang": ("bus", "opencps", "lgspaccesstoken")}),
            encoding="utf-8",
        )
        return bus_settings(bus_database_url, bus_data_dir, era="2026", topology_file=path)

    async def test_an_opencps_agency_code_the_merger_closed_is_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        """As the bus refuses a closed agency elsewhere (AGENCY_CODE_CLOSED), in OpenCPS's
        form: a `dstcode` at login, a `madonvi` at a call; today's codes are taken."""
        account = {"username": "demo", "password": "lgsp-demo-secret"}
        closed = await client.post(
            f"{AG}/opencps/auth",
            json=account,
            headers={"dstcode": "000.00.00.H33", "X-Request-ID": "opencps-closed-dstcode"},
        )
        login = await client.post(
            f"{AG}/opencps/auth", json=account, headers={"dstcode": "000.00.00.H01"}
        )
        session = login.json().get("session")
        calls = [
            await client.post(
                f"{AG}/opencps/integration",
                json={"session": session, "madonvi": madonvi, "service": "LayDanhMucLinhVuc"},
                headers={"dstcode": "000.00.00.H01"},
            )
            for madonvi in ("000.00.01.H33", "000.00.01.H01")
        ]
        token = await fetch_token(client, AG)
        inbound, _ = await trail(client, token, "opencps-closed-dstcode", AG)

        assert closed.status_code == 200
        assert closed.json()["error_code"] == "-2", closed.text
        assert closed.json()["message"].startswith("AGENCY_CODE_CLOSED: dstcode 000.00.00.H33")
        assert "000.00.00.H01" in closed.json()["message"]
        assert "session" not in closed.json()
        assert [(r["path"], r["status"]) for r in inbound] == [(f"{AG}/opencps/auth", 200)]
        assert login.json()["error_code"] == "0", login.text
        refused, taken = (call.json() for call in calls)
        assert refused["error_code"] == "-2"
        assert refused["message"].startswith("AGENCY_CODE_CLOSED: madonvi 000.00.01.H33")
        assert "000.00.01.H01" in refused["message"]
        assert not taken["message"].startswith("AGENCY_CODE_CLOSED"), taken

    async def test_a_receiver_code_the_merger_closed_is_refused_as_closed(
        self, client: httpx.AsyncClient
    ) -> None:
        """A `RECEIVER_CODE` under a closed level-1 code is AGENCY_CODE_CLOSED, in the door's
        envelope and with the status its other refusals carry (the bus's), not a 404 that
        hides why; today's code for the same body is taken."""
        headers = {"lgspaccesstoken": LAT_HEADER}
        cccd = generate_citizens(province_code="91", seed=TEST_SEED, count=1)[0].so_dinh_danh
        path = f"{AG}/lgspaccesstoken/dancu/v1/citizens/{cccd}"
        closed = await client.get(path, headers={**headers, "RECEIVER_CODE": "000.00.01.H33"})
        today = await client.get(path, headers={**headers, "RECEIVER_CODE": "000.00.01.H01"})

        assert closed.status_code == 422, closed.text
        body = closed.json()
        assert body["error_code"] == "302"
        assert body["message"].startswith("AGENCY_CODE_CLOSED: "), body
        assert "H01" in body["message"]
        assert today.status_code == 200, today.text


async def test_a_wsdl_fetched_at_the_soap_door_is_recorded(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """Every call through a door is audited (DESIGN.md §3), the WSDL a SOAP toolkit fetches
    before its first call too: at the door's path, and in the journal."""
    answer = await client.get(SOAP, params={"wsdl": ""}, headers={"X-Request-ID": "soap-wsdl"})
    inbound, journal = await trail(client, demo_token, "soap-wsdl")

    assert answer.status_code == 200
    assert b"wsdl:definitions" in answer.content or b"<definitions" in answer.content
    assert [(r["method"], r["path"], r["status"]) for r in inbound] == [("GET", SOAP, 200)]
    (entry,) = journal
    assert (entry["path"], entry["query"], entry["status"]) == (
        SOAP.removeprefix(KG), "wsdl=", 200
    )  # fmt: skip


@pytest.mark.parametrize(
    ("door", "status", "media_type"),
    [
        ("/ndxp/apim", 404, "application/json"),  # API Manager's fault 900906
        (f"{KG}/apim", 404, "application/problem+json"),  # DIALECT_NOT_SPOKEN
        (f"{KG}/soap", 500, "text/xml; charset=utf-8"),
        (f"{KG}/vdxp-sdk", 404, "application/json"),
        (f"{KG}/opencps", 404, "application/problem+json"),
        (f"{TG}/lgspaccesstoken", 404, "application/json"),
    ],
)
async def test_a_doors_own_path_is_the_doors_as_with_a_slash_after_it(
    client: httpx.AsyncClient, demo_token: str, door: str, status: int, media_type: str
) -> None:
    """`$BASE/apim` is answered by the door (in its dialect's error form, or the closed
    door's DIALECT_NOT_SPOKEN), as `$BASE/apim/` is, not by the instance behind it."""
    request_id = unique_id("door itself", door)
    base = "/ndxp" if door.startswith("/ndxp") else "/".join(door.split("/")[:3])

    bare = await client.get(door, headers={"X-Request-ID": request_id})
    slashed = await client.get(door + "/")
    inbound, _ = await trail(client, demo_token, request_id, base)

    assert (bare.status_code, bare.headers["content-type"]) == (status, media_type), bare.text
    assert (slashed.status_code, slashed.headers["content-type"]) == (status, media_type)
    if media_type == "application/problem+json":
        assert bare.json()["code"] == slashed.json()["code"]
        assert bare.json()["instance"] == door
    if door == f"{KG}/apim":
        assert bare.json()["code"] == "DIALECT_NOT_SPOKEN"
    assert [(r["path"], r["status"]) for r in inbound] == [(door, status)]
