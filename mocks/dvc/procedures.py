"""The administrative procedures (TTHC) a citizen can file on the mock portal, and their search.

One catalogue serves all five seeded provinces: these are national procedures, and each province
publishes them under its own suffix (`1.001193.000.00.00.H30`, DOMAIN.md §4.5; see
`provincial_procedure_code`).

Provenance, entry by entry (`code_sourced`):
- **Sourced** national codes (`MaTTHC`) were each found beside the procedure's name in public code
  that drives the national portal (DVCQG URLs such as `dvc-chi-tiet-thu-tuc-hanh-chinh.html?
  ma_thu_tuc=1.001193`, procedure databases and registries), at least twice for most.
- **Mock-assigned** codes use the range 3.999xxx so that nobody mistakes them for real ones.
- Field codes (`MaLinhVuc`, form `G03-GD10`, DOMAIN.md §4.5) are all mock-assigned, with the
  prefix Z00; the field names are the usual ones.
- Processing times are the statutory ones as commonly published (Luật Hộ tịch 2014, Luật Cư trú
  2020, Luật Doanh nghiệp 2020, Luật Xây dựng); fees are the usual published amounts, several of
  which each province's People's Council sets. One value is used everywhere; not re-verified.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Generic, Literal, TypeVar, get_args

from formats.codes import procedure_code_forms
from mocks.directory.admin_units import Era
from mocks.directory.agencies import AgencyLevel, known_province, level_today

OnlineService = Literal["partial", "full"]  # dịch vụ công trực tuyến một phần / toàn trình
MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """A lĩnh vực: `MaLinhVuc` and `TenLinhVuc` of DongBoHoSoMC (DOMAIN.md §4.2)."""

    code: str
    name: str


@dataclass(frozen=True)
class Procedure:
    """One TTHC: `MaTTHC`, `TenTTHC` and what the one-stop office needs to handle it."""

    code: str
    name: str
    field: Field
    online_service: OnlineService
    processing_days: int  # working days; 0 means the same day ("trong ngày")
    fee_vnd: int
    level: AgencyLevel  # the level of the agency that receives and decides it
    code_sourced: bool


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results; `total` counts every match, not only this page's."""

    items: tuple[T, ...]
    page: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.size)


HO_TICH = Field("Z00-HT01", "Hộ tịch")
CHUNG_THUC = Field("Z00-CT01", "Chứng thực")
CU_TRU = Field("Z00-CA01", "Đăng ký, quản lý cư trú")
LY_LICH_TU_PHAP = Field("Z00-LL01", "Lý lịch tư pháp")
XAY_DUNG = Field("Z00-XD01", "Hoạt động xây dựng")
HO_KINH_DOANH = Field("Z00-KD01", "Thành lập và hoạt động của hộ kinh doanh")
DOANH_NGHIEP = Field("Z00-KD02", "Thành lập và hoạt động doanh nghiệp")
DUONG_BO = Field("Z00-GT01", "Đường bộ")

_P = Procedure
# fmt: off
PROCEDURES: tuple[Procedure, ...] = (
    _P("1.001193", "Đăng ký khai sinh", HO_TICH, "full", 0, 0, "commune", True),
    _P("1.000894", "Đăng ký kết hôn", HO_TICH, "partial", 0, 0, "commune", True),
    _P("1.000656", "Đăng ký khai tử", HO_TICH, "full", 0, 0, "commune", True),
    _P("2.000635", "Cấp bản sao Trích lục hộ tịch", HO_TICH, "full", 0, 8_000, "commune", True),
    _P(
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của "
        "Việt Nam cấp hoặc chứng nhận",
        CHUNG_THUC, "partial", 0, 2_000, "district", True,  # 2,000 VND per page for 2 pages
    ),
    _P(
        "2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", CHUNG_THUC, "partial", 0,
        10_000, "commune", True,
    ),
    _P("1.004222", "Đăng ký thường trú", CU_TRU, "full", 7, 20_000, "commune", True),
    _P("1.004194", "Đăng ký tạm trú", CU_TRU, "full", 3, 15_000, "commune", True),
    _P(
        "1.001612", "Đăng ký thành lập hộ kinh doanh", HO_KINH_DOANH, "full", 3, 100_000,
        "district", True,
    ),
    _P(
        "3.999001",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại "
        "Việt Nam",
        LY_LICH_TU_PHAP, "full", 10, 200_000, "province", False,
    ),
    _P(
        "3.999002", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", XAY_DUNG, "partial", 15,
        75_000, "district", False,
    ),
    _P(
        "3.999003", "Cấp giấy phép xây dựng mới đối với công trình cấp I, cấp II", XAY_DUNG,
        "partial", 20, 150_000, "province", False,
    ),
    _P(
        "3.999004", "Đăng ký thành lập doanh nghiệp tư nhân", DOANH_NGHIEP, "full", 3, 50_000,
        "province", False,
    ),
    _P("3.999005", "Đổi giấy phép lái xe", DUONG_BO, "full", 5, 135_000, "province", False),
)
# fmt: on

BY_CODE = MappingProxyType({procedure.code: procedure for procedure in PROCEDURES})
FIELDS: tuple[Field, ...] = tuple(dict.fromkeys(procedure.field for procedure in PROCEDURES))


def fold(text: str) -> str:
    """Lower case without diacritics, so that "Đăng ký", "dang ky" and "ĐĂNG KÝ" compare equal.

    `đ` is a letter of its own, not `d` with a mark, so NFD leaves it and it is mapped by hand.
    """
    decomposed = unicodedata.normalize("NFD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("đ", "d").split())


_SEARCH_TEXT = MappingProxyType({p.code: f"{fold(p.name)} {p.code}" for p in PROCEDURES})


def _matches_field(procedure: Procedure, field: str) -> bool:
    return field == procedure.field.code or fold(field) == fold(procedure.field.name)


def search_procedures(
    query: str | None,
    *,
    field: str | None = None,
    level: str | None = None,
    page: int = 1,
    size: int = 20,
    era: Era = "2024",
) -> Page[Procedure]:
    """Procedures whose name (or code) contains every word of `query`, ignoring case and
    diacritics.

    `field` is a field code or name; `level` one of province, district, commune. Pages start
    at 1 and hold at most `MAX_PAGE_SIZE` items; a page past the end is empty.
    """
    if page < 1:
        raise ValueError(f"pages start at 1, got {page}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be 1..{MAX_PAGE_SIZE}, got {size}")
    if level is not None and level not in get_args(AgencyLevel):
        raise ValueError(f"level must be one of {', '.join(get_args(AgencyLevel))}, got {level!r}")
    words = fold(query or "").split()
    found: Sequence[Procedure] = [
        p
        for p in PROCEDURES
        if all(word in _SEARCH_TEXT[p.code] for word in words)
        and (field is None or _matches_field(p, field))
        and (level is None or level_in(p, era) == level)
    ]
    start = (page - 1) * size
    return Page(items=tuple(found[start : start + size]), page=page, size=size, total=len(found))


def level_in(procedure: Procedure, era: Era) -> AgencyLevel:
    """The level that receives `procedure` in `era`: since 1 July 2025 there is no district."""
    return (level_today(procedure.code) if era == "2026" else None) or procedure.level


def provincial_procedure_code(procedure_code: str, province_code: str) -> str:
    """The seeded province's `MaTTHC`, e.g. `1.001193.000.00.00.H30` (DOMAIN.md §4.5, §8.2)."""
    return procedure_code_under(procedure_code, known_province(province_code).letter_code)


def procedure_code_under(procedure_code: str, letter_code: str) -> str:
    """The `MaTTHC` a province publishes under its level-1 code: `2.000635.000.00.00.H21`.

    Gia Lai's iGate today writes this long form for the procedures it had before 2025 and the
    short form `1.012784.H21` for newer ones (FIDELITY-2026.md §1); the portal accepts both
    (`procedure_codes_accepted`)."""
    return procedure_codes_accepted(procedure_code, letter_code)[1]


def procedure_codes_accepted(procedure_code: str, letter_code: str) -> tuple[str, ...]:
    """The spellings of a procedure a filing may use: national, long and short form
    (`formats.codes.procedure_code_forms`, which the OpenCPS door's `LayThuTuc` reads too)."""
    if procedure_code not in BY_CODE:
        raise ValueError(f"unknown procedure {procedure_code!r}")
    return procedure_code_forms(procedure_code, letter_code)
