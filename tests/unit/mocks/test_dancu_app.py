"""The mock citizen database's own HTTP API: legacy JSON in the NGSP envelope, errors included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from adapters.base import CanonicalRequest, SystemResponse
from adapters.dancu import DancuAdapter
from mocks.config import SystemConfig
from mocks.dancu.app import MAX_PAGE_SIZE, create_app
from mocks.dancu.seed import CitizenRecord, generate_citizens

pytestmark = pytest.mark.anyio

TODAY = date(2025, 6, 1)
CONFIG = SystemConfig(instance="kiengiang", province_code="91", seed=7, population=45)


@pytest.fixture(name="population")
def fx_population() -> list[CitizenRecord]:
    return generate_citizens(province_code="91", seed=7, count=45)


@pytest.fixture(name="app")
def fx_app() -> FastAPI:
    return create_app(CONFIG, today=lambda: TODAY)


@pytest.fixture(name="client")
async def fx_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dancu.test") as client:
        yield client


def assert_error(response: httpx.Response, status: int, error_code: str) -> str:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error_code", "message", "data"}
    assert body["error_code"] == error_code
    assert body["data"] is None
    message: str = body["message"]
    return message


async def test_known_citizen_is_served_in_legacy_json(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    citizen = population[1]

    response = await client.get(f"/api/congdan/{citizen.so_dinh_danh}")

    assert response.status_code == 200
    body = response.json()
    assert (body["error_code"], body["message"]) == ("0", "OK")
    data = body["data"]
    assert data["SoDinhDanh"] == citizen.so_dinh_danh
    assert data["HoVaTen"] == citizen.ho_va_ten
    assert data["NgayThangNamSinh"] == citizen.ngay_thang_nam_sinh
    assert data["GioiTinh"] in {"1", "2"}
    assert (data["DanToc"], data["QuocTich"]) == ("Kinh", "VN")
    assert data["ThuongTru"] == {
        "MaTinhThanh": "91",
        "TenTinhThanh": "Tỉnh Kiên Giang",
        "MaQuanHuyen": citizen.thuong_tru.ma_quan_huyen,
        "TenQuanHuyen": citizen.thuong_tru.ten_quan_huyen,
        "MaPhuongXa": citizen.thuong_tru.ma_phuong_xa,
        "TenPhuongXa": citizen.thuong_tru.ten_phuong_xa,
        "ChiTiet": citizen.thuong_tru.chi_tiet,
        "QuocGia": "VN",
    }
    assert data["ChuHo"] == {
        "QuanHe": citizen.quan_he_voi_chu_ho,
        "SoDinhDanh": population[0].so_dinh_danh,
        "HoVaTen": population[0].ho_va_ten,
    }
    assert data["MaHo"] == citizen.ma_ho


async def test_served_record_translates_through_the_adapter(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    """The mock and the adapter agree on the shape: the contract between them, end to end."""
    adapter = DancuAdapter(today=lambda: TODAY)
    request = CanonicalRequest("get_citizen", {"cccd": population[0].so_dinh_danh})
    system_request = adapter.to_system(request)

    response = await client.request(system_request.method, system_request.path)
    answer = adapter.to_canonical(request, SystemResponse(response.status_code, response.content))

    assert answer.content["cccd"] == population[0].so_dinh_danh
    assert answer.content["full_name"] == population[0].ho_va_ten


async def test_unknown_citizen_is_record_not_found(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    known = {c.so_dinh_danh for c in population}
    absent = next(f"0910870{n:05d}" for n in range(100_000) if f"0910870{n:05d}" not in known)

    response = await client.get(f"/api/congdan/{absent}")

    assert assert_error(response, 404, "201") == "RECORD_NOT_FOUND"


async def test_citizen_of_another_province_is_not_found_here(client: httpx.AsyncClient) -> None:
    tien_giang = generate_citizens(province_code="82", seed=7, count=1)[0]

    response = await client.get(f"/api/congdan/{tien_giang.so_dinh_danh}")

    assert_error(response, 404, "201")


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("12345", "12 digits"),
        ("09108700012a", "12 digits"),
        ("999087000123", "not a province code"),
        ("091226000123", "birth year 2026"),
    ],
)
async def test_malformed_number_is_data_type_invalid(
    client: httpx.AsyncClient, number: str, words: str
) -> None:
    response = await client.get(f"/api/congdan/{number}")

    message = assert_error(response, 400, "302")
    assert message.startswith("DATA_TYPE_INVALID: ")
    assert words in message
    assert number not in message


async def test_the_clock_decides_which_birth_years_are_future() -> None:
    app = create_app(CONFIG, today=lambda: date(2026, 1, 1))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dancu.test") as client:
        response = await client.get("/api/congdan/091226000123")

    assert_error(response, 404, "201")


async def test_listing_pages_through_every_citizen_in_order(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    seen: list[str] = []
    for page in (1, 2, 3):
        response = await client.get("/api/congdan", params={"trang": page, "soBanGhi": 20})
        assert response.status_code == 200
        data = response.json()["data"]
        assert (data["TongSo"], data["Trang"], data["SoBanGhi"]) == (45, page, 20)
        seen += [record["SoDinhDanh"] for record in data["DanhSach"]]

    assert seen == [c.so_dinh_danh for c in population]


async def test_listing_defaults_to_the_first_twenty(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/congdan")).json()["data"]

    assert (data["Trang"], data["SoBanGhi"], len(data["DanhSach"])) == (1, 20, 20)


async def test_listing_past_the_end_is_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/congdan", params={"trang": 99, "soBanGhi": 20})

    assert response.status_code == 200
    assert response.json()["data"]["DanhSach"] == []
    assert response.json()["data"]["TongSo"] == 45


async def test_largest_page_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/congdan", params={"soBanGhi": MAX_PAGE_SIZE})

    assert response.status_code == 200
    assert len(response.json()["data"]["DanhSach"]) == 45


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"soBanGhi": MAX_PAGE_SIZE + 1}, "soBanGhi"),
        ({"soBanGhi": 0}, "soBanGhi"),
        ({"soBanGhi": "many"}, "soBanGhi"),
        ({"trang": 0}, "trang"),
        ({"trang": -1}, "trang"),
    ],
)
async def test_listing_bounds_are_data_type_invalid(
    client: httpx.AsyncClient, params: dict[str, object], field: str
) -> None:
    response = await client.get("/api/congdan", params=params)  # type: ignore[arg-type]

    message = assert_error(response, 400, "302")
    assert message.startswith(f"DATA_TYPE_INVALID: {field}: ")


async def test_household_lists_its_members_head_first(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    head = population[0]
    expected = [c.so_dinh_danh for c in population if c.ma_ho == head.ma_ho]

    response = await client.get(f"/api/ho/{head.ma_ho}")

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["MaHo"], data["SoThanhVien"]) == (head.ma_ho, len(expected))
    assert [member["SoDinhDanh"] for member in data["ThanhVien"]] == expected
    assert data["ThanhVien"][0]["ChuHo"]["QuanHe"] == "Chủ hộ"


async def test_unknown_household_is_record_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ho/00000-99999")

    assert assert_error(response, 404, "201") == "RECORD_NOT_FOUND"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("GET", "/nowhere", 404, "NOT_FOUND"),
        ("GET", "/api/congdanx/091087000123", 404, "NOT_FOUND"),
        ("POST", "/api/congdan/091087000123", 405, "METHOD_NOT_ALLOWED"),
        ("DELETE", "/api/congdan", 405, "METHOD_NOT_ALLOWED"),
    ],
)
async def test_unknown_routes_answer_in_the_envelope(
    client: httpx.AsyncClient, method: str, path: str, status: int, message: str
) -> None:
    response = await client.request(method, path)

    assert assert_error(response, status, str(status)) == message
    assert "091087000123" not in response.text


def test_mock_needs_a_province() -> None:
    with pytest.raises(ValueError, match="province_code"):
        create_app(SystemConfig(instance="ndxp"))


def test_mock_refuses_a_province_it_has_no_data_for() -> None:
    with pytest.raises(ValueError, match="no seed data for province '01'"):
        create_app(SystemConfig(instance="hanoi", province_code="01"))
