"""The national catalogue of administrative units (danh mục đơn vị hành chính) on NDXP.

A real platform shares this catalogue as a category service; its data here are the national
statistics office's list (`mocks.directory.admin_units`), in both eras: the units before
1 July 2025 (with districts) and today's (without). Its wire format is assumed: the NGSP
envelope `{error_code, message, data}` its neighbours on NDXP use, with Vietnamese field
names (`MaDonVi`, `TenDonVi`, `Cap`, `MaTinh`, `MaHuyen`, `TenHuyen`, `KyDuLieu`).

Routes:
- `GET /api/dmhc/{ky}/{ma}` — one unit of era `ky` (2026 or 2024): 2 digits a province, 3 a
  district (2024 only), 5 a ward or commune
- `GET /api/dmhc/2024/{ma}/ke-thua` — today's units an old one went into (several if split)
- `GET /api/dmhc/2026/{ma}/tien-than` — the old units merged into a unit of today (for wards,
  the units the bus seeds)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from fastapi import FastAPI, Path

from formats.ngsp import RECORD_NOT_FOUND
from mocks.config import NO_TELEMETRY, SystemConfig
from mocks.dancu.api import ANSWERS, ERROR_RESPONSES, install_error_handlers
from mocks.directory.admin_units import ADMIN_UNITS, Unit
from mocks.envelope import EnvelopeError

UNIT_CODE = r"^(\d{2}|\d{3}|\d{5})$"
_CAP = {"province": "tinh", "district": "huyen", "ward": "xa"}


def unit_json(unit: Unit) -> dict[str, Any]:
    return {
        "KyDuLieu": unit.era,
        "Cap": _CAP[unit.level],
        "MaDonVi": unit.code,
        "TenDonVi": unit.name,
        "MaTinh": unit.province_code,
        "MaHuyen": unit.district_code,
        "TenHuyen": unit.district_name,
    }


def _not_found() -> EnvelopeError:
    return EnvelopeError(404, RECORD_NOT_FOUND, "RECORD_NOT_FOUND")


def _lineage(
    era: Literal["2026", "2024"],
    code: str,
    key: str,
    linked: Callable[[str], tuple[Unit, ...]],
) -> dict[str, Any]:
    """A unit of `era` and, under `key`, the units of the other era `linked` gives for it."""
    unit = _unit(era, code)
    return {"DonVi": unit_json(unit), key: [unit_json(other) for other in linked(code)]}


def _unit(era: Literal["2026", "2024"], code: str) -> Unit:
    unit = ADMIN_UNITS.unit(era, code)
    if unit is None:
        raise _not_found()
    return unit


def create_app(config: SystemConfig) -> FastAPI:
    """The catalogue; it holds no state and ignores the seed (the list is the national one)."""
    app = FastAPI(
        title="Mock administrative-units catalogue (NDXP)",
        description=f"{ADMIN_UNITS.source}. Legacy JSON in the NGSP envelope.",
        telemetry=NO_TELEMETRY,
    )
    install_error_handlers(app)
    code_path = Path(
        pattern=UNIT_CODE,
        description="2 digits a province, 3 a district (era 2024 only), 5 a ward or commune.",
    )

    @app.get("/api/dmhc/{ky}/{ma}", responses=ERROR_RESPONSES)
    async def get_unit(ky: Literal["2026", "2024"], ma: str = code_path) -> Any:
        """One unit of the era `ky`."""
        return ANSWERS.ok(unit_json(_unit(ky, ma)))

    @app.get("/api/dmhc/2024/{ma}/ke-thua", responses=ERROR_RESPONSES)
    async def get_successors(ma: str = code_path) -> Any:
        """The old unit and today's units it went into, the default successor first."""
        return ANSWERS.ok(_lineage("2024", ma, "KeThua", ADMIN_UNITS.successors))

    @app.get("/api/dmhc/2026/{ma}/tien-than", responses=ERROR_RESPONSES)
    async def get_predecessors(ma: str = code_path) -> Any:
        """Today's unit and the old units merged into it, as far as the list here goes."""
        return ANSWERS.ok(_lineage("2026", ma, "TienThan", ADMIN_UNITS.predecessors))

    return app
