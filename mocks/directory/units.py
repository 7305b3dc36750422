"""Real administrative units of the five seeded provinces, shared by the mocks that need them.

The citizen databases give addresses in them and the agency directory (`agencies.py`) places its
agencies in their capitals.

Administrative units are the pre-1 July 2025 ones (QĐ 124/2004/QĐ-TTg codes: 2-digit provinces,
3-digit districts, 5-digit communes; DOMAIN.md §6.1), because every CCCD and address issued
before the merger still carries them. The codes in `_UNITS` were checked against the legacy
tables of the `vietnam-provinces` PyPI package (2026.9.0 `legacy/_lookup.py`; 0.6.0 agrees for
these units). Each province lists a few of its units, not all. Street and hamlet names are
plausible, not a gazetteer: they are not claimed to lie in a particular commune.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# Province (2 digits), district (3, indented 4) and commune (5, indented 8): code, then name.
_UNITS = """
91 Tỉnh Kiên Giang
    899 Thành phố Rạch Giá
        30733 Phường Vĩnh Thanh
        30736 Phường Vĩnh Quang
        30748 Phường An Hòa
    900 Thành phố Hà Tiên
        30766 Phường Tô Châu
        30769 Phường Đông Hồ
        30772 Phường Bình San
    911 Thành phố Phú Quốc
        31078 Phường Dương Đông
        31081 Phường An Thới
        31093 Xã Hàm Ninh
    904 Huyện Tân Hiệp
        30850 Thị trấn Tân Hiệp
        30853 Xã Tân Hội
        30856 Xã Tân Thành
82 Tỉnh Tiền Giang
    815 Thành phố Mỹ Tho
        28261 Phường 1
        28264 Phường 2
        28252 Phường 4
    816 Thành phố Gò Công
        28300 Phường 1
        28297 Phường 2
        28309 Phường Long Hưng
    819 Huyện Cái Bè
        28360 Thị trấn Cái Bè
        28369 Xã Mỹ Trung
        28372 Xã Hậu Mỹ Trinh
    822 Huyện Chợ Gạo
        28594 Thị trấn Chợ Gạo
        28597 Xã Trung Hòa
        28600 Xã Hòa Tịnh
60 Tỉnh Bình Thuận
    593 Thành phố Phan Thiết
        22915 Phường Mũi Né
        22918 Phường Hàm Tiến
        22921 Phường Phú Hài
    594 Thị xã La Gi
        23231 Phường Phước Hội
        23232 Phường Phước Lộc
        23234 Phường Tân Thiện
    595 Huyện Tuy Phong
        22969 Thị trấn Liên Hương
        22972 Thị trấn Phan Rí Cửa
        22975 Xã Phan Dũng
    597 Huyện Hàm Thuận Bắc
        23059 Thị trấn Ma Lâm
        23062 Thị trấn Phú Long
        23065 Xã La Dạ
93 Tỉnh Hậu Giang
    930 Thành phố Vị Thanh
        31318 Phường I
        31321 Phường III
        31333 Xã Vị Tân
    931 Thành phố Ngã Bảy
        31340 Phường Ngã Bảy
        31341 Phường Lái Hiếu
        31343 Phường Hiệp Thành
    932 Huyện Châu Thành A
        31342 Thị trấn Một Ngàn
        31346 Thị trấn Bảy Ngàn
        31345 Xã Tân Hòa
    934 Huyện Phụng Hiệp
        31393 Thị trấn Kinh Cùng
        31396 Thị trấn Cây Dương
        31399 Xã Tân Bình
52 Tỉnh Bình Định
    540 Thành phố Quy Nhơn
        21550 Phường Nhơn Bình
        21553 Phường Nhơn Phú
        21556 Phường Đống Đa
    549 Thị xã An Nhơn
        21907 Phường Bình Định
        21910 Phường Đập Đá
        21916 Phường Nhơn Thành
    543 Thị xã Hoài Nhơn
        21637 Phường Tam Quan
        21640 Phường Bồng Sơn
        21643 Xã Hoài Sơn
    547 Huyện Tây Sơn
        21808 Thị trấn Phú Phong
        21811 Xã Bình Tân
        21814 Xã Tây Thuận
"""

# Street names common in each province's towns, and the word for a rural hamlet there.
_STREETS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "91": (("Nguyễn Trung Trực", "Trần Phú", "Lạc Hồng", "Mạc Cửu", "Ngô Quyền"), "Ấp"),
    "82": (("Ấp Bắc", "Hùng Vương", "Lê Lợi", "Nam Kỳ Khởi Nghĩa", "Trưng Trắc"), "Ấp"),
    "60": (("Trần Hưng Đạo", "Thủ Khoa Huân", "Tôn Đức Thắng", "Nguyễn Đình Chiểu"), "Thôn"),
    "93": (("Trần Hưng Đạo", "Nguyễn Công Trứ", "Hùng Vương", "Lê Hồng Phong"), "Ấp"),
    "52": (("Xuân Diệu", "An Dương Vương", "Nguyễn Huệ", "Lê Hồng Phong", "Quang Trung"), "Thôn"),
}


@dataclass(frozen=True)
class Commune:
    """A ward (phường), township (thị trấn) or rural commune (xã), with its 5-digit code."""

    code: str
    name: str

    @property
    def is_urban(self) -> bool:
        """Urban units address a home by house number and street, rural ones by hamlet."""
        return self.name.startswith(("Phường", "Thị trấn"))


@dataclass(frozen=True)
class District:
    code: str
    name: str
    communes: tuple[Commune, ...]


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    districts: tuple[District, ...]
    streets: tuple[str, ...]
    hamlet_word: str


def _parse_units(table: str) -> dict[str, Province]:
    """Read `_UNITS`; each unit is a line `code name`, nested by indentation."""
    tree: list[tuple[str, str, list[tuple[str, str, list[Commune]]]]] = []
    for line in table.strip().splitlines():
        code, name = line.strip().split(" ", 1)
        depth = (len(line) - len(line.lstrip(" "))) // 4
        if depth == 0:
            tree.append((code, name, []))
        elif depth == 1:
            tree[-1][2].append((code, name, []))
        else:
            tree[-1][2][-1][2].append(Commune(code, name))
    return {
        code: Province(
            code=code,
            name=name,
            districts=tuple(District(dc, dn, tuple(communes)) for dc, dn, communes in districts),
            streets=_STREETS[code][0],
            hamlet_word=_STREETS[code][1],
        )
        for code, name, districts in tree
    }


PROVINCES: Mapping[str, Province] = MappingProxyType(_parse_units(_UNITS))
