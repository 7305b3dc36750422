"""The `dmhc` adapter: the national catalogue of administrative units, in both eras.

Canonical operations (catalog `services/dmhc.toml`):
- `get_unit` — `GET /units/{code}?era=2026|2024` (default 2026): one unit
- `get_successors` — `GET /units/{code}/successors`: an old unit (before 1 July 2025) and
  today's units it went into, several when it was split, the default successor first
- `get_predecessors` — `GET /units/{code}/predecessors`: a unit of today and the old units
  merged into it

A code is 2 digits (a province), 3 (a district: era 2024 only, there are none since 1 July
2025; its successors are those of its wards) or 5 (a ward or commune). One number can name
two units, one per era (30769 was Phường Đông Hồ and is Phường Hà Tiên), so every unit says
its `era`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapters._common import EnvelopeAdapter, EnvelopeOperation, FieldReader, refused_as
from adapters.base import (
    AnswerInvalid,
    CanonicalRequest,
    OperationContract,
    SystemRequest,
    TranslationError,
)
from formats.ngsp import RECORD_NOT_FOUND

GET_UNIT = "get_unit"
GET_SUCCESSORS = "get_successors"
GET_PREDECESSORS = "get_predecessors"
ERAS = ("2026", "2024")
_LEVELS = {"tinh": "province", "huyen": "district", "xa": "ward"}


class InvalidUnitRequest(TranslationError):
    code = "INVALID_UNIT_REQUEST"
    status = 400
    title = "The unit code or era is not valid"


class UnitNotFound(TranslationError):
    code = "UNIT_NOT_FOUND"
    status = 404
    title = "No such administrative unit"


class UnitAnswerInvalid(AnswerInvalid):
    code = "DMHC_INVALID_RESPONSE"
    title = "The administrative-units catalogue gave an answer that could not be read"


_FIELDS = FieldReader("The catalogue's", UnitAnswerInvalid)


def _code(request: CanonicalRequest, era: str = "2024") -> str:
    """The path's unit code; a district's (3 digits) only in era 2024: none since 1 July 2025."""
    code = request.path_params.get("code", "")
    if not (code.isascii() and code.isdigit() and len(code) in (2, 3, 5)):
        raise InvalidUnitRequest(
            "A unit code is 2 digits (a province), 3 (a district, era 2024) or 5 (a ward or "
            "commune)."
        )
    if len(code) == 3 and era != "2024":
        raise InvalidUnitRequest(
            "There are no districts since 1 July 2025: ask for a district with ?era=2024, or "
            "for what it became at /units/{code}/successors."
        )
    return code


def _era(request: CanonicalRequest) -> str:
    eras = [value for key, value in request.query if key == "era"]
    if len(eras) > 1 or (eras and eras[0] not in ERAS):
        raise InvalidUnitRequest("Give at most one era: 2026 (today's units) or 2024.")
    return eras[0] if eras else "2026"


def _get(
    path: Callable[[CanonicalRequest], str],
) -> Callable[[CanonicalRequest, date], SystemRequest]:
    def to_system(request: CanonicalRequest, _today: date) -> SystemRequest:
        return SystemRequest(
            method="GET", path=path(request), headers={"Accept": "application/json"}
        )

    return to_system


def unit_to_canonical(record: Any) -> dict[str, Any]:
    record = _FIELDS.mapping(record, "unit")
    era, level = _FIELDS.text(record, "KyDuLieu"), _FIELDS.text(record, "Cap")
    if era not in ERAS or level not in _LEVELS:
        raise UnitAnswerInvalid("The catalogue's KyDuLieu or Cap is not one it may answer.")
    return {
        "era": era,
        "level": _LEVELS[level],
        "code": _FIELDS.text(record, "MaDonVi"),
        "name": _FIELDS.text(record, "TenDonVi"),
        "province_code": _FIELDS.text(record, "MaTinh"),
        "district_code": _FIELDS.optional_text(record, "MaHuyen"),
        "district": _FIELDS.optional_text(record, "TenHuyen"),
    }


def _related(key: str, name: str) -> Callable[[Mapping[str, Any]], Any]:
    def read(envelope: Mapping[str, Any]) -> dict[str, Any]:
        data = _FIELDS.mapping(envelope.get("data"), "data")
        units = data.get(key)
        if not isinstance(units, list):
            raise UnitAnswerInvalid(f"The catalogue's {key} is not a list.")
        return {
            "unit": unit_to_canonical(data.get("DonVi")),
            name: [unit_to_canonical(unit) for unit in units],
        }

    return read


_ERRORS = {
    (404, RECORD_NOT_FOUND): refused_as(
        UnitNotFound, "No unit with this code in this era in the national list."
    ),
    (400, "302"): refused_as(InvalidUnitRequest, "The catalogue refused the code as malformed."),
}
_OPERATIONS: Mapping[str, EnvelopeOperation] = {
    GET_UNIT: EnvelopeOperation(
        to_system=_get(lambda request: f"/api/dmhc/{(era := _era(request))}/{_code(request, era)}"),
        read=lambda envelope: unit_to_canonical(envelope.get("data")),
        errors=_ERRORS,
    ),
    GET_SUCCESSORS: EnvelopeOperation(
        to_system=_get(lambda request: f"/api/dmhc/2024/{_code(request)}/ke-thua"),
        read=_related("KeThua", "successors"),
        errors=_ERRORS,
    ),
    GET_PREDECESSORS: EnvelopeOperation(
        to_system=_get(lambda request: f"/api/dmhc/2026/{_code(request, '2026')}/tien-than"),
        read=_related("TienThan", "predecessors"),
        errors=_ERRORS,
    ),
}


class DmhcAdapter(EnvelopeAdapter):
    """The `dmhc` adapter; its requests do not depend on the date."""

    adapter = "dmhc"
    system = "The administrative-units catalogue"
    payload = "data"
    invalid = UnitAnswerInvalid
    operations = _OPERATIONS


# --- The published contract ---


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    era: Literal["2026", "2024"] = Field(
        description="2026: today's units (since 1 July 2025, no districts); 2024: before."
    )
    level: Literal["province", "district", "ward"] = Field(
        description="`ward`: a ward, commune or special zone; `district`: era 2024 only."
    )
    code: str
    name: str
    province_code: str
    district_code: str | None = Field(description="Era 2024 wards only.")
    district: str | None


class UnitQuery(BaseModel):
    era: Literal["2026", "2024"] = "2026"


class Successors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Unit
    successors: list[Unit] = Field(description="Today's units, the default successor first.")


class Predecessors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: Unit
    predecessors: list[Unit] = Field(
        description="The old units merged into it; for wards, those the bus's seed uses."
    )


_CONTRACT_ERRORS = (InvalidUnitRequest, UnitNotFound, UnitAnswerInvalid)
CONTRACTS: Mapping[str, OperationContract] = {
    GET_UNIT: OperationContract(Unit, query=UnitQuery, errors=_CONTRACT_ERRORS),
    GET_SUCCESSORS: OperationContract(Successors, errors=_CONTRACT_ERRORS),
    GET_PREDECESSORS: OperationContract(Predecessors, errors=_CONTRACT_ERRORS),
}
