"""The citizen database the mock serves: read-only and in memory, rebuilt from the seed each start.

Nothing is ever written, so there is nothing to persist or lock: the same seed gives the same
store in every process, which is what lets the gateway run the mock in-process or on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import MappingProxyType

from mocks.dancu.seed import CitizenRecord, generate_citizens


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
    def from_seed(cls, *, province_code: str, seed: int, count: int) -> CitizenStore:
        return cls(generate_citizens(province_code=province_code, seed=seed, count=count))

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
