"""The seed's units against the national list of their era, and the conversion both ways."""

from __future__ import annotations

import pytest

from lgsp.topology import TOPOLOGY_2026
from mocks.directory.admin_units import ADMIN_UNITS
from mocks.directory.units import PROVINCES, Commune, District, Province

SEEDED_COMMUNES = [
    (province, district, commune)
    for province in PROVINCES.values()
    for district in province.districts
    for commune in district.communes
]


@pytest.mark.parametrize(
    ("province", "district", "commune"),
    SEEDED_COMMUNES,
    ids=[commune.code for _, _, commune in SEEDED_COMMUNES],
)
def test_every_seeded_unit_is_in_the_2024_list_with_its_code_and_name(
    province: Province, district: District, commune: Commune
) -> None:
    old_province = ADMIN_UNITS.unit("2024", province.code)
    old = ADMIN_UNITS.unit("2024", commune.code)

    assert old_province is not None
    assert old_province.name == province.name
    assert old is not None
    assert (old.name, old.province_code) == (commune.name, province.code)
    assert (old.district_code, old.district_name) == (district.code, district.name)


@pytest.mark.parametrize("code", [commune.code for _, _, commune in SEEDED_COMMUNES])
def test_every_seeded_commune_converts_to_today_and_back(code: str) -> None:
    old = ADMIN_UNITS.unit("2024", code)
    assert old is not None
    successors = ADMIN_UNITS.successors(code)

    assert successors, code
    today = ADMIN_UNITS.successors(old.province_code)[0]
    for new in successors:
        assert new.era == "2026"
        assert new.district_code is None  # no districts since 1 July 2025
        assert new.province_code == today.code
        assert old in ADMIN_UNITS.predecessors(new.code)


def test_each_instance_of_today_is_the_successor_of_its_old_codes() -> None:
    for instance in TOPOLOGY_2026.instances:
        if instance.kind != "province":
            continue
        assert instance.province_code is not None
        today = ADMIN_UNITS.unit("2026", instance.province_code)
        assert today is not None
        assert today.name.removeprefix("Tỉnh ").removeprefix("Thành phố ") == (
            instance.title.removeprefix("LGSP ")
        )
        olds = {unit.code for unit in ADMIN_UNITS.predecessors(instance.province_code)}
        assert olds == set(instance.legacy_codes)


@pytest.mark.parametrize(
    ("old", "new", "name", "province"),
    [  # FIDELITY-2026.md §1, read against the national list
        ("30769", "30769", "Phường Hà Tiên", "91"),
        ("30733", "30742", "Phường Rạch Giá", "91"),
        ("31078", "31078", "Đặc khu Phú Quốc", "91"),
        ("22915", "22918", "Phường Mũi Né", "68"),
        ("21550", "21601", "Phường Quy Nhơn Đông", "52"),
        ("30856", "30856", "Xã Tân Hội", "91"),
    ],
)
def test_known_conversions(old: str, new: str, name: str, province: str) -> None:
    (successor,) = ADMIN_UNITS.successors(old)

    assert (successor.code, successor.name, successor.province_code) == (new, name, province)


def test_one_number_names_two_units_one_per_era() -> None:
    old, new = ADMIN_UNITS.unit("2024", "30769"), ADMIN_UNITS.unit("2026", "30769")

    assert old is not None
    assert new is not None
    assert (old.name, new.name) == ("Phường Đông Hồ", "Phường Hà Tiên")


def test_provinces_of_both_eras() -> None:
    assert len([k for k in ADMIN_UNITS.units if k[:2] == ("2024", "province")]) == 63
    assert len([k for k in ADMIN_UNITS.units if k[:2] == ("2026", "province")]) == 34
    assert ADMIN_UNITS.unit("2026", "60") is None  # Bình Thuận's code is retired
    assert [u.code for u in ADMIN_UNITS.successors("60")] == ["68"]
