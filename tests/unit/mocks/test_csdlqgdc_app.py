"""The mock national population database: every province's citizens, with the dancu contract."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from adapters.base import CanonicalRequest, SystemResponse
from adapters.dancu import CONTRACTS, DancuAdapter
from mocks.config import SystemConfig
from mocks.csdlqgdc.app import create_app, national_province_codes, sample_numbers
from mocks.csdlqgdc.register import NationalRegister, province_store
from mocks.dancu.app import create_app as create_dancu_app
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.apps import serving
from tests.fixtures.envelopes import envelope_error_message

pytestmark = pytest.mark.anyio

TODAY = date(2026, 3, 2)
POPULATION = 45
PROVINCES = {"91": "kiengiang", "82": "tiengiang", "93": "haugiang"}
CONFIG = SystemConfig(instance="ndxp", seed=7, population=POPULATION, provinces=PROVINCES)
KIEN_GIANG = generate_citizens(province_code="91", seed=7, count=POPULATION)
# A Kiên Giang resident whose birth was registered in Hậu Giang (CCCD 093…): the register of
# the province the number names is searched first, and does not hold them.
BORN_IN_HAU_GIANG = next(c for c in KIEN_GIANG if c.so_dinh_danh.startswith("093"))
UNKNOWN = "091089000000"


@pytest.fixture(name="app")
def fx_app() -> FastAPI:
    return create_app(CONFIG, today=lambda: TODAY)


@pytest.fixture(name="register")
def fx_register(app: FastAPI) -> NationalRegister:
    register: NationalRegister = app.state.register
    return register


@pytest.fixture(name="client")
async def fx_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app, "http://csdlqgdc.test") as client:
        yield client


async def data_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["error_code"], body["message"]) == ("0", "OK")
    return body["data"]


async def provincial(province_code: str, path: str) -> httpx.Response:
    """The same request to the province's own citizen database."""
    config = SystemConfig(instance="p", province_code=province_code, seed=7, population=POPULATION)
    transport = httpx.ASGITransport(app=create_dancu_app(config, today=lambda: TODAY))
    async with httpx.AsyncClient(transport=transport, base_url="http://dancu.test") as client:
        return await client.get(path)


# --- the same people ---------------------------------------------------------------------------


@pytest.mark.parametrize("province_code", sorted(PROVINCES))
@pytest.mark.parametrize("index", [0, 44])
async def test_a_citizen_of_any_province_is_found_with_the_provinces_record(
    client: httpx.AsyncClient, province_code: str, index: int
) -> None:
    citizen = generate_citizens(province_code=province_code, seed=7, count=POPULATION)[index]
    path = f"/api/congdan/{citizen.so_dinh_danh}"

    national = await data_of(await client.get(path))

    assert national == await data_of(await provincial(province_code, path))
    assert national["ThuongTru"]["MaTinhThanh"] == province_code


async def test_a_resident_born_in_another_province_is_found_where_they_live(
    client: httpx.AsyncClient, register: NationalRegister
) -> None:
    national = await data_of(await client.get(f"/api/congdan/{BORN_IN_HAU_GIANG.so_dinh_danh}"))

    assert national["ThuongTru"]["MaTinhThanh"] == "91"
    assert national["HoVaTen"] == BORN_IN_HAU_GIANG.ho_va_ten
    # Hậu Giang's register first (the number's prefix), then the others in code order.
    assert register.loaded == ("82", "91", "93")


async def test_the_household_is_the_provinces_household(client: httpx.AsyncClient) -> None:
    citizen = KIEN_GIANG[3]
    path = f"/api/congdan/{citizen.so_dinh_danh}/ho"

    by_member = await data_of(await client.get(path))
    by_id = await data_of(await client.get(f"/api/ho/{citizen.ma_ho}"))

    assert by_member == by_id == await data_of(await provincial("91", path))
    assert citizen.so_dinh_danh in {member["SoDinhDanh"] for member in by_id["ThanhVien"]}


@pytest.mark.parametrize(
    "ma_ho",
    [
        "30769-99999",  # a Kiên Giang commune, no such household
        "21643-00001",  # Bình Định: not a province of this topology
        "00000-00001",  # no such commune
        "nonsense",
    ],
)
async def test_an_unknown_household_is_record_not_found(
    client: httpx.AsyncClient, ma_ho: str
) -> None:
    assert (
        envelope_error_message(await client.get(f"/api/ho/{ma_ho}"), 404, "201")
        == "RECORD_NOT_FOUND"
    )


# --- built on demand -----------------------------------------------------------------------


async def test_nothing_is_generated_until_asked_and_then_only_what_is_needed(
    client: httpx.AsyncClient, register: NationalRegister
) -> None:
    assert not register.loaded

    await data_of(await client.get(f"/api/congdan/{KIEN_GIANG[0].so_dinh_danh}"))

    assert register.loaded == ("91",)


async def test_an_unknown_number_is_record_not_found_after_searching_everywhere(
    client: httpx.AsyncClient, register: NationalRegister
) -> None:
    response = await client.get(f"/api/congdan/{UNKNOWN}")

    assert envelope_error_message(response, 404, "201") == "RECORD_NOT_FOUND"
    assert set(register.loaded) == set(PROVINCES)
    envelope_error_message(await client.get(f"/api/congdan/{UNKNOWN}/ho"), 404, "201")


async def test_a_province_is_generated_once_per_process(register: NationalRegister) -> None:
    first = await register.province("82")
    other = NationalRegister(["82"], seed=7, population=POPULATION)

    assert await other.province("82") is first
    assert province_store("82", 7, POPULATION) is first
    assert province_store("82", 8, POPULATION) is not first


async def test_concurrent_lookups_build_a_province_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[str] = []

    def counting(code: str, seed: int, population: int) -> Any:
        built.append(code)
        return province_store(code, seed, population)

    monkeypatch.setattr("mocks.csdlqgdc.register.province_store", counting)
    register = NationalRegister(["91"], seed=7, population=POPULATION)

    stores = await asyncio.gather(*(register.province("91") for _ in range(5)))

    assert built == ["91"]
    assert len({id(store) for store in stores}) == 1


# --- verification --------------------------------------------------------------------------


def claim(citizen: CitizenRecord, **changes: str) -> dict[str, str]:
    return {
        "SoDinhDanh": citizen.so_dinh_danh,
        "HoVaTen": citizen.ho_va_ten,
        "NgayThangNamSinh": citizen.ngay_thang_nam_sinh,
        **changes,
    }


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (claim(BORN_IN_HAU_GIANG), []),
        (claim(KIEN_GIANG[0], HoVaTen=KIEN_GIANG[0].ho_va_ten.upper()), []),
        (claim(KIEN_GIANG[0], HoVaTen="Trần Thị Bích"), ["HoVaTen"]),
        (claim(KIEN_GIANG[0], SoDinhDanh=UNKNOWN), ["HoVaTen", "NgayThangNamSinh"]),
    ],
    ids=["match", "case", "name", "unknown"],
)
async def test_verification_answers_as_a_provincial_database(
    client: httpx.AsyncClient, body: dict[str, str], fields: list[str]
) -> None:
    result = await data_of(await client.post("/api/congdan/xac-thuc", json=body))

    assert result == {"TonTai": not fields, "TruongKhongKhop": fields}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/congdan/09107769725", None),
        ("GET", "/api/congdan/999077697257", None),
        ("GET", "/api/congdan/091277697257/ho", None),  # born in 2077
        ("POST", "/api/congdan/xac-thuc", {"SoDinhDanh": "12", "HoVaTen": "A"}),
        ("POST", "/api/congdan/xac-thuc", claim(KIEN_GIANG[0], NgayThangNamSinh="1977-01-01")),
        ("GET", "/api/congdan?soBanGhi=101", None),
        ("GET", "/api/congdan?trang=0", None),
    ],
)
async def test_malformed_requests_are_data_type_invalid(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, json=body)

    assert envelope_error_message(response, 400, "302").startswith("DATA_TYPE_INVALID")


# --- listing -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [20, 7, 45, 100])
async def test_pages_run_province_after_province_and_cover_everyone_once(
    client: httpx.AsyncClient, size: int
) -> None:
    pages = -(-135 // size)
    seen: list[str] = []
    for page in range(1, pages + 2):  # one past the end: empty
        params = {"trang": page, "soBanGhi": size}
        data = await data_of(await client.get("/api/congdan", params=params))
        assert (data["TongSo"], data["Trang"], data["SoBanGhi"]) == (135, page, size)
        assert len(data["DanhSach"]) == (min(size, 135 - (page - 1) * size) if page <= pages else 0)
        seen += [citizen["SoDinhDanh"] for citizen in data["DanhSach"]]

    everyone = [
        citizen.so_dinh_danh
        for code in sorted(PROVINCES)
        for citizen in generate_citizens(province_code=code, seed=7, count=POPULATION)
    ]
    assert seen == everyone


# --- configuration -------------------------------------------------------------------------


def test_without_a_topology_every_seeded_province_is_served() -> None:
    config = SystemConfig(instance="ndxp")

    assert national_province_codes(config) == ["52", "60", "82", "91", "93"]


def test_provinces_without_seed_data_are_left_out_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = SystemConfig(instance="ndxp", provinces={"01": "hanoi", "91": "kiengiang"})

    with caplog.at_level(logging.WARNING, logger="mocks.csdlqgdc.app"):
        codes = national_province_codes(config)

    assert codes == ["91"]
    assert "01" in caplog.text


def test_a_topology_with_no_seeded_province_cannot_start() -> None:
    with pytest.raises(ValueError, match="at least one province"):
        create_app(SystemConfig(instance="ndxp", provinces={"01": "hanoi"}))


def test_samples_take_turns_between_provinces_and_are_all_found() -> None:
    numbers = sample_numbers(CONFIG, 5)["cccd"]

    assert len(numbers) == 5
    firsts = {
        code: generate_citizens(province_code=code, seed=7, count=2) for code in sorted(PROVINCES)
    }
    assert numbers[:3] == [firsts[code][0].so_dinh_danh for code in sorted(PROVINCES)]
    assert sample_numbers(CONFIG, 0) == {}


# --- the contract, through the dancu adapter -------------------------------------------------


async def test_the_dancu_adapter_serves_the_national_database(client: httpx.AsyncClient) -> None:
    adapter = DancuAdapter(today=lambda: TODAY)
    citizen = BORN_IN_HAU_GIANG
    requests = [
        CanonicalRequest("get_citizen", {"cccd": citizen.so_dinh_danh}),
        CanonicalRequest("get_household", {"cccd": citizen.so_dinh_danh}),
        CanonicalRequest(
            "verify_citizen",
            {},
            body=json.dumps(
                {
                    "cccd": citizen.so_dinh_danh,
                    "full_name": citizen.ho_va_ten,
                    "date_of_birth": "-".join(reversed(citizen.ngay_thang_nam_sinh.split("/"))),
                },
                ensure_ascii=False,
            ).encode(),
            content_type="application/json",
        ),
    ]
    answers = []
    for request in requests:
        sent = adapter.to_system(request)
        response = await client.request(
            sent.method, sent.path, content=sent.body, headers=sent.headers
        )
        answer = adapter.to_canonical(
            request, SystemResponse(response.status_code, response.content)
        )
        CONTRACTS[request.operation].response.model_validate(answer.content)
        answers.append(answer.content)

    assert answers[0]["cccd"] == citizen.so_dinh_danh
    assert citizen.so_dinh_danh in {member["cccd"] for member in answers[1]["members"]}
    assert answers[2] == {"match": True}
