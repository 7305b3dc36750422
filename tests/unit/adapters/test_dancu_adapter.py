"""The dancu adapter: canonical request to the mock's path, the mock's envelope back to JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from adapters import ADAPTERS
from adapters.base import CanonicalRequest, SystemResponse, TranslationError
from adapters.cccd import InvalidCccd
from adapters.dancu import (
    CitizenNotFound,
    DancuAdapter,
    UnknownOperation,
    UpstreamAnswerInvalid,
    citizen_to_canonical,
)

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
