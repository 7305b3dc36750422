"""Era 2026 seeds records on both sides of 1 July 2025: those before with the old province's
bodies and codes, those after with today's; era 2024 keeps the seeds as they were."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.agencies import find_agency
from mocks.dvc.seed import plan_dossiers, seeded_dossiers, summary_of

MERGER = date(2025, 7, 1)
SEEDED = ["91", "82", "60", "93", "52"]
OLD_LETTER = {"91": "H33", "82": "H58", "60": "H11", "93": "H30", "52": "H08"}
NEW_LETTER = {"91": "H01", "82": "H20", "60": "H36", "93": "H14", "52": "H21"}


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_dossiers_are_filed_on_both_sides_of_the_merger(province_code: str) -> None:
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    before = [p for p in planned if p.day < MERGER]
    after = [p for p in planned if p.day >= MERGER]
    assert before and after
    assert {p.agency_id.rpartition(".")[2] for p in before} == {OLD_LETTER[province_code]}
    assert {p.agency_id.rpartition(".")[2] for p in after} == {NEW_LETTER[province_code]}
    for item in after:
        agency = find_agency(item.agency_id)
        assert agency is not None
        assert (agency.era, agency.level != "district") == ("2026", True)


@pytest.mark.parametrize("province_code", SEEDED)
def test_era_2026_summaries_are_what_a_citizen_writes(province_code: str) -> None:
    planned = plan_dossiers(province_code=province_code, seed=2024, population=200, era="2026")

    summaries = [summary_of(item) for item in planned]

    assert not [s for s in summaries if "hồ sơ mẫu" in s or "trạng thái" in s]
    assert len(set(summaries)) > 1


def test_an_address_after_the_merger_names_today_s_ward() -> None:
    planned = plan_dossiers(province_code="91", seed=2024, population=200, era="2026")
    residence = next(p for p in planned if p.procedure.code == "1.004222")
    home = residence.applicant.thuong_tru
    today = ADMIN_UNITS.successors(home.ma_phuong_xa)[0]
    after = dataclasses.replace(residence, day=date(2025, 7, 2))

    assert residence.day < MERGER
    assert summary_of(residence).endswith(f"{home.chi_tiet}, {home.ten_phuong_xa}")
    assert summary_of(after).endswith(f"{home.chi_tiet}, {today.name}")
    assert today.name != home.ten_phuong_xa


def test_era_2024_keeps_the_seeds_dossiers() -> None:
    planned = plan_dossiers(province_code="91", seed=2024, population=200)

    assert [p.day for p in planned][0] == date(2025, 6, 2)
    assert all(p.day < MERGER for p in planned)
    assert {p.agency_id.rpartition(".")[2] for p in planned} == {"H33"}
    assert summary_of(planned[0]).endswith("(hồ sơ mẫu, trạng thái 1)")


def test_the_built_dossiers_carry_the_plan_s_codes_and_summaries() -> None:
    built = seeded_dossiers(
        instance="angiang", province_code="91", seed=2024, population=200, era="2026"
    )
    planned = plan_dossiers(province_code="91", seed=2024, population=200, era="2026")

    assert [d.summary for d in built] == [summary_of(p) for p in planned]
    assert [d.code.split("-")[0] for d in built] == [p.agency_id for p in planned]
