"""The 12-digit personal identification number printed on the CCCD card: parse, check, build.

Structure from Nghị định 137/2015/NĐ-CP Art. 13 (still in force under Luật Căn cước 2023
Art. 12), DOMAIN.md §5.3; the province table of Thông tư 59/2021/TT-BCA Phụ lục I, which public
validators cite today for the table Thông tư 07/2016/TT-BCA Appendix 1 had (FIDELITY-2026.md §4):

    digits 1-3   province where the birth was registered (Thông tư 59/2021/TT-BCA Phụ lục I)
    digit  4     century and gender: 0/1 = 1900s male/female, 2/3 = 2000s, … 8/9 = 2300s
    digits 5-6   last two digits of the birth year
    digits 7-12  random

The number is personal data: no error raised here repeats it whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

from formats.errors import TranslationError

Gender = Literal["male", "female"]
CccdRule = Literal["format", "province_code", "birth_year"]

# Thông tư 59/2021/TT-BCA Phụ lục I (TT 07/2016's Appendix 1 values, DOMAIN.md §5.3): "0" + the
# pre-2025 two-digit province code (QĐ 124/2004/QĐ-TTg). CCCDs issued before the 2025 merger
# keep these prefixes, and the 34 post-merger codes are a subset of them (DOMAIN.md §6.1).
PROVINCE_CODES: Mapping[str, str] = MappingProxyType(
    {
        "001": "Hà Nội",
        "002": "Hà Giang",
        "004": "Cao Bằng",
        "006": "Bắc Kạn",
        "008": "Tuyên Quang",
        "010": "Lào Cai",
        "011": "Điện Biên",
        "012": "Lai Châu",
        "014": "Sơn La",
        "015": "Yên Bái",
        "017": "Hòa Bình",
        "019": "Thái Nguyên",
        "020": "Lạng Sơn",
        "022": "Quảng Ninh",
        "024": "Bắc Giang",
        "025": "Phú Thọ",
        "026": "Vĩnh Phúc",
        "027": "Bắc Ninh",
        "030": "Hải Dương",
        "031": "Hải Phòng",
        "033": "Hưng Yên",
        "034": "Thái Bình",
        "035": "Hà Nam",
        "036": "Nam Định",
        "037": "Ninh Bình",
        "038": "Thanh Hóa",
        "040": "Nghệ An",
        "042": "Hà Tĩnh",
        "044": "Quảng Bình",
        "045": "Quảng Trị",
        "046": "Thừa Thiên Huế",
        "048": "Đà Nẵng",
        "049": "Quảng Nam",
        "051": "Quảng Ngãi",
        "052": "Bình Định",
        "054": "Phú Yên",
        "056": "Khánh Hòa",
        "058": "Ninh Thuận",
        "060": "Bình Thuận",
        "062": "Kon Tum",
        "064": "Gia Lai",
        "066": "Đắk Lắk",
        "067": "Đắk Nông",
        "068": "Lâm Đồng",
        "070": "Bình Phước",
        "072": "Tây Ninh",
        "074": "Bình Dương",
        "075": "Đồng Nai",
        "077": "Bà Rịa–Vũng Tàu",
        "079": "Hồ Chí Minh",
        "080": "Long An",
        "082": "Tiền Giang",
        "083": "Bến Tre",
        "084": "Trà Vinh",
        "086": "Vĩnh Long",
        "087": "Đồng Tháp",
        "089": "An Giang",
        "091": "Kiên Giang",
        "092": "Cần Thơ",
        "093": "Hậu Giang",
        "094": "Sóc Trăng",
        "095": "Bạc Liêu",
        "096": "Cà Mau",
    }
)

_FIRST_BIRTH_YEAR, _LAST_BIRTH_YEAR = 1900, 2399  # the range digit 4 can express
_BIRTH_YEARS = {
    f"{century_gender}{year:02d}": _FIRST_BIRTH_YEAR + 100 * (century_gender // 2) + year
    for century_gender in range(10)
    for year in range(100)
}
"""Digits 4-6 → the birth year they give: one dict lookup where two `int`s of their text cost
three times as much, twice per citizen lookup (issue 21)."""
_PROVINCES = frozenset(PROVINCE_CODES)
"""The codes alone: a set's `in` skips the read-only proxy's indirection, once per check."""


class InvalidCccd(TranslationError):
    """The value cannot be a CCCD number; `rule` names the check it failed."""

    code = "INVALID_CCCD"
    status = 422
    title = "Invalid CCCD number"

    def __init__(self, detail: str, *, rule: CccdRule) -> None:
        super().__init__(detail, rule=rule)
        self.rule: CccdRule = rule


@dataclass(frozen=True)
class Cccd:
    """A CCCD number and what its digits say; `province_code` has three digits, like `091`."""

    number: str
    province_code: str
    gender: Gender
    birth_year: int
    serial: str

    @property
    def province(self) -> str:
        return PROVINCE_CODES[self.province_code]


def parse_cccd(value: str, *, today: date) -> Cccd:
    """Split a CCCD into its parts, or raise `InvalidCccd` naming the first rule it breaks."""
    birth_year = check_cccd(value, today=today)
    return Cccd(
        number=value,
        province_code=value[:3],
        gender="male" if int(value[3]) % 2 == 0 else "female",
        birth_year=birth_year,
        serial=value[6:],
    )


def check_cccd(value: str, *, today: date) -> int:
    """`parse_cccd`'s checks, giving only the birth year: every citizen lookup checks its number
    twice (the adapter, then the system), and a frozen `Cccd` costs more to build than the
    checks themselves (issue 21). `InvalidCccd` names the first rule the number breaks."""
    # ASCII digits only (`isdigit` alone takes superscripts and other scripts' digits), at half
    # the cost of a regex
    if not (len(value) == 12 and value.isascii() and value.isdigit()):
        found = f"{len(value)} characters" if len(value) != 12 else "12 characters, not all digits"
        raise InvalidCccd(
            f"A CCCD number is exactly 12 digits 0-9; this value has {found}.", rule="format"
        )
    province_code = value[:3]
    if province_code not in _PROVINCES:
        raise InvalidCccd(
            f"The first three digits '{province_code}' are not a province code "
            "(Thông tư 59/2021/TT-BCA Phụ lục I).",
            rule="province_code",
        )
    birth_year = _BIRTH_YEARS[value[3:6]]
    if birth_year > today.year:
        raise InvalidCccd(
            f"The century digit and the two year digits give the birth year {birth_year}, "
            f"which is after the current year {today.year}.",
            rule="birth_year",
        )
    return birth_year


def make_cccd(*, province_code: str, gender: str, birth_year: int, serial: int) -> str:
    """Build the number `parse_cccd` reads back; arguments out of range raise ValueError."""
    if province_code not in PROVINCE_CODES:
        raise ValueError(
            f"province_code must be a 3-digit code such as '091', not {province_code!r}"
        )
    if gender not in ("male", "female"):
        raise ValueError(f"gender must be 'male' or 'female', not {gender!r}")
    if not _FIRST_BIRTH_YEAR <= birth_year <= _LAST_BIRTH_YEAR:
        raise ValueError(
            f"birth_year must be in {_FIRST_BIRTH_YEAR}-{_LAST_BIRTH_YEAR}, not {birth_year}"
        )
    if not 0 <= serial <= 999_999:
        raise ValueError(f"serial must be in 0-999999, not {serial}")
    century, year_in_century = divmod(birth_year - _FIRST_BIRTH_YEAR, 100)
    century_gender = 2 * century + (0 if gender == "male" else 1)
    return f"{province_code}{century_gender}{year_in_century:02d}{serial:06d}"
