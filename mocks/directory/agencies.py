"""The agencies of each seeded province, with their QĐ 20/2020 organ ids and what they decide.

Every mock that names an agency uses this one directory: the portal (DVC) files dossiers with
the receiving agency, whose id starts every dossier number (`mocks/dvc/codes.py`); the document
endpoints (QLVB) and the national axis (VDXP) send between agencies and find their provinces
here. Organ ids (`mã định danh`, DOMAIN.md §6.2) have the strict form `000.00.0N.Hxx`.

What is sourced and what is not:
- **Hậu Giang `H30`** is the only provincial letter code DOMAIN.md §6.2 verifies.
- **Kiên Giang H33, Tiền Giang H58, Bình Thuận H11, Bình Định H08 are mock-assigned.** They are
  each province's place in the alphabetical list of the 63 pre-2025 provinces, a pattern that
  fits every letter code seen in public code (H20 Đồng Tháp, H22 Hà Giang, H29 TP HCM, H30 Hậu
  Giang, H38 Lào Cai, H41 Nghệ An, H48 Quảng Ngãi, H55 Thái Nguyên, H56 Thanh Hóa) — INFERENCE.
- **Every unit number below the province (`000.00.0N`) is mock-assigned**, following the seed
  proposal of DOMAIN.md §8.7 (level-2 agencies numbered 01, 02, …); the real numbering differs.
- The agencies are those of the pre-1 July 2025 provinces, like the rest of the seed: districts
  still exist, and the former Sở Kế hoạch và Đầu tư's business registration sits in Sở Tài
  chính, which absorbed it in the 2025 reorganisation. Criminal-record certificates (lý lịch tư
  pháp) stay with Sở Tư pháp; the 2025 transfers of that service and of driving licences to the
  police are not modelled beyond filing licences under Công an tỉnh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

AgencyLevel = Literal["province", "district", "commune"]


@dataclass(frozen=True)
class Agency:
    """One agency: its organ id, name, level and the procedures (national `MaTTHC`) it decides."""

    organ_id: str
    name: str
    province_code: str
    level: AgencyLevel
    procedure_codes: tuple[str, ...]


@dataclass(frozen=True)
class AgencyProvince:
    """A province as the directory knows it: its name and the letter code of its organ ids."""

    name: str
    letter_code: str  # the last group of every organ id in the province
    letter_code_sourced: bool
    city: str  # the provincial capital (district level; codes in units.py)
    ward: str  # a ward of the capital (commune level)


# Legacy 2-digit province code (as in units.py) → its organs.
PROVINCES: Mapping[str, AgencyProvince] = MappingProxyType(
    {
        "91": AgencyProvince("Tỉnh Kiên Giang", "H33", False, "Rạch Giá", "Vĩnh Thanh"),
        "82": AgencyProvince("Tỉnh Tiền Giang", "H58", False, "Mỹ Tho", "1"),
        "60": AgencyProvince("Tỉnh Bình Thuận", "H11", False, "Phan Thiết", "Mũi Né"),
        "93": AgencyProvince("Tỉnh Hậu Giang", "H30", True, "Vị Thanh", "I"),
        "52": AgencyProvince("Tỉnh Bình Định", "H08", False, "Quy Nhơn", "Nhơn Bình"),
    }
)

# Unit number, name pattern, level, procedures. `{province}` is the name without "Tỉnh".
_AGENCY_TEMPLATES: tuple[tuple[str, str, AgencyLevel, tuple[str, ...]], ...] = (
    ("000.00.00", "Ủy ban nhân dân tỉnh {province}", "province", ()),
    ("000.00.01", "Sở Tư pháp tỉnh {province}", "province", ("3.999001",)),
    ("000.00.02", "Sở Xây dựng tỉnh {province}", "province", ("3.999003",)),
    ("000.00.03", "Sở Tài chính tỉnh {province}", "province", ("3.999004",)),
    ("000.00.04", "Công an tỉnh {province}", "province", ("3.999005",)),
    (
        "000.00.05",
        "Ủy ban nhân dân thành phố {city}",
        "district",
        ("2.000815", "1.001612", "3.999002"),
    ),
    (
        "000.00.06",
        "Ủy ban nhân dân phường {ward}, thành phố {city}",
        "commune",
        ("1.001193", "1.000894", "1.000656", "2.000635", "2.000884"),
    ),
    ("000.00.07", "Công an phường {ward}, thành phố {city}", "commune", ("1.004222", "1.004194")),
)


def _agencies(province_code: str, province: AgencyProvince) -> tuple[Agency, ...]:
    short_name = province.name.removeprefix("Tỉnh ")
    return tuple(
        Agency(
            organ_id=f"{unit}.{province.letter_code}",
            name=pattern.format(province=short_name, city=province.city, ward=province.ward),
            province_code=province_code,
            level=level,
            procedure_codes=codes,
        )
        for unit, pattern, level, codes in _AGENCY_TEMPLATES
    )


AGENCIES: Mapping[str, tuple[Agency, ...]] = MappingProxyType(
    {code: _agencies(code, province) for code, province in PROVINCES.items()}
)
_BY_ORGAN_ID = MappingProxyType(
    {agency.organ_id: agency for agencies in AGENCIES.values() for agency in agencies}
)


def known_province(province_code: str) -> AgencyProvince:
    """The province, or ValueError naming the ones the directory knows."""
    if province_code not in PROVINCES:
        known = ", ".join(sorted(PROVINCES))
        raise ValueError(f"no agencies for province {province_code!r} (known: {known})")
    return PROVINCES[province_code]


def find_agency(organ_id: str) -> Agency | None:
    return _BY_ORGAN_ID.get(organ_id)


def receiving_agency(province_code: str, procedure_code: str) -> Agency:
    """The agency of the province that receives dossiers of `procedure_code`."""
    known_province(province_code)
    for agency in AGENCIES[province_code]:
        if procedure_code in agency.procedure_codes:
            return agency
    raise ValueError(f"no agency of province {province_code} handles procedure {procedure_code}")
