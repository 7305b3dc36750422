"""Generated citizens: deterministic, valid CCCDs of the province, Vietnamese names, households."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from datetime import date

import pytest

from formats.cccd import parse_cccd
from formats.dates import parse_ddmmyyyy
from mocks.dancu.seed import HEAD_OF_HOUSEHOLD, CitizenRecord, generate_citizens
from mocks.dancu.store import CitizenStore
from mocks.directory.units import PROVINCES

TODAY = date(2025, 6, 1)
SEEDED_PROVINCES = ["91", "82", "60", "93", "52"]


def citizens(province_code: str = "91", seed: int = 7, count: int = 500) -> list[CitizenRecord]:
    return generate_citizens(province_code=province_code, seed=seed, count=count)


def test_data_covers_the_five_seeded_provinces() -> None:
    assert sorted(PROVINCES) == sorted(SEEDED_PROVINCES)
    for province in PROVINCES.values():
        assert 3 <= len(province.districts) <= 5
        assert all(2 <= len(district.communes) <= 4 for district in province.districts)
        assert all(len(district.code) == 3 for district in province.districts)
        communes = [c.code for district in province.districts for c in district.communes]
        assert all(len(code) == 5 and code.isdigit() for code in communes)
        assert len(set(communes)) == len(communes)


def test_same_seed_gives_the_same_citizens() -> None:
    assert citizens(seed=7) == citizens(seed=7)


def test_another_seed_or_province_gives_other_citizens() -> None:
    base = {c.so_dinh_danh for c in citizens(seed=7)}

    assert base.isdisjoint(c.so_dinh_danh for c in citizens(seed=8))
    assert [c.ho_va_ten for c in citizens(seed=7)] != [c.ho_va_ten for c in citizens(seed=8)]
    assert [c.ho_va_ten for c in citizens("91")] != [c.ho_va_ten for c in citizens("82")]


def test_a_smaller_population_is_a_prefix_of_a_larger_one() -> None:
    # The CLI prints the first numbers of a population the bus generates at full size.
    assert citizens(count=1) == citizens(count=500)[:1]
    assert citizens(count=37) == citizens(count=500)[:37]


@pytest.mark.parametrize("count", [0, 1, 2, 200])
def test_exactly_count_citizens_are_made(count: int) -> None:
    assert len(citizens(count=count)) == count


@pytest.mark.parametrize("province_code", SEEDED_PROVINCES)
def test_numbers_are_valid_unique_and_mostly_of_the_province(province_code: str) -> None:
    people = citizens(province_code, count=2000)
    numbers = [c.so_dinh_danh for c in people]

    assert len(set(numbers)) == len(numbers)
    own = sum(number.startswith("0" + province_code) for number in numbers)
    assert 0.8 * len(numbers) < own < len(numbers)  # most, not all: some were born elsewhere
    for citizen in people:
        parsed = parse_cccd(citizen.so_dinh_danh, today=TODAY)
        born = parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
        assert parsed.birth_year == born.year
        assert 1940 <= born.year <= 2007
        assert parsed.gender == {"1": "male", "2": "female"}[citizen.gioi_tinh]


def test_ten_thousand_citizens_keep_unique_numbers() -> None:
    numbers = [c.so_dinh_danh for c in citizens(count=10_000)]

    assert len(set(numbers)) == 10_000


def test_names_are_vietnamese_with_diacritics_in_nfc() -> None:
    people = citizens()
    names = [c.ho_va_ten for c in people]

    assert all(name == unicodedata.normalize("NFC", name) for name in names)
    assert all(len(name.split()) == 3 for name in names)
    with_diacritics = [name for name in names if not name.isascii()]
    assert len(with_diacritics) / len(names) > 0.9
    family_names = [c.ho for c in people]
    assert family_names.count("Nguyễn") == max(family_names.count(n) for n in set(family_names))


@pytest.mark.parametrize("province_code", SEEDED_PROVINCES)
def test_addresses_lie_in_the_province_units(province_code: str) -> None:
    province = PROVINCES[province_code]
    units = {
        (district.code, commune.code): (district.name, commune.name)
        for district in province.districts
        for commune in district.communes
    }

    for citizen in citizens(province_code, count=300):
        address = citizen.thuong_tru
        assert (address.ma_tinh_thanh, address.ten_tinh_thanh) == (province_code, province.name)
        assert units[address.ma_quan_huyen, address.ma_phuong_xa] == (
            address.ten_quan_huyen,
            address.ten_phuong_xa,
        )
        assert address.chi_tiet
        assert address.quoc_gia == "VN"


def test_each_household_has_one_head_who_lists_first_and_shares_the_address() -> None:
    households: dict[str, list[CitizenRecord]] = defaultdict(list)
    for citizen in citizens(count=1000):
        households[citizen.ma_ho].append(citizen)

    assert len(households) > 100
    for members in households.values():
        head = members[0]
        assert head.quan_he_voi_chu_ho == HEAD_OF_HOUSEHOLD
        assert [m.is_head_of_household for m in members].count(True) == 1
        assert {m.so_dinh_danh_chu_ho for m in members} == {head.so_dinh_danh}
        assert {m.thuong_tru for m in members} == {head.thuong_tru}


def test_relations_are_consistent_with_gender_and_age() -> None:
    store = CitizenStore(citizens(count=2000))

    def birth_year(citizen: CitizenRecord) -> int:
        return parse_ddmmyyyy(citizen.ngay_thang_nam_sinh).year

    for citizen in citizens(count=2000):
        head = store.get(citizen.so_dinh_danh_chu_ho)
        assert head is not None
        relation = citizen.quan_he_voi_chu_ho
        assert relation in {HEAD_OF_HOUSEHOLD, "Vợ", "Chồng", "Con", "Cha", "Mẹ"}
        if relation in {"Vợ", "Mẹ"}:
            assert citizen.gioi_tinh == "2"
        if relation in {"Chồng", "Cha"}:
            assert citizen.gioi_tinh == "1"
        if relation == "Con":
            assert birth_year(citizen) >= birth_year(head) + 20
        if relation in {"Cha", "Mẹ"}:
            assert birth_year(citizen) <= birth_year(head) - 20
        if relation == "Vợ":
            assert head.gioi_tinh == "1"


def test_household_members_have_distinct_given_names() -> None:
    households: dict[str, list[str]] = defaultdict(list)
    for citizen in citizens(count=1000):
        households[citizen.ma_ho].append(citizen.ten)

    assert all(len(set(names)) == len(names) for names in households.values())


@pytest.mark.parametrize(
    ("province_code", "count", "message"),
    [("01", 10, "no seed data for province '01'"), ("91", -1, "must not be negative")],
)
def test_unusable_arguments_are_refused(province_code: str, count: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_citizens(province_code=province_code, seed=0, count=count)


def test_store_pages_and_households() -> None:
    people = citizens(count=45)
    store = CitizenStore(people)

    assert len(store) == 45
    assert list(store.page(number=1, size=20)) == people[:20]
    assert list(store.page(number=3, size=20)) == people[40:]
    assert list(store.page(number=4, size=20)) == []
    assert store.get(people[10].so_dinh_danh) == people[10]
    assert store.get("091000000000") is None
    household = store.household(people[0].ma_ho)
    assert household[0] == people[0]
    assert all(member.ma_ho == people[0].ma_ho for member in household)
    assert store.household("nope") == ()
    with pytest.raises(ValueError, match="start at 1"):
        store.page(number=0, size=20)


def test_store_refuses_duplicate_numbers() -> None:
    person = citizens(count=1)[0]

    with pytest.raises(ValueError, match="share one CCCD"):
        CitizenStore([person, person])
