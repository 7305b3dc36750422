"""Dossiers filed today (era 2026) go to bodies that exist: no district, criminal records to the
police, procedure codes under the level-1 code the merged province kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from lgsp.settings import Settings
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.bus import bearer, bus_settings, fetch_token
from tests.fixtures.dossiers import applicant_of, first_adult

pytestmark = pytest.mark.anyio

AG = "/lgsp/angiang"
DVC = f"{AG}/dvc/v1"


@pytest.fixture
def settings(bus_database_url: str, bus_data_dir: Path) -> Settings:
    return bus_settings(bus_database_url, bus_data_dir).model_copy(update={"era": "2026"})


@pytest.fixture(name="applicant")
def fx_applicant(settings: Settings) -> CitizenRecord:
    citizens = generate_citizens(
        province_code="91", seed=settings.seed, count=settings.population, era="2026"
    )
    return first_adult(citizens)


def filing(citizen: CitizenRecord, procedure_code: str) -> dict[str, Any]:
    return {
        "procedure_code": procedure_code,
        "applicant": applicant_of(citizen),
        "summary": "Đề nghị giải quyết thủ tục",
        "contact": {"phone": "0912345678"},
    }


async def file(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    token = await fetch_token(client, AG)
    return await client.post(f"{DVC}/dossiers", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    ("procedure", "agency_id", "agency_name"),
    [
        # The applicant lives in Phường Hà Tiên (ex-Đông Hồ): a commune's procedure goes to its
        # bodies, not to the capital ward's (review 2026-12-07 #1).
        # Đăng ký thành lập hộ kinh doanh: the district's until 30 June 2025
        ("1.001612", "000.00.12.H01", "Ủy ban nhân dân phường Hà Tiên"),
        # Phiếu lý lịch tư pháp: Công an tỉnh since 1 March 2025
        ("3.999001", "000.00.04.H01", "Công an tỉnh An Giang"),
        ("1.004222", "000.00.13.H01", "Công an phường Hà Tiên"),
    ],
)
async def test_a_dossier_filed_today_goes_to_a_body_of_today(
    client: httpx.AsyncClient,
    applicant: CitizenRecord,
    procedure: str,
    agency_id: str,
    agency_name: str,
) -> None:
    answer = await file(client, filing(applicant, procedure))

    assert answer.status_code == 201, answer.text
    dossier = answer.json()
    assert dossier["agency"] == {"id": agency_id, "name": agency_name}
    assert dossier["code"].startswith(f"{agency_id}-")
    assert dossier["procedure_code"] == f"{procedure}.000.00.00.H01"


async def test_a_birth_is_registered_at_the_applicant_s_commune_as_the_register_holds_it(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    citizens = generate_citizens(
        province_code="91", seed=settings.seed, count=settings.population, era="2026"
    )
    # A household in Phường Hà Tiên (ex-Đông Hồ), as 091154541622 of seed 2024 is.
    hoang = first_adult([c for c in citizens if c.thuong_tru.ma_phuong_xa == "30769"])
    rach_gia = first_adult(  # of a ward merged into Phường Rạch Giá, the capital's
        [c for c in citizens if c.thuong_tru.ma_phuong_xa in ("30733", "30736", "30748")]
    )

    here = await file(client, filing(hoang, "1.001193"))
    capital = await file(client, filing(rach_gia, "1.001193"))

    assert here.status_code == capital.status_code == 201, here.text
    assert here.json()["agency"]["name"] == "Ủy ban nhân dân phường Hà Tiên"
    assert capital.json()["agency"] == {
        "id": "000.00.06.H01",
        "name": "Ủy ban nhân dân phường Rạch Giá",
    }


async def test_the_short_form_of_today_s_code_is_accepted(
    client: httpx.AsyncClient, applicant: CitizenRecord
) -> None:
    answer = await file(client, filing(applicant, "1.004222.H01"))

    assert answer.status_code == 201, answer.text
    assert answer.json()["procedure_code"] == "1.004222.000.00.00.H01"


async def test_a_code_under_the_closed_level_1_code_names_today_s(
    client: httpx.AsyncClient, applicant: CitizenRecord
) -> None:
    answer = await file(client, filing(applicant, "1.004222.000.00.00.H33"))

    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "PROCEDURE_NOT_FOUND"
    assert problem["current_codes"] == ["1.004222.000.00.00.H01", "1.004222.H01"]
    assert "1 July 2025" in problem["detail"]


async def test_a_code_of_another_province_is_still_not_found(
    client: httpx.AsyncClient, applicant: CitizenRecord
) -> None:
    answer = await file(client, filing(applicant, "1.004222.000.00.00.H20"))  # Đồng Tháp's

    assert answer.status_code == 422, answer.text
    assert answer.json()["code"] == "PROCEDURE_NOT_FOUND"
    assert "current_codes" not in answer.json()


async def test_today_s_catalogue_has_no_district_level(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client, AG)

    district = await client.get(f"{DVC}/procedures?level=district", headers=bearer(token))
    commune = await client.get(f"{DVC}/procedures?level=commune&size=100", headers=bearer(token))

    assert district.status_code == 200, district.text
    assert district.json()["total"] == 0
    by_code = {item["code"]: item for item in commune.json()["items"]}
    certified_copy = by_code["2.000815.000.00.00.H01"]
    assert certified_copy["level"] == "commune"
    assert certified_copy["agency"]["name"] == "Ủy ban nhân dân phường Rạch Giá"


async def test_the_catalogue_marks_the_codes_the_mock_assigned(client: httpx.AsyncClient) -> None:
    """FIDELITY-2026.md §1: every mock-assigned code marked as such in answers."""
    token = await fetch_token(client, AG)
    answer = await client.get(f"{DVC}/procedures", params={"size": 100}, headers=bearer(token))

    assert answer.status_code == 200, answer.text
    assigned = {item["national_code"]: item["assigned"] for item in answer.json()["items"]}
    for code in ("3.999001", "3.999002", "3.999003", "3.999004", "3.999005"):
        assert "national_code" in assigned[code], code
    assert "national_code" not in assigned["1.001193"]  # sourced
    assert {"code", "field.code", "agency.id"} <= set(assigned["1.001193"])  # H01, Z00-, 06
