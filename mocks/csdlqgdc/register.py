"""The national population register: every province's citizens, each province built on demand.

The national database holds the same people as the provincial ones (a CCCD found in a province
is found nationally, with the same record), so it is the union of what `mocks.dancu.seed`
generates for each province, with the same seed and population. Generating a province of
100,000 citizens takes about a second and some 45 MB, so nothing is built at start: a province is
generated the first time a lookup needs it, in a worker thread (the event loop keeps serving),
once per process (`province_store` is memoised, so every national app in a process shares it).

Where to look: digits 1-3 of a CCCD name the province where the birth was registered
(Nghị định 137/2015 Art. 13), which is the province of residence for nine residents in ten
(`mocks.dancu.seed.BORN_ELSEWHERE`), so that province is searched first, then the others in
code order. A number no province holds is searched everywhere once; afterwards every province is
in memory. Households are found by their commune (`ma_ho` starts with it), which lies in
exactly one province.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Literal

from mocks.dancu.seed import CitizenRecord
from mocks.dancu.store import CitizenStore
from mocks.directory.units import PROVINCES

MAX_CACHED_PROVINCES = 16

_COMMUNE_PROVINCE: Mapping[str, str] = MappingProxyType(
    {
        commune.code: province.code
        for province in PROVINCES.values()
        for district in province.districts
        for commune in district.communes
    }
)


@functools.lru_cache(maxsize=MAX_CACHED_PROVINCES)
def province_store(
    province_code: str, seed: int, population: int, era: Literal["2024", "2026"] = "2024"
) -> CitizenStore:
    """One province's register, built once per process for a (province, seed, population,
    era)."""
    return CitizenStore.from_seed(province_code=province_code, seed=seed, count=population, era=era)


class NationalRegister:
    """The citizens of `province_codes`; `loaded` says which provinces are built so far."""

    def __init__(
        self,
        province_codes: Iterable[str],
        *,
        seed: int,
        population: int,
        era: Literal["2024", "2026"] = "2024",
    ) -> None:
        codes = tuple(dict.fromkeys(province_codes))
        unknown = sorted(set(codes) - set(PROVINCES))
        if unknown:
            raise ValueError(f"no seed data for province(s) {', '.join(unknown)}")
        if not codes:
            raise ValueError("the national register needs at least one province")
        self.province_codes = codes
        self._seed, self._population, self._era = seed, population, era
        self._stores: dict[str, CitizenStore] = {}
        self._locks = {code: asyncio.Lock() for code in codes}

    @property
    def loaded(self) -> tuple[str, ...]:
        return tuple(code for code in self.province_codes if code in self._stores)

    def __len__(self) -> int:
        """Known without building anything: every province has `population` citizens."""
        return self._population * len(self.province_codes)

    async def province(self, code: str) -> CitizenStore:
        """Province `code`'s citizens, generated the first time they are asked for."""
        store = self._stores.get(code)
        if store is not None:
            return store
        async with self._locks[code]:  # two lookups at once build the province once
            if code not in self._stores:
                # era 2024 keeps the three-argument call (one cache key per province)
                era = () if self._era == "2024" else (self._era,)
                self._stores[code] = await asyncio.to_thread(
                    province_store, code, self._seed, self._population, *era
                )
        return self._stores[code]

    async def find(self, number: str) -> tuple[CitizenRecord, CitizenStore] | None:
        """The citizen with this CCCD number and the province register holding them."""
        for code in self._search_order(number):
            store = await self.province(code)
            citizen = store.get(number)
            if citizen is not None:
                return citizen, store
        return None

    async def household(self, ma_ho: str) -> tuple[Sequence[CitizenRecord], CitizenStore] | None:
        """The members of household `ma_ho`, head first, and their province's register."""
        code = _COMMUNE_PROVINCE.get(ma_ho.partition("-")[0])
        if code is None or code not in self._locks:
            return None
        store = await self.province(code)
        members = store.household(ma_ho)
        return (members, store) if members else None

    async def page(self, *, number: int, size: int) -> list[tuple[CitizenRecord, CitizenStore]]:
        """Page `number` (from 1) of the provinces' citizens one province after the other."""
        if number < 1 or size < 1:
            raise ValueError(f"page number and size start at 1, got {number} and {size}")
        start = (number - 1) * size
        found: list[tuple[CitizenRecord, CitizenStore]] = []
        for index, code in enumerate(self.province_codes):
            first = index * self._population  # the province's first citizen, nationally
            if start + size <= first or start >= first + self._population:
                continue
            store = await self.province(code)
            offset = max(start - first, 0)
            wanted = min(size - len(found), self._population - offset)
            found += [(citizen, store) for citizen in _slice(store, offset, wanted)]
        return found

    def _search_order(self, number: str) -> list[str]:
        birth_province = number[1:3]  # "091…" → "91"
        first = [birth_province] if birth_province in self._locks else []
        return first + [code for code in self.province_codes if code != birth_province]


def _slice(store: CitizenStore, offset: int, count: int) -> Sequence[CitizenRecord]:
    """`count` citizens from position `offset` of the store's stable order.

    `CitizenStore.page` serves aligned pages only; the two pages of size `count` around
    `offset` hold the span, so no more than `2 * count` records are ever copied.
    """
    if count <= 0:
        return ()
    number = offset // count + 1
    span = [*store.page(number=number, size=count), *store.page(number=number + 1, size=count)]
    start = offset - (number - 1) * count
    return span[start : start + count]
