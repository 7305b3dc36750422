"""Every body an answer lists carries its era's province code: today's in era 2026 (60 and 93
were retired on 1 July 2025, FIDELITY-2026.md's gap table), the seeded province's in 2024."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest

from mocks.config import SystemConfig
from mocks.directory.agencies import COMMUNE_BODIES, agencies_of
from mocks.qlvb.app import create_app
from tests.fixtures.apps import serving
from tests.fixtures.documents import NOW

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("seeded", "era", "shown"),
    [("60", "2026", "68"), ("93", "2026", "92"), ("91", "2026", "91"), ("60", "2024", "60")],
)
def test_a_body_carries_the_province_code_of_its_era(
    seeded: str, era: Literal["2026", "2024"], shown: str
) -> None:
    bodies = (*agencies_of(seeded, era=era), *COMMUNE_BODIES[(era, seeded)])

    assert {body.official_code for body in bodies} == {shown}
    assert {body.province_code for body in bodies} == {seeded}  # still the directory's key


@pytest.mark.parametrize(("era", "shown"), [("2026", "68"), ("2024", "60")])
async def test_the_document_endpoints_agency_list_shows_the_eras_code(
    tmp_path: Path, era: Literal["2026", "2024"], shown: str
) -> None:
    config = SystemConfig(
        instance="lamdong",
        province_code="60",
        era=era,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'mocks.db'}",
    )
    async with serving(create_app(config, now=lambda: NOW), "http://qlvb.test") as client:
        listed = await client.post("/getAgenciesList", json={})

    assert listed.status_code == 200, listed.text
    agencies = listed.json()["data"]
    assert {agency["province"] for agency in agencies} == {shown}
    assert all(agency["inProvince"] for agency in agencies)
