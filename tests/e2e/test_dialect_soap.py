"""The SOAP citizen service `XacThucThongTinCongDan`, driven by a real SOAP client (zeep)
against the WSDL the bus serves, on the same core as the bus's own national lookup."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.transports import AsyncTransport

from adapters.dialects import soap
from formats.dates import parse_ddmmyyyy
from lgsp.settings import Settings
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.audit import comparable_trail
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, DialectSettings, bearer, bearer_json

pytestmark = pytest.mark.anyio

ENDPOINT = f"{KG}/soap/{soap.OPERATION}"
NHAN_THAN = f"{KG}/soap/{soap.NHAN_THAN_OPERATION}"


@pytest.fixture
def settings(dialect_settings: DialectSettings) -> Settings:
    return dialect_settings({"kiengiang": ("bus", "soap")})


def citizen(settings: Settings) -> CitizenRecord:
    return generate_citizens(province_code="82", seed=settings.seed, count=1)[0]


def wrong_claim(person: CitizenRecord, wrong: str) -> tuple[str, str]:
    """The citizen's number and name, the one `wrong` names swapped for one no record holds."""
    number = "082199999999" if wrong == "number" else person.so_dinh_danh
    name = "Nguyễn Văn Không" if wrong == "name" else person.ho_va_ten
    return number, name


def zeep_on(endpoint: str) -> Any:
    """A fixture: zeep on the WSDL the bus serves at `endpoint`, calling the bus in-process with
    the demo client's token."""

    @pytest.fixture
    async def served(
        client: httpx.AsyncClient, demo_token: str, tmp_path: Path
    ) -> AsyncIterator[zeep.AsyncClient]:
        wsdl_page = await client.get(endpoint, params={"wsdl": ""})
        assert wsdl_page.status_code == 200
        wsdl = tmp_path / "service.wsdl"
        wsdl.write_bytes(wsdl_page.content)
        http = httpx.AsyncClient(transport=client._transport, base_url=TEST_PUBLIC_URL)
        with httpx.Client() as loader:
            transport = AsyncTransport(client=http, wsdl_client=loader)
            http.headers.update(bearer(demo_token))  # after zeep has set its own headers
            yield zeep.AsyncClient(str(wsdl), transport=transport)
        await http.aclose()

    return served


service = zeep_on(ENDPOINT)
"""zeep on `XacThucThongTinCongDan`."""


def claim(number: str, name: str) -> dict[str, str]:
    return {
        "MaYeuCau": "req-1",
        "MaDichVu": "033",
        "MaCanBo": "VDXP_VPCP",
        "SoDinhDanh": number,
        "SoCMND": "",
        "HoVaTen": name,
    }


@pytest.mark.parametrize(
    ("endpoint", "namespaces"),
    [
        pytest.param(ENDPOINT, ["http://dancuquocgia.bca"], id="xac-thuc"),
        pytest.param(NHAN_THAN, [soap.NHAN_THAN_NAMESPACE, soap.DANCU_NAMESPACE], id="nhan-than"),
    ],
)
async def test_the_wsdl_names_the_sourced_namespaces_and_this_endpoint(
    client: httpx.AsyncClient, endpoint: str, namespaces: list[str]
) -> None:
    response = await client.get(endpoint, params={"wsdl": ""})

    assert response.headers["content-type"].startswith("text/xml")
    for namespace in namespaces:
        assert f'targetNamespace="{namespace}"'.encode() in response.content
    assert f'location="{TEST_PUBLIC_URL}{endpoint}"'.encode() in response.content


async def test_a_known_citizen_with_the_recorded_name_exists(
    service: zeep.AsyncClient, settings: Settings
) -> None:
    person = citizen(settings)

    found = await service.service.XacThucThongTinCongDan(
        **claim(person.so_dinh_danh, person.ho_va_ten.upper())
    )

    assert found is True


@pytest.mark.parametrize("wrong", ["name", "number"])
async def test_a_wrong_name_or_unknown_number_does_not(
    service: zeep.AsyncClient, settings: Settings, wrong: str
) -> None:
    number, name = wrong_claim(citizen(settings), wrong)

    assert await service.service.XacThucThongTinCongDan(**claim(number, name)) is False


async def assert_same_trail(client: httpx.AsyncClient, token: str, own: str, dialect: str) -> None:
    """The call in the dialect left the audit the call in the bus's own dialect left."""
    trails = [await comparable_trail(client, KG, token, rid) for rid in (own, dialect)]
    assert len(trails[0]) >= 2
    assert trails[1] == trails[0]


async def call_beside_own_lookup(
    client: httpx.AsyncClient, token: str, person: CitizenRecord, endpoint: str, envelope: bytes
) -> httpx.Response:
    """`person` looked up in the bus's own dialect, then `envelope` posted to `endpoint`: both
    must leave the same audit. Returns the SOAP answer."""
    operation = endpoint.rsplit("/", 1)[-1]
    own, dialect = f"own-{operation}", f"soap-{operation}"
    await client.get(
        f"{KG}/csdlqgdc/v1/citizens/{person.so_dinh_danh}",
        headers={**bearer(token), "X-Request-ID": own},
    )
    answered = await client.post(
        endpoint,
        content=envelope,
        headers={**bearer(token), "Content-Type": "text/xml", "X-Request-ID": dialect},
    )
    await assert_same_trail(client, token, own, dialect)
    return answered


def claim_envelope(cccd: str, full_name: str) -> bytes:
    """A `XacThucThongTinCongDan` SOAP request as a client that builds its XML by hand sends it."""
    return (
        f'<s:Envelope xmlns:s="{soap.SOAP_NAMESPACE}"><s:Body>'
        f'<d:XacThucThongTinCongDanRequest xmlns:d="{soap.NAMESPACE}">'
        "<d:MaYeuCau>1</d:MaYeuCau><d:MaDichVu>033</d:MaDichVu><d:MaCanBo>x</d:MaCanBo>"
        f"<d:SoDinhDanh>{cccd}</d:SoDinhDanh><d:SoCMND/><d:HoVaTen>{full_name}</d:HoVaTen>"
        "</d:XacThucThongTinCongDanRequest></s:Body></s:Envelope>"
    ).encode()


async def test_a_malformed_number_is_a_client_fault(service: zeep.AsyncClient) -> None:
    with pytest.raises(Fault) as raised:
        await service.service.XacThucThongTinCongDan(**claim("12345", "A"))

    assert raised.value.code.endswith("Client")
    assert "SoDinhDanh" in raised.value.message


async def test_the_lookup_leaves_the_same_audit_as_the_national_lookup(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    person = citizen(settings)
    envelope = claim_envelope(person.so_dinh_danh, person.ho_va_ten)

    answered = await call_beside_own_lookup(client, demo_token, person, ENDPOINT, envelope)

    assert b"<dan:TonTai>true</dan:TonTai>" in answered.content


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"<not-soap/>", {}),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', {}),
        (b"<" + b"a" * (soap.LIMITS.max_bytes + 10) + b"/>", {}),
        (b"", {"Authorization": "Bearer nope"}),
    ],
)
async def test_bad_requests_are_faults_with_a_request_id_and_no_internals(
    client: httpx.AsyncClient, demo_token: str, body: bytes, headers: dict[str, str]
) -> None:
    response = await client.post(
        ENDPOINT,
        content=body,
        headers={**bearer(demo_token), **headers, "X-Request-ID": "soap-bad"},
    )

    assert response.status_code == 500
    assert b"<faultcode>soap:Client</faultcode>" in response.content
    assert response.headers["x-request-id"] == "soap-bad"
    assert b"Traceback" not in response.content


async def test_without_a_token_the_fault_says_so(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    person = citizen(settings)
    envelope = claim_envelope(person.so_dinh_danh, "A")

    response = await client.post(ENDPOINT, content=envelope)

    assert response.status_code == 500
    assert b"<dan:MaLoi" in response.content
    assert b"INVALID_TOKEN" in response.content


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer forged"}], ids=["none", "bad"])
async def test_an_unauthenticated_body_is_refused_for_its_token_before_it_is_parsed(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post(ENDPOINT, content=b"<x/>", headers=headers)

    assert response.status_code == 500
    assert b">INVALID_TOKEN</dan:MaLoi>" in response.content
    assert b"SOAP_REQUEST_INVALID" not in response.content  # nothing of the parser


nhan_than = zeep_on(NHAN_THAN)
"""zeep on `XacMinhThongTinNhanThan`."""


def verification(number: str, name: str, born: str = "") -> dict[str, str]:
    """`XacMinhThongTinNhanThanRequest` (`anhnbt/lgsp`'s schema)."""
    return {
        "MaYeuCau": "req-2",
        "MaDVC": "1.001193",
        "MaTichHop": "LGSP",
        "MaDonVi": "000.00.01.H33",
        "MaCanBo": "CB01",
        "SoDinhDanh": number,
        "SoCMND": "",
        "HoVaTen": name,
        "NgayThangNamSinh": born,
    }


def nhan_than_envelope(fields: dict[str, str]) -> bytes:
    """A `XacMinhThongTinNhanThan` SOAP request as a client that builds its XML by hand sends it."""
    elements = "".join(f"<q:{k}>{v}</q:{k}>" for k, v in fields.items())
    return (
        f'<s:Envelope xmlns:s="{soap.SOAP_NAMESPACE}"><s:Body>'
        f'<q:XacMinhThongTinNhanThanRequest xmlns:q="{soap.NHAN_THAN_NAMESPACE}">{elements}'
        "</q:XacMinhThongTinNhanThanRequest></s:Body></s:Envelope>"
    ).encode()


def matching_nhan_than(person: CitizenRecord) -> bytes:
    """The SOAP `XacMinhThongTinNhanThan` that matches the citizen's record, birth date too."""
    return nhan_than_envelope(verification(person.so_dinh_danh, person.ho_va_ten, birth(person)))


def birth(person: CitizenRecord) -> str:
    return f"{parse_ddmmyyyy(person.ngay_thang_nam_sinh):%Y%m%d}"


async def test_nhan_than_answers_the_matching_citizen(
    nhan_than: zeep.AsyncClient, settings: Settings
) -> None:
    person = citizen(settings)

    found = await nhan_than.service.XacMinhThongTinNhanThan(
        **verification(person.so_dinh_danh, person.ho_va_ten, birth(person))
    )

    assert found.SoCongDan == 1
    (one,) = found.CongDan
    assert one.SoDinhDanh == person.so_dinh_danh
    assert " ".join(
        part for part in (one.HoVaTen.Ho, one.HoVaTen.ChuDem, one.HoVaTen.Ten) if part
    ) == " ".join(person.ho_va_ten.split())
    assert one.NgayThangNamSinh.NgayThangNam == birth(person)


@pytest.mark.parametrize("wrong", ["name", "number", "birth"])
async def test_nhan_than_answers_none_for_a_wrong_claim(
    nhan_than: zeep.AsyncClient, settings: Settings, wrong: str
) -> None:
    person = citizen(settings)
    number, name = wrong_claim(person, wrong)
    born = "19000101" if wrong == "birth" else birth(person)

    found = await nhan_than.service.XacMinhThongTinNhanThan(**verification(number, name, born))

    assert found.SoCongDan == 0
    assert not found.CongDan


@pytest.mark.parametrize(("number", "born"), [("12345", ""), ("082199999999", "2001-01-01")])
async def test_nhan_than_bad_fields_are_client_faults(
    nhan_than: zeep.AsyncClient, number: str, born: str
) -> None:
    with pytest.raises(Fault) as raised:
        await nhan_than.service.XacMinhThongTinNhanThan(**verification(number, "A", born))

    assert raised.value.code.endswith("Client")


async def test_nhan_than_leaves_the_same_audit_as_the_national_lookup(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    person = citizen(settings)
    envelope = nhan_than_envelope(verification(person.so_dinh_danh, person.ho_va_ten))

    answered = await call_beside_own_lookup(client, demo_token, person, NHAN_THAN, envelope)

    assert b'SoCongDan="1"' in answered.content


JSON_ACCEPT = {"Accept": "application/json", "Content-Type": "text/xml"}


async def test_the_json_wrapped_answer_is_the_plain_envelope_with_the_same_audit(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    person = citizen(settings)
    envelope = claim_envelope(person.so_dinh_danh, person.ho_va_ten)

    plain = await client.post(
        ENDPOINT,
        content=envelope,
        headers={**bearer(demo_token), "Content-Type": "text/xml", "X-Request-ID": "soap-plain"},
    )
    wrapped = await client.post(
        ENDPOINT,
        content=envelope,
        headers={**bearer(demo_token), **JSON_ACCEPT, "X-Request-ID": "soap-json"},
    )

    assert wrapped.status_code == 200
    assert wrapped.headers["content-type"].startswith("application/json")
    assert wrapped.json()["error_code"] == "0"
    assert wrapped.json()["message"].encode() == plain.content
    assert b"<dan:TonTai>true</dan:TonTai>" in plain.content
    await assert_same_trail(client, demo_token, "soap-plain", "soap-json")


async def test_nhan_than_json_wrapped_message_is_the_portals_soap_collection(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    person = citizen(settings)
    envelope = matching_nhan_than(person)

    wrapped = await client.post(
        NHAN_THAN, content=envelope, headers={**bearer(demo_token), **JSON_ACCEPT}
    )

    assert wrapped.json()["error_code"] == "0"
    # The path the Thanh Hóa portal reads (DOMAIN.md §5.2): Envelope/Body/CongdanCollection/CongDan.
    message = etree.fromstring(wrapped.json()["message"].encode())
    names = {"s": soap.SOAP_NAMESPACE, "d": soap.DANCU_NAMESPACE}
    (number,) = message.xpath(
        "/s:Envelope/s:Body/d:CongdanCollection/d:CongDan/d:SoDinhDanh/text()", namespaces=names
    )
    assert number == person.so_dinh_danh


async def test_a_json_wrapped_fault_is_the_plain_fault_with_an_error_code(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    envelope = claim_envelope("12345", "A")

    plain = await client.post(
        ENDPOINT, content=envelope, headers={**bearer(demo_token), "Content-Type": "text/xml"}
    )
    wrapped = await client.post(
        ENDPOINT,
        content=envelope,
        headers={**bearer(demo_token), **JSON_ACCEPT, "X-Request-ID": "soap-json-bad"},
    )

    assert plain.status_code == 500
    assert wrapped.status_code == 400
    assert wrapped.json()["error_code"] == "302"  # DATA_TYPE_INVALID, as `lgspaccesstoken`'s
    assert wrapped.json()["message"].encode() == plain.content
    assert b"<faultcode>soap:Client</faultcode>" in plain.content
    assert wrapped.headers["x-request-id"] == "soap-json-bad"


async def test_a_json_wrapped_call_without_a_token_is_refused_in_the_envelope(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    person = citizen(settings)

    wrapped = await client.post(
        ENDPOINT,
        content=claim_envelope(person.so_dinh_danh, person.ho_va_ten),
        headers={**JSON_ACCEPT, "X-Request-ID": "soap-json-anon"},
    )

    assert wrapped.status_code == 401
    assert wrapped.json()["error_code"] == "100"  # AUTHEN_ERROR, as `lgspaccesstoken`'s
    fault = etree.fromstring(wrapped.json()["message"].encode())
    body = f"{{{soap.SOAP_NAMESPACE}}}Body/{{{soap.SOAP_NAMESPACE}}}Fault/faultcode"
    assert fault.findtext(body) == "soap:Client"
    assert "INVALID_TOKEN" in wrapped.json()["message"]
    assert "<dan:TonTai>" not in wrapped.json()["message"]
    assert wrapped.headers["x-request-id"] == "soap-json-anon"


def portal_request(number: str, name: str, born: str = "") -> dict[str, str]:
    """The Thanh Hóa portal's request (DOMAIN.md §5.2, `CSDLDanCuDto.cs`)."""
    return {
        "HoVaTen": name,
        "SoDinhDanh": number,
        "SoCMND": "",
        "NgayThangNam": born,
        "Nam": born[:4],
        "MaTichHop": "LGSP",
        "MaDVC": "1.001193",
        "MaCanBo": "CB01",
        "MaYeuCau": "req-3",
    }


async def test_the_portals_json_request_answers_the_same_collection_and_audit(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    person = citizen(settings)
    soap_call = matching_nhan_than(person)

    await client.post(
        NHAN_THAN,
        content=soap_call,
        headers={**bearer(demo_token), "Content-Type": "text/xml", "X-Request-ID": "nt-plain"},
    )
    answered = await client.post(
        NHAN_THAN,
        json=portal_request(person.so_dinh_danh, person.ho_va_ten, birth(person)),
        headers={**bearer(demo_token), "X-Request-ID": "nt-portal"},
    )

    assert answered.status_code == 200
    assert answered.json()["error_code"] == "0"
    message = etree.fromstring(answered.json()["message"].encode())
    names = {"s": soap.SOAP_NAMESPACE, "d": soap.DANCU_NAMESPACE}
    assert message.xpath("/s:Envelope/s:Body/d:CongdanCollection/@SoCongDan", namespaces=names) == [
        "1"
    ]
    await assert_same_trail(client, demo_token, "nt-plain", "nt-portal")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 10_000,  # within the size limit, deeper than the parser recurses
        b"[]",
        json.dumps({"SoDinhDanh": "12345", "HoVaTen": "A"}).encode(),
        json.dumps({"SoDinhDanh": 82199999999, "HoVaTen": "A"}).encode(),
        json.dumps({"SoDinhDanh": "082199999999", "NgayThangNam": "2001-01-01"}).encode(),
    ],
)
async def test_a_bad_portal_request_is_a_wrapped_client_fault(
    client: httpx.AsyncClient, demo_token: str, body: bytes
) -> None:
    answered = await client.post(NHAN_THAN, content=body, headers=bearer_json(demo_token))

    assert answered.status_code in (400, 413)
    assert answered.json()["error_code"] == "302"
    assert "<faultcode>soap:Client</faultcode>" in answered.json()["message"]
    assert "Traceback" not in answered.text
