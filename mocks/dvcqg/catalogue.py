"""The national catalogues DVCQG shares: agencies (`LayDanhMucCoQuan`) and fields
(`LayDanhMucLinhVuc`), in the names OpenCPS reads.

Source: `VietOpenCPS/opencps-v2`, `DVCQGIntegrationActionImpl.doSyncGovernmentAgency` reads
`MADONVI`, `TENDONVI` and `CAPDONVI` of each `result` item, `doSyncServiceDomain` reads
`MALINHVUC`, `TENLINHVUC` and `MANGANH`. The rows are the directory's (`mocks.directory`):
today's bodies in era 2026, the seeded provinces' in era 2024, each with the people's committees
and police of its communes (`COMMUNE_BODIES`), which receive commune-level dossiers and whose
dossiers the portal takes, and the fields of the portal's procedures. Assigned (no source
gives the values): `CAPDONVI` 1 province, 2 district, 3 commune; `MATINH` (mock addition)
the code of the body's province in the era: today's in 2026 (68, not the retired 60), the
seeded province's in 2024.
`MANGANH` (the sector that owns a field) is not answered: no source gives its values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mocks.directory.admin_units import Era
from mocks.directory.agencies import COMMUNE_BODIES, AgencyLevel, agencies_of
from mocks.directory.agencies import PROVINCES as PORTAL_PROVINCES
from mocks.dvc.procedures import FIELDS

AGENCY_LEVELS: dict[AgencyLevel, str] = {"province": "1", "district": "2", "commune": "3"}
"""`CAPDONVI` of each level (assigned)."""


def agency_rows(province_codes: Iterable[str], *, era: Era) -> list[dict[str, Any]]:
    """Every body of these seeded provinces the portal knows, in the era's directory: the
    province's, then its communes' (a body that receives dossiers is one OpenCPS must know)."""
    return [
        {
            "MADONVI": agency.organ_id,
            "TENDONVI": agency.name,
            "CAPDONVI": AGENCY_LEVELS[agency.level],
            "MATINH": agency.official_code,  # mock addition
        }
        for code in sorted(set(province_codes))
        if code in PORTAL_PROVINCES
        for agency in (*agencies_of(code, era=era), *COMMUNE_BODIES[(era, code)])
    ]


def field_rows() -> list[dict[str, Any]]:
    """The fields of the procedures the portals publish (mock-assigned codes, usual names)."""
    return [{"MALINHVUC": field.code, "TENLINHVUC": field.name} for field in FIELDS]
