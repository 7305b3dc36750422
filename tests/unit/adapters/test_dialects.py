"""The dialects' pure translations: paths, credentials and error shapes."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.dialects import apim, soap
from adapters.dialects import lgspaccesstoken as lat


@pytest.mark.parametrize(
    ("context", "version", "resource", "expected"),
    [
        ("dancu", "1.0", "citizens/091", ("dancu", "v1", "citizens/091")),
        ("dldc", "1.0.0", "gioitinh", ("dldc", "v1", "gioitinh")),
        ("dmdc", "1.0", "AllCategory", ("dmdc", "v1", "AllCategory")),
        ("dancu", "v1", "x", ("dancu", "v1", "x")),
        ("dancu", "2.1", "x", ("dancu", "2.1", "x")),
    ],
)
def test_api_paths_map_onto_the_bus_paths(
    context: str, version: str, resource: str, expected: tuple[str, str, str]
) -> None:
    assert apim.bus_path(context, version, resource) == expected


@pytest.mark.parametrize(
    ("authorization", "token"),
    [
        ("Bearer 49d61ed6-a9e8-3755-81cd-8395ee511c87", "49d61ed6-a9e8-3755-81cd-8395ee511c87"),
        ("bearer  49d61ed6-a9e8-3755-81cd-8395ee511c87 ", "49d61ed6-a9e8-3755-81cd-8395ee511c87"),
        ("Bearer eyJhbGciOiJSUzI1NiJ9.e30.x", None),
        ("Basic 49d61ed6-a9e8-3755-81cd-8395ee511c87", None),
        ("Bearer " + "a" * 10_000, None),
        ("", None),
    ],
)
def test_only_api_manager_shaped_tokens_are_taken(authorization: str, token: str | None) -> None:
    assert apim.opaque_token(authorization) == token


@pytest.mark.parametrize(
    ("status", "sent", "code"),
    [(401, False, 900902), (401, True, 900901), (403, True, 900908), (429, True, 900800)]
    + [(404, True, 900906)],
)
def test_refusals_have_api_manager_codes(status: int, sent: bool, code: int) -> None:
    fault = apim.fault_for(status, credentials_sent=sent)

    assert fault is not None
    assert json.loads(fault.body())["fault"]["code"] == code


@pytest.mark.parametrize("status", [400, 409, 422, 500, 502, 503, 504])
def test_what_api_manager_cannot_express_stays_the_bus_problem(status: int) -> None:
    assert apim.fault_for(status, credentials_sent=True) is None


def test_token_response_has_the_api_manager_shape() -> None:
    assert apim.token_response("t", 3600) == {
        "access_token": "t",
        "scope": "default",
        "token_type": "Bearer",
        "expires_in": 3600,
    }


texts = st.text(max_size=lat.MAX_FIELD_LENGTH // 4)


@settings(deadline=None)  # a shared 2-core machine's load, not this pure code, sets its time
@given(texts, texts.filter(bool), texts.filter(bool), texts, texts)
def test_header_round_trips(app: str, key: str, secret: str, partner: str, cus: str) -> None:
    token = lat.AccessToken(app, key, secret, partner, cus)

    assert lat.parse(lat.encode(token)) == token


def _b64(document: object) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


@pytest.mark.parametrize(
    "value",
    [
        "",
        "%%%",
        base64.b64encode(b"\xff").decode(),
        _b64([]),
        _b64({"AccessKey": "a"}),
        _b64({"AccessKey": "a", "SecretKey": 1}),
        _b64({"AccessKey": "a", "SecretKey": "b", "AppName": "x" * 201}),
        "A" * (lat.MAX_HEADER_LENGTH + 1),
        base64.b64encode(b"[" * 1500).decode(),  # nested past the stack (finding 8)
    ],
)
def test_a_bad_header_is_refused_with_a_reason(value: str) -> None:
    with pytest.raises(lat.HeaderError):
        lat.parse(value)


def test_the_secret_never_shows_in_a_repr() -> None:
    token = lat.parse(_b64({"AccessKey": "key", "SecretKey": "s3cr3t-value"}))

    assert "s3cr3t-value" not in repr(token)
    assert token.secret_key == "s3cr3t-value"


@pytest.mark.parametrize(
    ("status", "problem_code", "code"),
    [
        (401, "INVALID_TOKEN", "100"),
        (403, "ACCESS_DENIED", "100"),
        (403, "ORGANISATION_MISMATCH", "106"),
        (404, "CITIZEN_NOT_FOUND", "201"),
        (422, "VALIDATION_FAILED", "302"),
        (503, "AUDIT_UNAVAILABLE", "500"),
    ],
)
def test_failures_carry_ngsp_codes(status: int, problem_code: str, code: str) -> None:
    assert lat.failure(status, "m", problem_code=problem_code) == {
        "error_code": code,
        "message": "m",
        "data": None,
    }


def _soap_request(number: str = "091048993438", extra: str = "") -> bytes:
    fields = "".join(
        f"<d:{name}>{value}</d:{name}>"
        for name, value in (
            ("MaYeuCau", "1"),
            ("MaDichVu", "033"),
            ("MaCanBo", "VDXP_VPCP"),
            ("SoDinhDanh", number),
            ("SoCMND", ""),
            ("HoVaTen", "Nguyễn Hữu Quang"),
        )
    )
    return (
        f'<s:Envelope xmlns:s="{soap.SOAP_NAMESPACE}"><s:Body>{extra}'
        f'<d:XacThucThongTinCongDanRequest xmlns:d="{soap.NAMESPACE}">{fields}'
        "</d:XacThucThongTinCongDanRequest></s:Body></s:Envelope>"
    ).encode()


def test_a_soap_request_is_read_field_by_field() -> None:
    claim = soap.parse_request(_soap_request())

    assert (claim.so_dinh_danh, claim.ho_va_ten, claim.ma_dich_vu) == (
        "091048993438",
        "Nguyễn Hữu Quang",
        "033",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<x/>",
        _soap_request("12345"),
        _soap_request().replace(b"<d:SoCMND></d:SoCMND>", b""),
        b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + _soap_request(),
        _soap_request(extra="<x>" * 20 + "</x>" * 20),
        _soap_request(extra="<p/>" * 100),
        _soap_request(extra="a" * soap.LIMITS.max_bytes),
        _soap_request().replace(b"http://dancuquocgia.bca", b"http://elsewhere"),
    ],
)
def test_anything_but_a_small_plain_request_is_refused(body: bytes) -> None:
    with pytest.raises(soap.SoapRequestError):
        soap.parse_request(body)


@pytest.mark.parametrize(
    ("claimed", "same"),
    [
        ("NGUYỄN HỮU QUANG", True),
        ("  Nguyễn   Hữu Quang ", True),
        ("Nguye\u0302\u0303n Hữu Quang", True),  # decomposed, as some keyboards write it
        ("Nguyễn Hữu", False),
        ("Nguyen Huu Quang", False),
    ],
)
def test_names_compare_up_to_normal_form_case_and_spacing(claimed: str, same: bool) -> None:
    assert soap.same_name(claimed, "Nguyễn Hữu Quang") is same


def test_the_wsdl_and_the_answers_are_well_formed() -> None:
    from formats._xml_guard import parse_xml

    assert parse_xml(soap.wsdl('http://x/"a"')).local == "definitions"
    assert parse_xml(soap.response(True)).local == "Envelope"
    fault = soap.fault(client=True, message="<b>&", code="X")
    assert parse_xml(fault).local == "Envelope"


@pytest.mark.parametrize(
    ("relative", "resource"),
    [
        ("/vdxp-product/1.0/sendEdoc", "sendEdoc"),
        ("/vdxp-product/1.0/registerAgency", "registerAgency"),
        ("/vdxp-product/1.0.0/sendEdoc", None),
        ("/dancu/1.0/citizens/091", None),
    ],
)
def test_the_vdxp_context_names_the_axis_resource(relative: str, resource: str | None) -> None:
    assert apim.vdxp_resource(relative) == resource


@pytest.mark.parametrize(
    ("status", "code", "fault"),
    [
        (401, "INVALID_TOKEN", 900901),
        (403, "ACCESS_DENIED", 900908),
        (403, "NOT_A_PARTY", None),  # the axis's own refusal: its form
        (404, "NOT_FOUND", None),
        (429, "RATE_LIMITED", 900800),
        (422, "INVALID_EDXML", None),
    ],
)
def test_only_the_gateways_refusals_are_api_manager_faults(
    status: int, code: str, fault: int | None
) -> None:
    found = apim.gateway_fault(status, code)

    assert (found.code if found else None) == fault
