"""The names the citizen generator draws from: family, middle and given names, and hamlets."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Approximate shares (%) of the commonest family names, as commonly quoted (e.g. Wikipedia,
# "Vietnamese name"); not from DOMAIN.md. The five seeded provinces are southern or south-central,
# where Huỳnh and Võ are the usual forms of Hoàng and Vũ, so each pair is split that way.
FAMILY_NAMES: tuple[tuple[str, float], ...] = (
    ("Nguyễn", 38.0), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.0), ("Huỳnh", 4.0),
    ("Hoàng", 1.1), ("Phan", 4.5), ("Võ", 3.0), ("Vũ", 0.9), ("Đặng", 2.1), ("Bùi", 2.0),
    ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Lý", 0.5), ("Trương", 0.8),
    ("Đinh", 0.6), ("Lâm", 0.5), ("Mai", 0.4), ("Châu", 0.3),
)  # fmt: skip

# Repeats weight the commonest middle names: Văn for men, Thị for women.
MIDDLE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "male": ("Văn", "Văn", "Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Tấn"),
        "female": ("Thị", "Thị", "Thị", "Ngọc", "Thanh", "Thu", "Kim", "Mỹ", "Thúy", "Hồng"),
    }
)

GIVEN_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "male": (
            "An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khang",
            "Khoa", "Lộc", "Long", "Lực", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân",
            "Quang", "Sơn", "Tài", "Tâm", "Thắng", "Thành", "Thịnh", "Toàn", "Trí", "Trung",
            "Tuấn", "Việt", "Vinh", "Vũ",
        ),
        "female": (
            "Anh", "Châu", "Diễm", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hoa",
            "Hồng", "Hương", "Lan", "Liên", "Linh", "Loan", "Mai", "My", "Ngân", "Nhung",
            "Oanh", "Phượng", "Quyên", "Thảo", "Thủy", "Trang", "Trinh", "Tuyết", "Vân", "Yến",
        ),
    }
)  # fmt: skip

# Common hamlet names (ấp in the Mekong delta, thôn further north-east), drawn per household.
HAMLET_NAMES: tuple[str, ...] = (
    "Tân Lập", "Phú Hòa", "Thạnh Lợi", "Bình An", "Mỹ Phước", "Long Thạnh", "Hòa Bình",
    "An Thành", "Phước Hưng", "Tân Thới", "Vĩnh Lợi", "Đông An",
)  # fmt: skip

# Era 2026: the Khmer households of the provinces where the Khmer live (ex-Kiên Giang and
# ex-Hậu Giang among the seeded ones; ex-Sóc Trăng, now also Cần Thơ, is not seeded). The share
# of households is assigned, in the order of the provinces' published census shares; the names
# are plausible Khmer names as Vietnamese records write them, not a register.
KHMER_SHARE: Mapping[str, float] = MappingProxyType({"91": 0.12, "93": 0.04})
KHMER_FAMILY_NAMES: tuple[str, ...] = ("Danh", "Thạch", "Sơn", "Kim", "Lâm", "Lý", "Chau")
KHMER_MIDDLE_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"male": ("", "Văn", ""), "female": ("Thị", "Thị", "Neáng")}
)
KHMER_GIVEN_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "male": ("Sa Rết", "Sóc", "Phol", "Sang", "Chanh", "Sô Phách", "Rươne", "Sa Ron", "Út"),
        "female": ("Sa Ra", "Sa Vênh", "Chanh Thu", "Sô Phia", "Srây", "Sa Rinh", "Pha Ly", "Mum"),
    }
)
