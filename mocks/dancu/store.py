"""The citizen database the mock serves: read-only and in memory, rebuilt from the seed each start.

Nothing is ever written, so there is nothing to persist or lock: the same seed gives the same
store in every process, which is what lets the gateway run the mock in-process or on its own.
The store also owns the one comparison it is asked for, verifying a claim against a record
(`XacThucThongTinCongDan`, DOMAIN.md §5.1), because only the owner of the data may look at it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from types import MappingProxyType
from typing import Literal

from formats.cccd import Cccd
from formats.dates import parse_ddmmyyyy
from mocks.dancu.seed import CitizenRecord, generate_citizens

# The fields a verification compares, in the order they are reported (legacy names).
VERIFIED_FIELDS: tuple[str, ...] = ("HoVaTen", "NgayThangNamSinh")


def normalise_name(name: str) -> str:
    """The form two names are compared in: NFC, case-folded, single spaces between words.

    "Nguyễn  văn AN" and "Nguyễn Văn An" (precomposed or decomposed) compare equal. Diacritics
    are kept: they tell different Vietnamese names apart (Lê/Lễ, Hà/Hạ), so "Nguyen Van An"
    does not match. Tone-mark placement variants ("Thủy"/"Thuỷ") stay distinct too: NFC does not
    unify them, and the register stores one spelling.
    """
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


class CitizenStore:
    """Citizens by CCCD number, in generation order, and grouped into households."""

    def __init__(self, citizens: Iterable[CitizenRecord]) -> None:
        self._citizens = tuple(citizens)
        by_number: dict[str, CitizenRecord] = {}
        households: dict[str, list[CitizenRecord]] = {}
        for citizen in self._citizens:
            if citizen.so_dinh_danh in by_number:
                raise ValueError("two citizens share one CCCD number")
            by_number[citizen.so_dinh_danh] = citizen
            households.setdefault(citizen.ma_ho, []).append(citizen)
        self._by_number = MappingProxyType(by_number)
        self._households = MappingProxyType(
            {code: tuple(members) for code, members in households.items()}
        )

    @classmethod
    def from_seed(
        cls, *, province_code: str, seed: int, count: int, era: Literal["2024", "2026"] = "2024"
    ) -> CitizenStore:
        return cls(generate_citizens(province_code=province_code, seed=seed, count=count, era=era))

    def __len__(self) -> int:
        return len(self._citizens)

    def get(self, so_dinh_danh: str) -> CitizenRecord | None:
        return self._by_number.get(so_dinh_danh)

    def page(self, *, number: int, size: int) -> Sequence[CitizenRecord]:
        """Page `number` (from 1) of `size` citizens; past the end, an empty page."""
        if number < 1 or size < 1:
            raise ValueError(f"page number and size start at 1, got {number} and {size}")
        start = (number - 1) * size
        return self._citizens[start : start + size]

    def household(self, ma_ho: str) -> Sequence[CitizenRecord]:
        """The members of household `ma_ho`, head first; empty if there is no such household."""
        return self._households.get(ma_ho, ())

    def household_of(self, so_dinh_danh: str) -> Sequence[CitizenRecord]:
        """The household the citizen belongs to, head first; empty for an unknown citizen."""
        citizen = self.get(so_dinh_danh)
        return () if citizen is None else self.household(citizen.ma_ho)

    def mismatched_fields(
        self, cccd: Cccd, *, ho_va_ten: str, ngay_thang_nam_sinh: date
    ) -> tuple[str, ...]:
        """The claimed fields that differ from the record; empty when the claim holds.

        An unknown number is answered as if it were recorded with both fields different, so the
        answer never tells whether a number exists (no enumeration). A date whose year is not
        the one the number encodes (digits 4-6) is a false claim whatever the record says.
        """
        citizen = self.get(cccd.number)
        if citizen is None:
            return VERIFIED_FIELDS
        name_differs = normalise_name(ho_va_ten) != normalise_name(citizen.ho_va_ten)
        date_differs = (
            ngay_thang_nam_sinh != parse_ddmmyyyy(citizen.ngay_thang_nam_sinh)
            or ngay_thang_nam_sinh.year != cccd.birth_year
        )
        return tuple(
            field
            for field, differs in zip(VERIFIED_FIELDS, (name_differs, date_differs), strict=True)
            if differs
        )
