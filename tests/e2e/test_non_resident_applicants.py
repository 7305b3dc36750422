"""A citizen of another province files at a portal: the portal asks its own province's register,
then the national population database through its LGSP and NDXP, under the same request id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from lgsp.settings import Settings
from mocks.dancu.seed import CitizenRecord, generate_citizens
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import bearer, bus_settings, fetch_token
from tests.fixtures.dossiers import applicant_of, first_adult

pytestmark = pytest.mark.anyio

AG = "/lgsp/angiang"
RESIDENCE = "1.004222.000.00.00.H01"  # Đăng ký thường trú at Công an phường Rạch Giá


@pytest.fixture
def settings(bus_database_url: str, bus_data_dir: Path) -> Settings:
    return bus_settings(bus_database_url, bus_data_dir).model_copy(update={"era": "2026"})


def adult(province_code: str, settings: Settings) -> CitizenRecord:
    citizens = generate_citizens(
        province_code=province_code, seed=settings.seed, count=settings.population, era="2026"
    )
    return first_adult(citizens)


def filing(citizen: CitizenRecord, *, born: str | None = None) -> dict[str, Any]:
    applicant = applicant_of(citizen, **({"date_of_birth": born} if born else {}))
    return {
        "procedure_code": RESIDENCE,
        "applicant": applicant,
        "summary": "Đăng ký thường trú tại phường Rạch Giá",
        "contact": {"phone": "0912345678"},
    }


async def file(client: httpx.AsyncClient, body: dict[str, Any], request_id: str) -> httpx.Response:
    token = await fetch_token(client, AG)
    headers = {**bearer(token), "X-Request-ID": request_id}
    return await client.post(f"{AG}/dvc/v1/dossiers", json=body, headers=headers)


async def services_called(client: httpx.AsyncClient, instance: str, request_id: str) -> list[str]:
    token = await fetch_token(client, instance)
    answer = await client.get(
        f"{instance}/admin/audit?request_id={request_id}", headers=bearer(token)
    )
    assert answer.status_code == 200, answer.text
    return [record["service"] for record in answer.json()["records"]]


async def test_a_resident_is_confirmed_by_the_province_alone(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    answer = await file(client, filing(adult("91", settings)), "nr-resident")

    assert answer.status_code == 201, answer.text
    assert "csdlqgdc" not in await services_called(client, "/ndxp", "nr-resident")


async def test_a_citizen_of_another_province_is_confirmed_through_ndxp(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    citizen = adult("82", settings)  # registered in ex-Tiền Giang, today Đồng Tháp

    answer = await file(client, filing(citizen), "nr-other")

    assert answer.status_code == 201, answer.text
    assert answer.json()["applicant"]["cccd"] == citizen.so_dinh_danh
    assert "csdlqgdc" in await services_called(client, "/ndxp", "nr-other")


async def test_a_citizen_of_another_province_with_a_wrong_birth_date_is_refused(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    answer = await file(client, filing(adult("82", settings), born="1970-01-01"), "nr-wrong")

    assert_problem(answer, 422, "APPLICANT_NOT_VERIFIED")
    # the bus reports a non-match as both fields unconfirmed (adapters/dancu.py, F15)
    assert "csdlqgdc" in await services_called(client, "/ndxp", "nr-wrong")


async def test_the_national_database_down_is_a_clear_error(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    ndxp_token = await fetch_token(client, "/ndxp")
    rule = await client.post(
        "/ndxp/admin/faults",
        json={"service": "csdlqgdc", "status": 503},
        headers=bearer(ndxp_token),
    )
    assert rule.status_code == 201, rule.text

    answer = await file(client, filing(adult("82", settings)), "nr-down")

    problem = assert_problem(answer, 502, "CITIZEN_CHECK_UNAVAILABLE")
    assert problem["register"] == "national"
    assert "national population database" in problem["detail"]
