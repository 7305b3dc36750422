"""The national portal's seed, checked against the bus's own translation of the same dossiers.

The mock writes each seeded `HoSo` itself (`mocks.dvcqg.seed`); a live sync reaches it through
the `dvcqg` adapter from the portal's canonical JSON (`mocks.dvc.sync`). Both must store the
same record, or a change of a seeded dossier would arrive at a national view that disagrees
with what syncing its history would have built.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters._dvcqg_contracts import DossierSnapshot, ProgressEntry
from adapters.dvcqg import progress_to_native, snapshot_to_native
from mocks.directory.agencies import PROVINCES
from mocks.dvc.seed import seeded_dossiers
from mocks.dvc.sync import progress_json, snapshot_json
from mocks.dvcqg.schemas import HoSo
from mocks.dvcqg.seed import seeded_items

SEED, POPULATION = 2024, 60


def synced_through_the_adapter(province_code: str) -> list[dict[str, Any]]:
    """Each seeded dossier as the adapter writes it from the portal's canonical sync body."""
    items = []
    for dossier in seeded_dossiers(
        instance="", province_code=province_code, seed=SEED, population=POPULATION
    ):
        snapshot = DossierSnapshot.model_validate_json(
            json.dumps(snapshot_json(dossier, province_code=province_code))
        )
        item = snapshot_to_native(
            snapshot, province_code=province_code, step=dossier.progress[-1].position
        )
        item["TienTrinh"] = [
            progress_to_native(
                dossier.code,
                entry.position,
                ProgressEntry.model_validate_json(json.dumps(progress_json(entry))),
            )
            for entry in dossier.progress
        ]
        items.append(HoSo.model_validate(item).model_dump(by_alias=True))
    return items


@pytest.mark.parametrize("province_code", sorted(PROVINCES))
def test_seeded_dossiers_are_stored_as_a_live_sync_would_store_them(province_code: str) -> None:
    seeded = [
        item.model_dump(by_alias=True)
        for item in seeded_items(province_code=province_code, seed=SEED, population=POPULATION)
    ]

    assert seeded == synced_through_the_adapter(province_code)
    assert seeded  # every seeded province has dossiers to compare
