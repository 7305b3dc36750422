"""A province's citizens, generated from a seed: same seed, same people, households and numbers.

Records keep the mock's own legacy shape: the field names of the national citizen database
(`SoDinhDanh`, `HoVaTen{Ho, ChuDem, Ten}`, `NgayThangNamSinh`, `ThuongTru`, `ChuHo{QuanHe, …}`;
DOMAIN.md §5.2, §8.5) in snake case. Citizens come household by household, so a smaller
population is always a prefix of a larger one with the same seed: the CLI prints the first few
numbers of the population the bus serves.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from typing import Literal

from formats.cccd import PROVINCE_CODES, Gender, make_cccd
from formats.dates import format_ddmmyyyy
from mocks.dancu.names import (
    FAMILY_NAMES,
    GIVEN_NAMES,
    HAMLET_NAMES,
    KHMER_FAMILY_NAMES,
    KHMER_GIVEN_NAMES,
    KHMER_MIDDLE_NAMES,
    KHMER_SHARE,
    MIDDLE_NAMES,
)
from mocks.directory.units import PROVINCES

FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR = 1940, 2007
ADULT_AGE = 18
HEAD_OF_HOUSEHOLD = "Chủ hộ"

_FAMILY = tuple(name for name, _ in FAMILY_NAMES)
_FAMILY_CUMULATIVE = list(accumulate(share for _, share in FAMILY_NAMES))
_CHILDREN = (0, 1, 1, 2, 2, 2, 3, 3, 4)  # draws for the number of children living at home

BORN_ELSEWHERE = 0.1
"""Share of residents whose birth was registered in another province (an assumption)."""
MAX_DRAWS = 1000


@dataclass(frozen=True)
class Address:
    """`ThuongTru` and the other address fields: `{MaTinhThanh, MaQuanHuyen, …, QuocGia}`."""

    ma_tinh_thanh: str
    ten_tinh_thanh: str
    ma_quan_huyen: str
    ten_quan_huyen: str
    ma_phuong_xa: str
    ten_phuong_xa: str
    chi_tiet: str
    quoc_gia: str = "VN"


@dataclass(frozen=True)
class CitizenRecord:
    """One `CongDan` as the mock stores it; `ma_ho` and the two `chu_ho` fields tie households."""

    so_dinh_danh: str
    ho: str
    chu_dem: str
    ten: str
    ngay_thang_nam_sinh: str  # dd/MM/yyyy, as the legacy system writes it
    gioi_tinh: Literal["1", "2"]  # 1 Nam, 2 Nữ (DOMAIN.md §8.5, BHXH convention)
    dan_toc: str
    quoc_tich: str
    thuong_tru: Address
    ma_ho: str
    quan_he_voi_chu_ho: str  # the citizen's relation to the head: Chủ hộ, Vợ, Chồng, Con, …
    so_dinh_danh_chu_ho: str

    @property
    def ho_va_ten(self) -> str:
        return " ".join(part for part in (self.ho, self.chu_dem, self.ten) if part)

    @property
    def is_head_of_household(self) -> bool:
        return self.quan_he_voi_chu_ho == HEAD_OF_HOUSEHOLD


@dataclass(frozen=True)
class _Person:
    family_name: str
    gender: Gender
    birth_year: int
    relation: str


def generate_citizens(
    *, province_code: str, seed: int, count: int, era: Literal["2024", "2026"] = "2024"
) -> list[CitizenRecord]:
    """`count` citizens of the province with 2-digit legacy code `province_code` (e.g. "91").

    Era 2026 gives the same people (numbers, dates, addresses), and the households of the
    province's Khmer (`names.KHMER_SHARE`) their own ethnicity and names; era 2024 keeps the
    seeds' all-Kinh population."""
    if province_code not in PROVINCES:
        known = ", ".join(sorted(PROVINCES))
        raise ValueError(f"no seed data for province {province_code!r} (known: {known})")
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    # A str seed is hashed with SHA-512 by `random.seed`, not with `hash()`, so the stream does
    # not depend on PYTHONHASHSEED. Not for secrets: these are demo people.
    generator = _Generator(
        random.Random(f"dancu:{seed}:{province_code}"),  # noqa: S311
        province_code,
    )
    citizens: list[CitizenRecord] = []
    while len(citizens) < count:
        citizens.extend(generator.household())
    if era == "2026" and province_code in KHMER_SHARE:
        citizens = _with_khmer_households(citizens, province_code=province_code, seed=seed)
    return citizens[:count]


def _with_khmer_households(
    citizens: list[CitizenRecord], *, province_code: str, seed: int
) -> list[CitizenRecord]:
    """The Khmer households among `citizens`, drawn per household from a stream of their own,
    so that the rest of the population is the seeds' to the byte."""
    out: list[CitizenRecord] = []
    households: dict[str, tuple[bool, random.Random, str]] = {}
    for citizen in citizens:
        if citizen.ma_ho not in households:
            rng = random.Random(f"dantoc:{seed}:{province_code}:{citizen.ma_ho}")  # noqa: S311
            khmer = rng.random() < KHMER_SHARE[province_code]
            households[citizen.ma_ho] = (khmer, rng, rng.choice(KHMER_FAMILY_NAMES))
        khmer, rng, family = households[citizen.ma_ho]
        if not khmer:
            out.append(citizen)
            continue
        gender = "male" if citizen.gioi_tinh == "1" else "female"
        own_family = citizen.quan_he_voi_chu_ho in (HEAD_OF_HOUSEHOLD, "Con", "Cha")
        out.append(
            dataclasses.replace(
                citizen,
                ho=family if own_family else rng.choice(KHMER_FAMILY_NAMES),
                chu_dem=rng.choice(KHMER_MIDDLE_NAMES[gender]),
                ten=rng.choice(KHMER_GIVEN_NAMES[gender]),
                dan_toc="Khmer",
            )
        )
    return out


class _Generator:
    def __init__(self, rng: random.Random, province_code: str) -> None:
        self._rng = rng
        self._province = PROVINCES[province_code]
        self._cccd_prefix = "0" + province_code  # Nghị định 137/2015 Art. 13: digits 1-3
        self._numbers: set[str] = set()
        self._households = 0

    def household(self) -> list[CitizenRecord]:
        """A head, often a spouse, children young enough to be theirs, sometimes a parent."""
        self._households += 1
        address = self._address()
        ma_ho = f"{address.ma_phuong_xa}-{self._households:05d}"  # mock-assigned household id
        members = self._members()
        numbers = [self._new_number(person) for person in members]
        given_names = self._given_names(members)
        return [
            self._record(person, number, given, address, ma_ho=ma_ho, head_number=numbers[0])
            for person, number, given in zip(members, numbers, given_names, strict=True)
        ]

    def _members(self) -> list[_Person]:
        rng = self._rng
        latest_adult = LAST_BIRTH_YEAR - ADULT_AGE
        head_gender: Gender = "male" if rng.random() < 0.7 else "female"
        head = _Person(
            family_name=self._family_name(),
            gender=head_gender,
            birth_year=rng.randint(FIRST_BIRTH_YEAR, latest_adult),
            relation=HEAD_OF_HOUSEHOLD,
        )
        members = [head]
        if rng.random() < 0.8:
            # A wife keeps her own family name; husbands are mostly a few years older.
            gap = rng.randint(-2, 6)
            spouse_gender: Gender
            if head.gender == "male":
                spouse_gender, relation, year = "female", "Vợ", head.birth_year + gap
            else:
                spouse_gender, relation, year = "male", "Chồng", head.birth_year - gap
            year = min(max(year, FIRST_BIRTH_YEAR), latest_adult)
            members.append(_Person(self._family_name(), spouse_gender, year, relation))
        # Children take their father's family name; with no father at home, the head's.
        father = next((person for person in members if person.gender == "male"), head)
        earliest = max(person.birth_year for person in members) + 20
        latest = min(min(person.birth_year for person in members) + 40, LAST_BIRTH_YEAR)
        if earliest <= latest:
            years = sorted(rng.randint(earliest, latest) for _ in range(rng.choice(_CHILDREN)))
            members += [_Person(father.family_name, self._gender(), y, "Con") for y in years]
        if rng.random() < 0.15 and head.birth_year - 20 >= FIRST_BIRTH_YEAR:
            gender = self._gender()
            year = max(head.birth_year - rng.randint(20, 35), FIRST_BIRTH_YEAR)
            family = head.family_name if gender == "male" else self._family_name()
            members.append(_Person(family, gender, year, "Cha" if gender == "male" else "Mẹ"))
        return members

    def _given_names(self, members: list[_Person]) -> list[str]:
        """One given name each, none repeated: it is what a family calls its members by."""
        taken: list[str] = []
        for person in members:
            name = self._rng.choice(GIVEN_NAMES[person.gender])
            while name in taken:
                name = self._rng.choice(GIVEN_NAMES[person.gender])
            taken.append(name)
        return taken

    def _record(
        self,
        person: _Person,
        number: str,
        given_name: str,
        address: Address,
        *,
        ma_ho: str,
        head_number: str,
    ) -> CitizenRecord:
        rng = self._rng
        first_day = date(person.birth_year, 1, 1)
        days = (date(person.birth_year + 1, 1, 1) - first_day).days
        return CitizenRecord(
            so_dinh_danh=number,
            ho=person.family_name,
            chu_dem=rng.choice(MIDDLE_NAMES[person.gender]),
            ten=given_name,
            ngay_thang_nam_sinh=format_ddmmyyyy(first_day + timedelta(days=rng.randrange(days))),
            gioi_tinh="1" if person.gender == "male" else "2",
            dan_toc="Kinh",
            quoc_tich="VN",
            thuong_tru=address,
            ma_ho=ma_ho,
            quan_he_voi_chu_ho=person.relation,
            so_dinh_danh_chu_ho=head_number,
        )

    def _address(self) -> Address:
        rng, province = self._rng, self._province
        district = rng.choice(province.districts)
        commune = rng.choice(district.communes)
        if commune.is_urban:
            detail = f"Số {rng.randint(1, 300)} đường {rng.choice(province.streets)}"
        else:
            detail = f"{province.hamlet_word} {rng.choice(HAMLET_NAMES)}"
        return Address(
            ma_tinh_thanh=province.code,
            ten_tinh_thanh=province.name,
            ma_quan_huyen=district.code,
            ten_quan_huyen=district.name,
            ma_phuong_xa=commune.code,
            ten_phuong_xa=commune.name,
            chi_tiet=detail,
        )

    def _new_number(self, person: _Person) -> str:
        """A CCCD number not yet given out: redraw the 6 random digits on a collision.

        Digits 1-3 name where the birth was registered, so a resident born elsewhere carries
        another province's code: most, not all, of a province's citizens carry its own.
        """
        prefix = self._cccd_prefix
        if self._rng.random() < BORN_ELSEWHERE:
            prefix = self._rng.choice([c for c in sorted(PROVINCE_CODES) if c != prefix])
        for _ in range(MAX_DRAWS):
            number = make_cccd(
                province_code=prefix,
                gender=person.gender,
                birth_year=person.birth_year,
                serial=self._rng.randrange(1_000_000),
            )
            if number not in self._numbers:
                self._numbers.add(number)
                return number
        raise RuntimeError(f"no unused CCCD number after {MAX_DRAWS} draws")

    def _family_name(self) -> str:
        return self._rng.choices(_FAMILY, cum_weights=_FAMILY_CUMULATIVE)[0]

    def _gender(self) -> Gender:
        return "male" if self._rng.random() < 0.5 else "female"
