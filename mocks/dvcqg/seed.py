"""What the national portal knows when it starts: every province's seeded dossiers, synced.

Each provincial portal seeds ten dossiers from the shared seed (`mocks.dvc.seed`) and queues no
sync for them: seeding is history, not a change. A real DVCQG would have received each of their
changes long ago, so this mock starts out knowing them, built from the same seed (same seed,
same dossiers, byte for byte). The provincial portal's own `HoSo` already has DVCQG's fields
(DOMAIN.md §4.2, `mocks.dvc.schemas`), so each is taken as that portal serves it, with the
national additions `MaTinh` and `ThuTu`, and validated as any `DongBoHoSoMC` is. A live sync
reaches the national view through the bus's `dvcqg` adapter instead: a test checks that both
paths store the same record. Starting empty would leave the national view without the dossiers
every demo begins with, and a later change of one of them would arrive with no history before it.

A province is seeded once, when the national portal has no dossier of it yet; provinces the
provincial mock has no agencies for (a real portal at a URL) are skipped: their dossiers are
not known from any seed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from mocks.config import SystemConfig
from mocks.directory.admin_units import Era
from mocks.directory.agencies import PROVINCES as PORTAL_PROVINCES
from mocks.dvc.schemas import dossier_json, progress_entry_json
from mocks.dvc.seed import seeded_dossier_codes, seeded_dossiers
from mocks.dvcqg.schemas import HoSo
from mocks.dvcqg.store import NationalStore

logger = logging.getLogger(__name__)


def seeded_items(
    *, province_code: str, seed: int, population: int, era: Era = "2024"
) -> list[HoSo]:
    """The province's seeded dossiers as DVCQG's `HoSo`, each with its whole history."""
    items = []
    for dossier in seeded_dossiers(
        instance="", province_code=province_code, seed=seed, population=population, era=era
    ):
        history = [
            {**progress_entry_json(dossier.code, entry), "ThuTu": entry.position}
            for entry in dossier.progress
        ]
        item = {
            **dossier_json(dossier, province_code=province_code, full=False),
            "MaTinh": province_code,  # mock addition: the real portal knows it from the session
            "ThuTu": dossier.progress[-1].position,  # mock addition: the step it reflects
            "TienTrinh": history,
        }
        items.append(HoSo.model_validate(item))
    return items


def sample_dossiers(config: SystemConfig, count: int) -> dict[str, list[str]]:
    """Seeded national dossier codes to try, taking turns between the provinces."""
    if count < 1:
        return {}
    codes = sorted(config.provinces) or sorted(PORTAL_PROVINCES)
    per_province = [
        seeded_dossier_codes(
            province_code=code, seed=config.seed, population=config.population, era=config.era
        )
        for code in codes
        if code in PORTAL_PROVINCES
    ]
    turns = [
        dossiers[index]
        for index in range(max((len(d) for d in per_province), default=0))
        for dossiers in per_province
        if index < len(dossiers)
    ]
    return {"dossier": turns[:count]} if turns else {}


async def seed_national(
    store: NationalStore,
    *,
    province_codes: Iterable[str],
    seed: int,
    population: int,
    era: Era = "2024",
) -> int:
    """Sync each province's seeded dossiers unless the portal knows some of its dossiers."""
    synced = 0
    for code in province_codes:
        if code not in PORTAL_PROVINCES:
            logger.info("no seeded dossiers for province %s: it starts empty nationally", code)
            continue
        if await store.count(province_code=code):
            continue
        # A process seeding at the same time: its rows or ours, the seed's transaction decides.
        items = seeded_items(province_code=code, seed=seed, population=population, era=era)
        await store.add_known(items)
        synced += len(items)
    return synced
