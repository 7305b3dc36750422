"""Receiving agencies per province: valid organ ids, and one agency for every procedure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Literal

import pytest

from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.agencies import (
    AGENCIES,
    LLTP,
    PROVINCES,
    SOURCED_LETTER_CODES,
    TODAYS_AGENCIES,
    agencies_of,
    find_agency,
    receiving_agency,
)
from mocks.directory.units import PROVINCES as UNITS
from mocks.dvc.codes import ORGAN_ID, next_dossier_code
from mocks.dvc.procedures import PROCEDURES, level_in, provincial_procedure_code

SEEDED = ["91", "82", "60", "93", "52"]
MA_TTHC = re.compile(r"^[1-3]\.\d{6}(\.000\.00\.00\.[A-Z]\d{2})?$")  # DOMAIN.md §8.2


def test_the_five_seeded_provinces_have_agencies() -> None:
    assert sorted(AGENCIES) == sorted(SEEDED)
    assert sorted(PROVINCES) == sorted(UNITS)


def test_only_hau_giang_has_a_sourced_letter_code() -> None:
    assert PROVINCES["93"].letter_code == "H30"  # DOMAIN.md §6.2
    assert [code for code, p in PROVINCES.items() if p.letter_code_sourced] == ["93"]
    letters = [province.letter_code for province in PROVINCES.values()]
    assert len(set(letters)) == len(letters)


def test_organ_ids_are_strict_and_unique() -> None:
    ids = [agency.organ_id for agencies in AGENCIES.values() for agency in agencies]

    assert all(ORGAN_ID.fullmatch(organ_id) for organ_id in ids)
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("province_code", SEEDED)
def test_the_peoples_committee_is_the_level_one_unit(province_code: str) -> None:
    committee = AGENCIES[province_code][0]
    letter = PROVINCES[province_code].letter_code

    assert committee.organ_id == f"000.00.00.{letter}"
    assert committee.name.startswith("Ủy ban nhân dân tỉnh ")


@pytest.mark.parametrize("province_code", SEEDED)
def test_every_procedure_has_exactly_one_receiving_agency_of_its_level(
    province_code: str,
) -> None:
    for procedure in PROCEDURES:
        handlers = [a for a in AGENCIES[province_code] if procedure.code in a.procedure_codes]
        assert len(handlers) == 1, procedure.code
        assert handlers[0].level == procedure.level, procedure.code
        assert receiving_agency(province_code, procedure.code) == handlers[0]


@pytest.mark.parametrize("province_code", SEEDED)
def test_city_and_ward_are_units_of_the_citizen_database(province_code: str) -> None:
    province = PROVINCES[province_code]
    districts = {district.name: district for district in UNITS[province_code].districts}

    city = districts[f"Thành phố {province.city}"]
    assert f"Phường {province.ward}" in {commune.name for commune in city.communes}


def test_agencies_are_found_by_organ_id() -> None:
    agency = find_agency("000.00.01.H30")

    assert agency is not None
    assert agency.name == "Sở Tư pháp tỉnh Hậu Giang"
    assert find_agency("000.00.99.H30") is None


def test_a_receiving_agency_can_issue_dossier_codes() -> None:
    agency = receiving_agency("93", "1.001193")
    code = next_dossier_code(agency.organ_id, date(2025, 3, 15), None)

    assert str(code) == "000.00.06.H30-250315-0001"


def test_the_provincial_procedure_code_carries_the_province_suffix() -> None:
    code = provincial_procedure_code("1.001193", "93")

    assert code == "1.001193.000.00.00.H30"
    assert MA_TTHC.fullmatch(code)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: receiving_agency("01", "1.001193"), "no agencies for province"),
        (lambda: receiving_agency("93", "9.999999"), "no agency of province 93"),
        (lambda: provincial_procedure_code("9.999999", "93"), "unknown procedure"),
        (lambda: provincial_procedure_code("1.001193", "01"), "no agencies for province"),
    ],
)
def test_unknown_provinces_and_procedures_are_refused(
    call: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        call()


# --- today's bodies (era 2026) -------------------------------------------------------------------


def test_today_s_bodies_use_the_level_1_code_the_merged_province_kept() -> None:
    letters = {code: {a.letter_code for a in TODAYS_AGENCIES[code]} for code in SEEDED}

    assert letters == {
        "91": {"H01"},  # An Giang
        "82": {"H20"},  # Đồng Tháp
        "60": {"H36"},  # Lâm Đồng
        "93": {"H14"},  # Cần Thơ
        "52": {"H21"},  # Gia Lai
    }
    assert SOURCED_LETTER_CODES == {"H30", "H20", "H21"}


@pytest.mark.parametrize("province_code", SEEDED)
def test_today_there_is_no_district_body_and_every_procedure_has_a_receiver(
    province_code: str,
) -> None:
    agencies = TODAYS_AGENCIES[province_code]

    assert {a.level for a in agencies} == {"province", "commune"}
    for procedure in PROCEDURES:
        receivers = [a for a in agencies if procedure.code in a.procedure_codes]
        assert len(receivers) == 1, procedure.code
        assert receivers[0].level == level_in(procedure, "2026")


@pytest.mark.parametrize("province_code", SEEDED)
def test_today_s_bodies_sit_in_wards_of_today_s_list(province_code: str) -> None:
    for agency in TODAYS_AGENCIES[province_code]:
        assert agency.ward_code is not None
        ward = ADMIN_UNITS.unit("2026", agency.ward_code)
        assert ward is not None, agency
        province = ADMIN_UNITS.unit("2026", ward.province_code)
        assert province is not None
        assert agency.address.endswith(f", {ward.name}, {province.name}"), agency.address
        assert re.fullmatch(r"0\d{3} \d{7}", agency.telephone), agency.telephone
        assert agency.email.endswith(".gov.vn")


def test_a_commune_body_is_named_after_the_ward_of_today() -> None:
    names = [a.name for a in TODAYS_AGENCIES["91"] if a.level == "commune"]

    assert names == ["Ủy ban nhân dân phường Rạch Giá", "Công an phường Rạch Giá"]
    assert TODAYS_AGENCIES["93"][0].name == "Ủy ban nhân dân thành phố Cần Thơ"


@pytest.mark.parametrize(
    ("day", "organ_id"),
    [
        (date(2025, 2, 28), "000.00.01.H33"),  # Sở Tư pháp tỉnh Kiên Giang
        (date(2025, 3, 1), "000.00.04.H33"),  # Công an tỉnh Kiên Giang
        (date(2025, 6, 30), "000.00.04.H33"),
        (date(2025, 7, 1), "000.00.04.H01"),  # Công an tỉnh An Giang
        (None, "000.00.04.H01"),  # today
    ],
)
def test_criminal_records_go_to_the_police_from_1_march_2025(
    day: date | None, organ_id: str
) -> None:
    assert receiving_agency("91", LLTP, era="2026", on=day).organ_id == organ_id


def test_era_2024_keeps_the_seeds_routing_whatever_the_date() -> None:
    assert receiving_agency("91", LLTP, on=date(2026, 1, 5)).organ_id == "000.00.01.H33"
    assert receiving_agency("91", "1.001612").name == "Ủy ban nhân dân thành phố Rạch Giá"
    assert agencies_of("91") == AGENCIES["91"]


@pytest.mark.parametrize("era", ["2024", "2026"])
def test_a_commune_level_dossier_goes_to_the_applicant_s_commune_before_the_merger(
    era: Literal["2024", "2026"],
) -> None:
    """Phường Đông Hồ (30769) of Hà Tiên had its own police: a residence registration of a
    household there was theirs, not the capital ward's (Vĩnh Thanh, Rạch Giá)."""
    agency = receiving_agency(
        "91", "1.004222", era=era, on=date(2025, 6, 2), home=("2024", "30769")
    )

    assert (agency.name, agency.ward_code) == ("Công an phường Đông Hồ, thành phố Hà Tiên", "30769")


def test_the_district_s_procedures_go_to_the_ward_after_the_merger() -> None:
    before = receiving_agency("91", "1.001612", era="2026", on=date(2025, 6, 30))
    after = receiving_agency("91", "1.001612", era="2026", on=date(2025, 7, 1))

    assert (before.name, before.level) == ("Ủy ban nhân dân thành phố Rạch Giá", "district")
    assert (after.name, after.level) == ("Ủy ban nhân dân phường Rạch Giá", "commune")


def test_both_eras_bodies_are_found_by_organ_id() -> None:
    found = find_agency("000.00.06.H20")

    assert found is not None
    assert (found.name, found.province_code, found.era) == (
        "Ủy ban nhân dân phường Mỹ Tho",
        "82",
        "2026",
    )
