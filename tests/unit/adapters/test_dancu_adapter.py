"""The dancu adapter: canonical request to the mock's path, the mock's envelope back to JSON."""

from __future__ import annotations

import json
import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import ADAPTERS, UnknownOperation, UnsupportedMediaType
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.dancu import (
    CitizenNotFound,
    DancuAdapter,
    InvalidVerificationRequest,
    UpstreamAnswerInvalid,
    _citizen_by_field,
    citizen_to_canonical,
)
from formats.cccd import InvalidCccd
from formats.dates import parse_ddmmyyyy

CCCD = "091087000123"
TODAY = date(2025, 6, 1)


def sample_record() -> dict[str, Any]:
    return {
        "SoDinhDanh": CCCD,
        "HoVaTen": "Nguyễn Văn An",
        "NgayThangNamSinh": "05/03/1987",
        "GioiTinh": "1",
        "DanToc": "Kinh",
        "QuocTich": "VN",
        "ThuongTru": {
            "MaTinhThanh": "91",
            "TenTinhThanh": "Tỉnh Kiên Giang",
            "MaQuanHuyen": "899",
            "TenQuanHuyen": "Thành phố Rạch Giá",
            "MaPhuongXa": "30733",
            "TenPhuongXa": "Phường Vĩnh Thanh",
            "ChiTiet": "Số 12 đường Trần Phú",
            "QuocGia": "VN",
        },
        "ChuHo": {"QuanHe": "Chủ hộ", "SoDinhDanh": CCCD, "HoVaTen": "Nguyễn Văn An"},
        "MaHo": "30733-00001",
    }


def envelope(status: int, error_code: str, message: str, data: Any = None) -> SystemResponse:
    body = {"error_code": error_code, "message": message, "data": data}
    return SystemResponse(status, json.dumps(body).encode(), "application/json")


def lookup(cccd: str = CCCD, operation: str = "get_citizen") -> CanonicalRequest:
    return CanonicalRequest(operation=operation, path_params={"cccd": cccd})


@pytest.fixture(name="adapter")
def fx_adapter() -> DancuAdapter:
    return DancuAdapter(today=lambda: TODAY)


def test_an_answer_handed_over_built_is_read_without_parsing_its_body(
    adapter: DancuAdapter,
) -> None:
    """An embedded system's answer comes with its JSON value (`SystemResponse.document`): the
    adapter reads that value, the same answer as from the body it renders."""
    parsed = envelope(200, "0", "OK", sample_record())
    built = SystemResponse(
        200, b"(not parsed)", "application/json", document=json.loads(parsed.body)
    )

    assert adapter.to_canonical(lookup(), built) == adapter.to_canonical(lookup(), parsed)


def test_registry_maps_the_catalog_name_to_the_adapter() -> None:
    assert ADAPTERS["dancu"] is DancuAdapter


def test_lookup_becomes_a_get_of_the_mock_citizen_path(adapter: DancuAdapter) -> None:
    request = adapter.to_system(lookup())

    assert (request.method, request.path, request.body) == ("GET", f"/api/congdan/{CCCD}", b"")
    assert request.headers == {"Accept": "application/json"}


@pytest.mark.parametrize(
    ("cccd", "rule"),
    [("12345", "format"), ("999087000123", "province_code"), ("091226000123", "birth_year")],
)
def test_bad_number_is_refused_before_any_call(adapter: DancuAdapter, cccd: str, rule: str) -> None:
    with pytest.raises(InvalidCccd) as raised:
        adapter.to_system(lookup(cccd))

    assert raised.value.rule == rule
    assert raised.value.status == 422


def test_the_injected_clock_decides_which_birth_years_are_future() -> None:
    born_2026 = "091226000123"
    next_year = DancuAdapter(today=lambda: date(2026, 1, 1))

    assert next_year.to_system(lookup(born_2026)).path == f"/api/congdan/{born_2026}"
    with pytest.raises(InvalidCccd):
        DancuAdapter(today=lambda: TODAY).to_system(lookup(born_2026))


def test_sample_record_translates_to_canonical_json() -> None:
    assert citizen_to_canonical(sample_record()) == {
        "cccd": CCCD,
        "full_name": "Nguyễn Văn An",
        "date_of_birth": "1987-03-05",
        "gender": "male",
        "permanent_address": {
            "province_code": "91",
            "province": "Tỉnh Kiên Giang",
            "district_code": "899",
            "district": "Thành phố Rạch Giá",
            "commune_code": "30733",
            "commune": "Phường Vĩnh Thanh",
            "street": "Số 12 đường Trần Phú",
            "country": "VN",
        },
    }


def test_gender_two_is_female() -> None:
    assert citizen_to_canonical({**sample_record(), "GioiTinh": "2"})["gender"] == "female"


def test_record_without_a_district_keeps_it_null() -> None:
    # The district level ended on 1 July 2025 (DOMAIN.md §6.1).
    record = sample_record()
    del record["ThuongTru"]["MaQuanHuyen"]
    record["ThuongTru"]["TenQuanHuyen"] = None

    address = citizen_to_canonical(record)["permanent_address"]

    assert (address["district_code"], address["district"]) == (None, None)


_ABSENT = object()
"""A field left out of the record (a mutation below)."""

_FIELD_VALUES = st.one_of(
    st.just(_ABSENT),
    st.none(),
    st.booleans(),
    st.integers(-1, 1),
    st.sampled_from(["", "1", "2", "3", "05/03/1987", "31/02/1987", "1987-03-05", "Kinh"]),
    st.text(max_size=3),
    st.lists(st.just("1"), max_size=1),
    st.dictionaries(st.sampled_from(["MaTinhCu", "MaTinhThanh"]), st.just("91"), max_size=1),
)


def _full_record() -> dict[str, Any]:
    """The sample with both of era 2026's blocks, so that every branch of the reading is met."""
    record = sample_record()
    units = {"MaTinhThanh": "91", "TenTinhThanh": "Tỉnh Kiên Giang", "MaQuanHuyen": "899"}
    units |= {"TenQuanHuyen": "Rạch Giá", "MaPhuongXa": "30733", "TenPhuongXa": "Vĩnh Thanh"}
    record["ThuongTru"]["legacy"] = units
    record["NoiDangKyKhaiSinh"] = {
        "MaTinhCu": "91",
        "TenTinhCu": "Tỉnh Kiên Giang",
        "MaTinhHienNay": "91",
        "TenTinhHienNay": "Tỉnh An Giang",
    }
    return record


def _where(record: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every (object, key) of the record, the fields of its blocks still there included."""
    address = record.get("ThuongTru")
    blocks = [record, address, record.get("NoiDangKyKhaiSinh")]
    blocks.append(address.get("legacy") if isinstance(address, dict) else None)
    return [(block, key) for block in blocks if isinstance(block, dict) for key in list(block)]


def _outcome(read: Any, record: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "answer", read(record)
    except UpstreamAnswerInvalid as refused:
        return "refused", refused.detail


@given(st.lists(st.tuples(st.integers(0, 40), _FIELD_VALUES), min_size=1, max_size=3))
def test_a_record_read_at_once_is_read_as_field_by_field(changes: list[tuple[int, Any]]) -> None:
    """The one-go reading of a record answers exactly what the field-by-field one does: the
    same canonical record, or a refusal naming the same field."""
    record = _full_record()
    for index, value in changes:
        places = _where(record)
        block, key = places[index % len(places)]
        if value is _ABSENT:
            del block[key]
        else:
            block[key] = value

    assert _outcome(citizen_to_canonical, record) == _outcome(_citizen_by_field, record)


@pytest.mark.parametrize("data", [None, [], "", 0, True], ids=repr)
def test_a_success_without_an_object_is_an_answer_without_a_record(
    adapter: DancuAdapter, data: Any
) -> None:
    with pytest.raises(UpstreamAnswerInvalid) as raised:
        adapter.to_canonical(lookup(), envelope(200, "0", "OK", data))

    assert raised.value.detail == "The citizen database answered OK without a record."


def test_found_citizen_is_a_200_with_canonical_content(adapter: DancuAdapter) -> None:
    answer = adapter.to_canonical(lookup(), envelope(200, "0", "OK", sample_record()))

    assert answer.status == 200
    assert answer.content == citizen_to_canonical(sample_record())


@pytest.mark.parametrize("status", [404, 200])
def test_record_not_found_becomes_citizen_not_found(adapter: DancuAdapter, status: int) -> None:
    with pytest.raises(CitizenNotFound) as raised:
        adapter.to_canonical(lookup(), envelope(status, "201", "RECORD_NOT_FOUND"))

    error = raised.value
    assert (error.code, error.status) == ("CITIZEN_NOT_FOUND", 404)
    assert error.title == "Citizen not found"
    assert CCCD not in error.detail


def test_data_type_invalid_becomes_invalid_cccd_format(adapter: DancuAdapter) -> None:
    answer = envelope(400, "302", "DATA_TYPE_INVALID: A CCCD number is exactly 12 digits")

    with pytest.raises(InvalidCccd) as raised:
        adapter.to_canonical(lookup(), answer)

    assert raised.value.rule == "format"
    assert raised.value.extensions == {"rule": "format"}


@pytest.mark.parametrize(
    "response",
    [
        SystemResponse(200, b"<html>gateway error</html>", "text/html"),
        SystemResponse(200, b"", None),
        SystemResponse(200, b"\xff\xfe", "application/json"),
        SystemResponse(200, b"[]", "application/json"),
        SystemResponse(200, b"[" * 100_000, "application/json"),
        SystemResponse(500, b'{"error_code": "500", "message": "DATA_INCORRECT"}', None),
        envelope(404, "404", "NOT_FOUND"),  # a route the mock does not serve
        envelope(404, "302", "DATA_TYPE_INVALID"),
        envelope(200, "0", "OK", None),
        envelope(200, "0", "OK", {**sample_record(), "GioiTinh": "3"}),
        envelope(200, "0", "OK", {**sample_record(), "NgayThangNamSinh": "1987-03-05"}),
        envelope(200, "0", "OK", {**sample_record(), "ThuongTru": "Rạch Giá"}),
        envelope(200, "0", "OK", {k: v for k, v in sample_record().items() if k != "HoVaTen"}),
        envelope(200, "0", "OK", {**sample_record(), "SoDinhDanh": 91087000123}),
    ],
)
def test_anything_else_is_an_invalid_upstream_answer(
    adapter: DancuAdapter, response: SystemResponse
) -> None:
    with pytest.raises(UpstreamAnswerInvalid) as raised:
        adapter.to_canonical(lookup(), response)

    error = raised.value
    assert (error.code, error.status) == ("UPSTREAM_INVALID_RESPONSE", 502)
    assert CCCD not in error.detail
    assert "05/03/1987" not in error.detail


def test_unknown_operation_is_not_supported_in_either_direction(adapter: DancuAdapter) -> None:
    request = lookup(operation="list_citizens")

    with pytest.raises(UnknownOperation) as outbound:
        adapter.to_system(request)
    with pytest.raises(UnknownOperation) as inbound:
        adapter.to_canonical(request, envelope(200, "0", "OK", sample_record()))

    for raised in (outbound, inbound):
        assert isinstance(raised.value, TranslationError)
        assert (raised.value.code, raised.value.status) == ("OPERATION_NOT_SUPPORTED", 501)
        assert "list_citizens" in raised.value.detail


def test_every_catalog_operation_has_a_translation(adapter: DancuAdapter) -> None:
    catalog = tomllib.loads(
        (Path(__file__).parents[3] / "services" / "dancu.toml").read_text(encoding="utf-8")
    )
    claim = json.dumps({"cccd": CCCD, "full_name": "A", "date_of_birth": "1987-03-05"})

    for operation in catalog["operations"]:
        request = CanonicalRequest(
            operation["id"], {"cccd": CCCD}, body=claim.encode(), content_type="application/json"
        )
        assert adapter.to_system(request).path.startswith("/api/")


# --- verify_citizen -------------------------------------------------------------------------

CLAIM = {"cccd": CCCD, "full_name": "Nguyễn Văn An", "date_of_birth": "1987-03-05"}
VERIFIED = ("HoVaTen", "NgayThangNamSinh")


def verify(body: Any = CLAIM, content_type: str | None = "application/json") -> CanonicalRequest:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return CanonicalRequest("verify_citizen", {}, body=raw, content_type=content_type)


def test_claim_becomes_a_post_of_the_legacy_verification(adapter: DancuAdapter) -> None:
    request = adapter.to_system(verify())

    assert (request.method, request.path) == ("POST", "/api/congdan/xac-thuc")
    assert request.headers == {"Accept": "application/json", "Content-Type": "application/json"}
    assert json.loads(request.body) == {
        "SoDinhDanh": CCCD,
        "HoVaTen": "Nguyễn Văn An",
        "NgayThangNamSinh": "05/03/1987",
    }


def test_claimed_name_is_passed_as_given_for_the_system_to_compare(
    adapter: DancuAdapter,
) -> None:
    name = unicodedata.normalize("NFD", "  nguyễn  VĂN an ")

    request = adapter.to_system(verify({**CLAIM, "full_name": name}))

    assert json.loads(request.body)["HoVaTen"] == name


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31)))
def test_claimed_date_survives_the_round_trip_through_dd_mm_yyyy(born: date) -> None:
    adapter = DancuAdapter(today=lambda: TODAY)
    claim = {**CLAIM, "date_of_birth": born.isoformat()}

    sent = json.loads(adapter.to_system(verify(claim)).body)["NgayThangNamSinh"]

    assert parse_ddmmyyyy(sent) == born


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_media_type_is_accepted_with_parameters_and_any_case(
    adapter: DancuAdapter, content_type: str
) -> None:
    assert adapter.to_system(verify(content_type=content_type)).method == "POST"


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonp"],
)
def test_claim_that_is_not_declared_json_is_unsupported_media_type(
    adapter: DancuAdapter, content_type: str | None
) -> None:
    with pytest.raises(UnsupportedMediaType) as raised:
        adapter.to_system(verify(content_type=content_type))

    error = raised.value
    assert (error.code, error.status) == ("UNSUPPORTED_MEDIA_TYPE", 415)
    assert error.extensions == {"supported": ["application/json"]}


WITHOUT_NAME = {k: v for k, v in CLAIM.items() if k != "full_name"}
DOB = "date_of_birth"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", [("", "json_invalid")]),
        (b"", [("", "json_invalid")]),
        (b"\xff\xfe", [("", "json_invalid")]),
        (b"[]", [("", "model_type")]),
        (b'"Nguy\xe1\xbb\x85n V\xc4\x83n An"', [("", "model_type")]),
        ({}, [("cccd", "missing"), ("full_name", "missing"), (DOB, "missing")]),
        (WITHOUT_NAME, [("full_name", "missing")]),
        ({**CLAIM, "cccd": 91087000123}, [("cccd", "string_type")]),
        ({**CLAIM, "full_name": None}, [("full_name", "string_type")]),
        ({**CLAIM, "full_name": " \t "}, [("full_name", "string_pattern_mismatch")]),
        ({**CLAIM, "full_name": "A" * 201}, [("full_name", "string_too_long")]),
        ({**CLAIM, DOB: "05/03/1987"}, [(DOB, "date_parsing")]),
        ({**CLAIM, DOB: "1987-02-30"}, [(DOB, "date_parsing")]),
        ({**CLAIM, DOB: "1987-03-05T00:00:00"}, [(DOB, "date_parsing")]),
        ({**CLAIM, DOB: 19870305}, [(DOB, "date_type")]),
        ({**CLAIM, "gender": "male"}, [("gender", "extra_forbidden")]),
    ],
)
def test_malformed_claim_is_invalid_naming_each_field(
    adapter: DancuAdapter, body: Any, expected: list[tuple[str, str]]
) -> None:
    with pytest.raises(InvalidVerificationRequest) as raised:
        adapter.to_system(verify(body))

    error = raised.value
    assert (error.code, error.status) == ("INVALID_VERIFICATION_REQUEST", 422)
    assert [(e["loc"], e["type"]) for e in error.errors] == [
        (["body", field] if field else ["body"], kind) for field, kind in expected
    ]
    assert error.extensions == {"errors": error.errors}
    assert all(set(e) == {"loc", "msg", "type"} for e in error.errors)  # never the input
    shown = json.dumps(error.extensions, ensure_ascii=False) + error.detail
    assert "Nguyễn" not in shown
    assert CCCD not in shown


@pytest.mark.parametrize(
    ("cccd", "rule"),
    [("12345", "format"), ("999087000123", "province_code"), ("091226000123", "birth_year")],
)
def test_claim_with_a_bad_number_is_refused_before_any_call(
    adapter: DancuAdapter, cccd: str, rule: str
) -> None:
    with pytest.raises(InvalidCccd) as raised:
        adapter.to_system(verify({**CLAIM, "cccd": cccd}))

    assert (raised.value.status, raised.value.rule) == (422, rule)


def test_media_type_is_checked_before_the_body(adapter: DancuAdapter) -> None:
    with pytest.raises(UnsupportedMediaType):
        adapter.to_system(verify(b"{not json", content_type="text/plain"))


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"TonTai": True, "TruongKhongKhop": []}, {"match": True}),
        ({"TonTai": True}, {"match": True}),
        # Which field differs is not passed on (SECURITY-PROBE F15).
        (
            {"TonTai": False, "TruongKhongKhop": ["HoVaTen"]},
            {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]},
        ),
        (
            {"TonTai": False, "TruongKhongKhop": ["NgayThangNamSinh"]},
            {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]},
        ),
        (
            {"TonTai": False, "TruongKhongKhop": ["NgayThangNamSinh", "HoVaTen"]},
            {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]},
        ),
        # The real KetQuaXacThucResponse names no field (DOMAIN.md §5.1): both are unconfirmed.
        ({"TonTai": False}, {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]}),
    ],
)
def test_verification_result_translates_without_recorded_values(
    adapter: DancuAdapter, result: dict[str, Any], expected: dict[str, Any]
) -> None:
    answer = adapter.to_canonical(verify(), envelope(200, "0", "OK", result))

    assert (answer.status, answer.content) == (200, expected)


@pytest.mark.parametrize("status", [404, 200])
def test_record_not_found_on_verification_looks_like_a_claim_wrong_in_every_field(
    adapter: DancuAdapter, status: int
) -> None:
    """A system that does say RECORD_NOT_FOUND must not let callers enumerate numbers."""
    unknown = adapter.to_canonical(verify(), envelope(status, "201", "RECORD_NOT_FOUND"))
    both_wrong = adapter.to_canonical(
        verify(),
        envelope(200, "0", "OK", {"TonTai": False, "TruongKhongKhop": list(VERIFIED)}),
    )

    assert unknown == both_wrong


def test_data_type_invalid_on_verification_is_an_invalid_request(adapter: DancuAdapter) -> None:
    with pytest.raises(InvalidVerificationRequest) as raised:
        adapter.to_canonical(verify(), envelope(400, "302", "DATA_TYPE_INVALID"))

    assert raised.value.status == 422
    assert raised.value.errors[0]["loc"] == ["body"]


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {},
        {"TonTai": "true", "TruongKhongKhop": []},
        {"TonTai": 1, "TruongKhongKhop": []},
        {"TonTai": False, "TruongKhongKhop": ["SoDinhDanh"]},  # would say the number is unknown
        {"TonTai": False, "TruongKhongKhop": "HoVaTen"},
        {"TonTai": False, "TruongKhongKhop": []},
        {"TonTai": True, "TruongKhongKhop": ["HoVaTen"]},
    ],
)
def test_unreadable_verification_result_is_an_invalid_upstream_answer(
    adapter: DancuAdapter, data: Any
) -> None:
    with pytest.raises(UpstreamAnswerInvalid):
        adapter.to_canonical(verify(), envelope(200, "0", "OK", data))


# --- get_household --------------------------------------------------------------------------

WIFE, SON, MOTHER, NEPHEW = "091189000124", "091212000125", "091160000126", "091015000127"


def member(number: str, name: str, born: str, gender: str, relation: str) -> dict[str, Any]:
    return {
        **sample_record(),
        "SoDinhDanh": number,
        "HoVaTen": name,
        "NgayThangNamSinh": born,
        "GioiTinh": gender,
        "ChuHo": {"QuanHe": relation, "SoDinhDanh": CCCD, "HoVaTen": "Nguyễn Văn An"},
    }


def sample_household() -> dict[str, Any]:
    members = [
        member(CCCD, "Nguyễn Văn An", "05/03/1987", "1", "Chủ hộ"),
        member(WIFE, "Trần Thị Lan", "12/11/1989", "2", "Vợ"),
        member(SON, "Nguyễn Minh Khoa", "01/09/2012", "1", "Con"),
        member(MOTHER, "Lê Thị Hoa", "30/04/1960", "2", "Mẹ"),
        member(NEPHEW, "Nguyễn Văn Huy", "02/02/2015", "1", "Cháu"),
    ]
    return {"MaHo": "30733-00001", "SoThanhVien": len(members), "ThanhVien": members}


def household(cccd: str = CCCD) -> CanonicalRequest:
    return CanonicalRequest("get_household", {"cccd": cccd})


def test_household_lookup_is_a_get_of_the_citizen_household_path(adapter: DancuAdapter) -> None:
    request = adapter.to_system(household())

    assert (request.method, request.path, request.body) == ("GET", f"/api/congdan/{CCCD}/ho", b"")


@pytest.mark.parametrize("cccd", ["12345", "999087000123", "091226000123", "../ho/1"])
def test_household_of_a_bad_number_is_refused_before_any_call(
    adapter: DancuAdapter, cccd: str
) -> None:
    with pytest.raises(InvalidCccd):
        adapter.to_system(household(cccd))


def test_household_translates_members_and_relationships(adapter: DancuAdapter) -> None:
    answer = adapter.to_canonical(household(), envelope(200, "0", "OK", sample_household()))

    assert answer.status == 200
    assert answer.content == {
        "household_id": "30733-00001",
        "head_cccd": CCCD,
        "members": [
            {"cccd": CCCD, "full_name": "Nguyễn Văn An", "relationship": "head",
             "date_of_birth": "1987-03-05", "gender": "male"},
            {"cccd": WIFE, "full_name": "Trần Thị Lan", "relationship": "spouse",
             "date_of_birth": "1989-11-12", "gender": "female"},
            {"cccd": SON, "full_name": "Nguyễn Minh Khoa", "relationship": "child",
             "date_of_birth": "2012-09-01", "gender": "male"},
            {"cccd": MOTHER, "full_name": "Lê Thị Hoa", "relationship": "parent",
             "date_of_birth": "1960-04-30", "gender": "female"},
            {"cccd": NEPHEW, "full_name": "Nguyễn Văn Huy", "relationship": "other",
             "date_of_birth": "2015-02-02", "gender": "male"},
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("relation", "relationship"),
    [
        ("Chủ hộ", "head"),
        (unicodedata.normalize("NFD", "Chủ hộ"), "head"),
        ("Vợ", "spouse"),
        ("Chồng", "spouse"),
        ("Con", "child"),
        ("Cha", "parent"),
        ("Mẹ", "parent"),
        ("Con dâu", "other"),
        ("Ông nội", "other"),
        ("", "other"),
    ],
)
def test_relation_to_the_head_maps_to_a_canonical_relationship(
    adapter: DancuAdapter, relation: str, relationship: str
) -> None:
    data = sample_household()
    data["ThanhVien"][1]["ChuHo"]["QuanHe"] = relation

    members = adapter.to_canonical(household(), envelope(200, "0", "OK", data)).content["members"]

    assert members[1]["relationship"] == relationship


@pytest.mark.parametrize("status", [404, 200])
def test_household_of_an_unknown_citizen_is_citizen_not_found(
    adapter: DancuAdapter, status: int
) -> None:
    with pytest.raises(CitizenNotFound):
        adapter.to_canonical(household(), envelope(status, "201", "RECORD_NOT_FOUND"))


def test_household_data_type_invalid_is_invalid_cccd(adapter: DancuAdapter) -> None:
    with pytest.raises(InvalidCccd):
        adapter.to_canonical(household(), envelope(400, "302", "DATA_TYPE_INVALID"))


def broken_household(change: str) -> dict[str, Any]:
    data = sample_household()
    members = data["ThanhVien"]
    if change == "no members":
        del data["ThanhVien"]
    elif change == "empty":
        data["ThanhVien"] = []
    elif change == "member not a record":
        members[1] = CCCD
    elif change == "no ChuHo":
        del members[2]["ChuHo"]
    elif change == "heads disagree":
        members[2]["ChuHo"]["SoDinhDanh"] = WIFE
    elif change == "QuanHe missing":
        del members[3]["ChuHo"]["QuanHe"]
    elif change == "no MaHo":
        del data["MaHo"]
    elif change == "member without a date":
        del members[4]["NgayThangNamSinh"]
    return data


@pytest.mark.parametrize(
    "change",
    [
        "no members",
        "empty",
        "member not a record",
        "no ChuHo",
        "heads disagree",
        "QuanHe missing",
        "no MaHo",
        "member without a date",
    ],
)
def test_unreadable_household_is_an_invalid_upstream_answer(
    adapter: DancuAdapter, change: str
) -> None:
    with pytest.raises(UpstreamAnswerInvalid) as raised:
        adapter.to_canonical(household(), envelope(200, "0", "OK", broken_household(change)))

    assert CCCD not in raised.value.detail
