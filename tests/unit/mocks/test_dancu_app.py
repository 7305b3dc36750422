"""The mock citizen database's own HTTP API: legacy JSON in the NGSP envelope, errors included."""

from __future__ import annotations

import dataclasses
import json
import unicodedata
from collections.abc import AsyncIterator
from datetime import date
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from adapters.base import CanonicalRequest, SystemResponse
from adapters.dancu import DancuAdapter
from formats.cccd import parse_cccd
from formats.dates import format_ddmmyyyy, parse_ddmmyyyy
from mocks.config import SystemConfig
from mocks.dancu.api import ANSWERS, MAX_PAGE_SIZE, citizen_json
from mocks.dancu.app import create_app
from mocks.dancu.seed import CitizenRecord, generate_citizens
from mocks.dancu.store import CitizenStore, normalise_name
from mocks.direct import direct_answers
from tests.fixtures.apps import serving
from tests.fixtures.envelopes import envelope_error_message

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
    async with serving(app, "http://dancu.test") as client:
        yield client


def assert_error(response: httpx.Response, status: int, error_code: str) -> str:
    assert response.headers["content-type"] == "application/json"
    return envelope_error_message(response, status, error_code)


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
    async with serving(app, "http://dancu.test") as client:
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
    "number", ["known", "091000000000", "12345", "xac-thuc", "091%2F2"], ids=str
)
async def test_the_direct_lookup_answers_the_same_bytes_as_the_fastapi_route(
    app: FastAPI, population: list[CitizenRecord], number: str
) -> None:
    """`mocks.direct` answers the lookup in front of FastAPI: found, not found and refused
    numbers must come back exactly as the FastAPI route (still in the app) answers them."""
    number = population[0].so_dinh_danh if number == "known" else number
    routed = create_app(CONFIG, today=lambda: TODAY)
    routed.user_middleware.clear()  # FastAPI's own routing only

    answers = []
    for each in (app, routed):
        transport = httpx.ASGITransport(app=each)
        async with httpx.AsyncClient(transport=transport, base_url="http://dancu.test") as client:
            answers.append(await client.get(f"/api/congdan/{number}"))

    direct, fastapi = answers
    assert (direct.status_code, direct.headers.raw, direct.content) == (
        fastapi.status_code,
        fastapi.headers.raw,
        fastapi.content,
    )


@pytest.mark.parametrize("number", ["known", "091000000000", "12345", "xac-thuc"], ids=str)
async def test_the_plain_lookup_function_answers_what_the_app_answers(
    app: FastAPI, client: httpx.AsyncClient, population: list[CitizenRecord], number: str
) -> None:
    """What the bus calls in its own process (`direct_answers`) gives the status, body and
    media type the app gives over HTTP, refusals included."""
    number = population[0].so_dinh_danh if number == "known" else number
    answers = direct_answers(app)
    assert answers is not None

    plain = answers("GET", f"/api/congdan/{number}")
    served = await client.get(f"/api/congdan/{number}")

    assert plain is not None
    assert (plain.status, plain.body, plain.media_type) == (
        served.status_code,
        served.content,
        served.headers["content-type"],
    )


@pytest.mark.parametrize("era", ["2024", "2026"])
def test_the_plain_lookup_renders_every_record_as_the_envelope_always_did(
    era: Literal["2024", "2026"],
) -> None:
    """Byte for byte what `NgspEnvelope.ok` (a `JSONResponse`) renders, in both eras."""
    config = CONFIG.model_copy(update={"era": era})
    answers = direct_answers(create_app(config, today=lambda: TODAY))
    store = CitizenStore.from_seed(
        province_code="91", seed=config.seed, count=config.population, era=era
    )
    assert answers is not None

    for citizen in store.page(number=1, size=len(store)):
        answer = answers("GET", f"/api/congdan/{citizen.so_dinh_danh}")
        expected = ANSWERS.ok(citizen_json(citizen, store, era=era))
        assert answer is not None
        assert (answer.status, answer.body) == (expected.status_code, bytes(expected.body))


def test_a_remembered_lookup_is_still_checked_by_todays_clock(
    population: list[CitizenRecord],
) -> None:
    """A citizen's answer is rendered once and kept, the number's check is not: a birth year
    that lies in the future is refused, however often the number was answered before."""
    number = population[0].so_dinh_danh
    born = parse_cccd(number, today=TODAY).birth_year
    today = [date(born, 1, 1)]
    answers = direct_answers(create_app(CONFIG, today=lambda: today[0]))
    assert answers is not None

    first, again = (answers("GET", f"/api/congdan/{number}") for _ in range(2))
    today[0] = date(born - 1, 12, 31)
    refused = answers("GET", f"/api/congdan/{number}")

    assert first is again  # rendered once
    assert (first.status if first else None, refused.status if refused else None) == (200, 400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/congdan/091087000123"),
        ("GET", "/api/congdan/091087000123/ho"),
        ("GET", "/api/congdan"),
        ("GET", "/api/congdan/091/2"),  # `091%2F2` decoded: no number, the router's 404
        ("GET", "/api/congdan/"),  # no number: the list's redirect
        ("GET", "/docs"),
    ],
)
def test_the_plain_lookup_function_leaves_every_other_request_to_the_app(
    app: FastAPI, method: str, path: str
) -> None:
    answers = direct_answers(app)

    assert answers is not None
    assert answers(method, path) is None


def test_no_plain_function_is_offered_when_a_middleware_runs_before_the_direct_routes(
    app: FastAPI,
) -> None:
    """A middleware in front would be skipped by a caller of the plain function."""
    app.add_middleware(GZipMiddleware)

    assert direct_answers(app) is None
    assert direct_answers(FastAPI()) is None


async def test_the_lookup_is_answered_without_fastapi_routing(
    app: FastAPI, client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    route = next(r for r in app.routes if getattr(r, "path", "") == "/api/congdan/{so_dinh_danh}")

    async def unreachable(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the lookup went through FastAPI's routing")

    route.app = unreachable  # type: ignore[attr-defined]

    response = await client.get(f"/api/congdan/{population[0].so_dinh_danh}")
    household = await client.get(f"/api/congdan/{population[0].so_dinh_danh}/ho")

    assert response.status_code == 200
    assert response.json()["data"]["SoDinhDanh"] == population[0].so_dinh_danh
    assert household.status_code == 200  # the other routes are still FastAPI's


def test_mock_needs_a_province() -> None:
    with pytest.raises(ValueError, match="province_code"):
        create_app(SystemConfig(instance="ndxp"))


def test_mock_refuses_a_province_it_has_no_data_for() -> None:
    with pytest.raises(ValueError, match="no seed data for province '01'"):
        create_app(SystemConfig(instance="hanoi", province_code="01"))


# --- XacThucThongTinCongDan: POST /api/congdan/xac-thuc -------------------------------------

VERIFY = "/api/congdan/xac-thuc"


def claim_of(citizen: CitizenRecord, **changes: str) -> dict[str, str]:
    return {
        "SoDinhDanh": citizen.so_dinh_danh,
        "HoVaTen": citizen.ho_va_ten,
        "NgayThangNamSinh": citizen.ngay_thang_nam_sinh,
        "MaYeuCau": "req-001",
        **changes,
    }


def absent_number(population: list[CitizenRecord]) -> str:
    known = {c.so_dinh_danh for c in population}
    return next(f"0910870{n:05d}" for n in range(100_000) if f"0910870{n:05d}" not in known)


async def verification(client: httpx.AsyncClient, claim: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(VERIFY, json=claim)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["error_code"], body["message"]) == ("0", "OK")
    data: dict[str, Any] = body["data"]
    return data


def other_day(citizen: CitizenRecord) -> str:
    """Another day of the same month: wrong, yet in the year the number encodes."""
    born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
    day = born.replace(day=28 if born.day != 28 else 27)
    return format_ddmmyyyy(day)


async def test_true_claim_exists(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    data = await verification(client, claim_of(population[0]))

    assert data == {"TonTai": True, "TruongKhongKhop": []}


@pytest.mark.parametrize(
    "spelling",
    [
        lambda name: name.upper(),
        lambda name: name.lower(),
        lambda name: "  " + name.replace(" ", "   ") + "\t",
        lambda name: unicodedata.normalize("NFD", name),
        lambda name: name.replace(" ", "\u00a0"),
    ],
    ids=["upper", "lower", "spaced", "nfd", "nbsp"],
)
async def test_name_matches_whatever_case_spacing_or_normal_form(
    client: httpx.AsyncClient, population: list[CitizenRecord], spelling: Any
) -> None:
    citizen = population[0]

    data = await verification(client, claim_of(citizen, HoVaTen=spelling(citizen.ho_va_ten)))

    assert data["TonTai"] is True


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ("name", ["HoVaTen"]),
        ("no diacritics", ["HoVaTen"]),
        ("date", ["NgayThangNamSinh"]),
        ("both", ["HoVaTen", "NgayThangNamSinh"]),
    ],
)
async def test_false_claim_names_the_fields_but_never_the_recorded_values(
    client: httpx.AsyncClient, population: list[CitizenRecord], change: str, fields: list[str]
) -> None:
    citizen = population[0]
    changes = {
        "name": {"HoVaTen": "Trần Thị Bích"},
        "no diacritics": {"HoVaTen": _strip_marks(citizen.ho_va_ten)},
        "date": {"NgayThangNamSinh": other_day(citizen)},
        "both": {"HoVaTen": "Trần Thị Bích", "NgayThangNamSinh": other_day(citizen)},
    }[change]

    response = await client.post(VERIFY, json=claim_of(citizen, **changes))

    assert response.json()["data"] == {"TonTai": False, "TruongKhongKhop": fields}
    for recorded in (citizen.ho_va_ten, citizen.ngay_thang_nam_sinh, citizen.ten, citizen.ho):
        if recorded not in json.dumps(claim_of(citizen, **changes), ensure_ascii=False):
            assert recorded not in response.text


def _strip_marks(name: str) -> str:
    decomposed = unicodedata.normalize("NFD", name).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


async def test_unknown_number_answers_exactly_like_a_claim_wrong_in_both_fields(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    """No enumeration: the answer is the same bytes whether or not the number exists."""
    citizen = population[0]
    wrong = {"HoVaTen": "Trần Thị Bích", "NgayThangNamSinh": other_day(citizen)}

    known = await client.post(VERIFY, json=claim_of(citizen, **wrong))
    unknown = await client.post(
        VERIFY, json=claim_of(citizen, SoDinhDanh=absent_number(population), **wrong)
    )

    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)


async def test_date_in_a_year_the_number_does_not_encode_never_matches() -> None:
    """Digits 4-6 encode the birth year, so such a claim is false whatever the record holds."""
    citizen = generate_citizens(province_code="91", seed=7, count=1)[0]
    encoded = parse_cccd(citizen.so_dinh_danh, today=TODAY)
    born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh).replace(year=encoded.birth_year + 1)
    inconsistent = dataclasses.replace(citizen, ngay_thang_nam_sinh=format_ddmmyyyy(born))
    store = CitizenStore([inconsistent])

    fields = store.mismatched_fields(encoded, ho_va_ten=citizen.ho_va_ten, ngay_thang_nam_sinh=born)

    assert fields == ("NgayThangNamSinh",)


@pytest.mark.parametrize(
    ("left", "right", "same"),
    [
        ("Nguyễn Văn An", "nguyễn văn an", True),
        ("Nguyễn Văn An", " Nguyễn\tVăn  An ", True),
        ("Nguyễn Văn An", unicodedata.normalize("NFD", "NGUYỄN VĂN AN"), True),
        ("Đặng Thị Hà", "đặng thị hà", True),
        ("Nguyễn Văn An", "Nguyen Van An", False),
        ("Lê Thị Hà", "Lê Thị Hạ", False),
        ("Nguyễn Văn An", "Nguyễn Văn", False),
        ("Nguyễn Văn An", "NguyễnVăn An", False),
    ],
)
def test_names_compare_after_nfc_case_folding_and_collapsed_spaces(
    left: str, right: str, same: bool
) -> None:
    assert (normalise_name(left) == normalise_name(right)) is same


@pytest.mark.parametrize(
    ("claim", "words"),
    [
        ({"HoVaTen": "A", "NgayThangNamSinh": "05/03/1987"}, "SoDinhDanh: Field required"),
        ({"SoDinhDanh": 91087000123, "HoVaTen": "A", "NgayThangNamSinh": "05/03/1987"},
         "SoDinhDanh: Input should be a valid string"),
        ({"SoDinhDanh": "12345", "HoVaTen": "A", "NgayThangNamSinh": "05/03/1987"}, "12 digits"),
        ({"SoDinhDanh": "091087000123", "HoVaTen": "A", "NgayThangNamSinh": "1987-03-05"},
         "NgayThangNamSinh is not a dd/MM/yyyy date"),
        ({"SoDinhDanh": "091087000123", "HoVaTen": "A", "NgayThangNamSinh": "31/02/1987"},
         "NgayThangNamSinh is not a dd/MM/yyyy date"),
        ({"SoDinhDanh": "091087000123", "HoVaTen": None, "NgayThangNamSinh": "05/03/1987"},
         "HoVaTen: Input should be a valid string"),
    ],
)  # fmt: skip
async def test_malformed_claim_is_data_type_invalid(
    client: httpx.AsyncClient, claim: dict[str, Any], words: str
) -> None:
    response = await client.post(VERIFY, json=claim)

    message = assert_error(response, 400, "302")
    assert words in message
    assert "091087000123" not in message


async def test_claim_that_is_not_json_is_data_type_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(
        VERIFY, content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert_error(response, 400, "302")


async def test_fields_of_the_real_request_the_mock_ignores_are_accepted(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    claim = {**claim_of(population[0]), "MaDichVu": "033", "MaCanBo": "VDXP_VPCP"}

    assert (await verification(client, claim))["TonTai"] is True


async def test_verification_answers_only_post(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(VERIFY), 400, "302")  # read as a lookup of number "xac-thuc"


# --- GET /api/congdan/{so_dinh_danh}/ho ------------------------------------------------------


async def test_citizen_household_is_the_household_served_by_its_code(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    citizen = population[2]

    by_citizen = await client.get(f"/api/congdan/{citizen.so_dinh_danh}/ho")
    by_code = await client.get(f"/api/ho/{citizen.ma_ho}")

    assert by_citizen.status_code == 200
    assert by_citizen.json() == by_code.json()
    members = by_citizen.json()["data"]["ThanhVien"]
    assert citizen.so_dinh_danh in [member["SoDinhDanh"] for member in members]


async def test_household_of_an_unknown_citizen_is_record_not_found(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    response = await client.get(f"/api/congdan/{absent_number(population)}/ho")

    assert assert_error(response, 404, "201") == "RECORD_NOT_FOUND"


async def test_household_of_a_malformed_number_is_data_type_invalid(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/congdan/09108700012a/ho")

    assert_error(response, 400, "302")
    assert "09108700012a" not in response.text


# --- the contract between the mock and the adapter ------------------------------------------


async def through_adapter(client: httpx.AsyncClient, request: CanonicalRequest) -> Any:
    adapter = DancuAdapter(today=lambda: TODAY)
    system_request = adapter.to_system(request)
    response = await client.request(
        system_request.method,
        system_request.path,
        content=system_request.body,
        headers=dict(system_request.headers),
    )
    return adapter.to_canonical(request, SystemResponse(response.status_code, response.content))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, {"match": True}),
        ("Trần Thị Bích", {"match": False, "mismatched_fields": ["full_name", "date_of_birth"]}),
    ],
)
async def test_verification_translates_through_the_adapter(
    client: httpx.AsyncClient,
    population: list[CitizenRecord],
    name: str | None,
    expected: dict[str, Any],
) -> None:
    citizen = population[0]
    claim = {
        "cccd": citizen.so_dinh_danh,
        "full_name": name or citizen.ho_va_ten,
        "date_of_birth": parse_ddmmyyyy(citizen.ngay_thang_nam_sinh).isoformat(),
    }
    request = CanonicalRequest(
        "verify_citizen", {}, body=json.dumps(claim).encode(), content_type="application/json"
    )

    answer = await through_adapter(client, request)

    assert (answer.status, answer.content) == (200, expected)


async def test_household_translates_through_the_adapter(
    client: httpx.AsyncClient, population: list[CitizenRecord]
) -> None:
    citizen = population[1]
    expected = [c for c in population if c.ma_ho == citizen.ma_ho]

    answer = await through_adapter(
        client, CanonicalRequest("get_household", {"cccd": citizen.so_dinh_danh})
    )

    assert answer.content["household_id"] == citizen.ma_ho
    assert answer.content["head_cccd"] == citizen.so_dinh_danh_chu_ho
    assert [m["cccd"] for m in answer.content["members"]] == [c.so_dinh_danh for c in expected]
    assert answer.content["members"][0]["relationship"] == "head"
