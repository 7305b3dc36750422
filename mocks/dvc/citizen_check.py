"""The portal's check of an applicant against the citizen databases, made through its own LGSP.

A real one-stop portal does not read the population register directly: it calls the
province's LGSP with its own client (DOMAIN.md §8.6 flow C). So does this mock, through its
`BusClient` (`mocks/bus.py`): it posts the claim to `{bus_url}/dancu/v1/citizens/verify` in the
bus's canonical JSON. The province's register holds its residents only; a citizen of another
province is answered like an unknown number (wrong in both fields), so the portal then asks the
national population database (`csdlqgdc`, owned by NDXP) through the same LGSP, which forwards
to NDXP, under the same request id. Any failure is `CitizenCheckUnavailable`, naming the
register that failed: the portal then files nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import httpx

from mocks.bus import BusClient, BusUnavailable, json_object

VERIFY_PATH = "dancu/v1/citizens/verify"
CITIZEN_PATH = "dancu/v1/citizens"
NATIONAL_VERIFY_PATH = "csdlqgdc/v1/citizens/verify"
FIELDS = ("full_name", "date_of_birth")
Register = Literal["province", "national"]
_PATHS: dict[Register, str] = {"province": VERIFY_PATH, "national": NATIONAL_VERIFY_PATH}
_NAMES: dict[Register, str] = {
    "province": "the province's citizen database",
    "national": "the national population database (csdlqgdc, through NDXP)",
}


class CitizenCheckUnavailable(BusUnavailable):
    """The check could not be made through the bus (`timed_out`: the bus was slow); a kind of
    `BusUnavailable` that the portal answers as its own CITIZEN_CHECK_UNAVAILABLE. `register`
    says which database could not be asked."""

    def __init__(self, reason: str, *, timed_out: bool = False, register: Register) -> None:
        super().__init__(reason, timed_out=timed_out)
        self.register = register


@dataclass(frozen=True)
class CheckResult:
    """`mismatched_fields` uses the bus's canonical names: full_name, date_of_birth.
    `register`: the database that answered last."""

    match: bool
    mismatched_fields: tuple[str, ...] = ()
    register: Register = "province"


class CitizenCheck:
    """Verifies claims through the bus, as the portal's own client."""

    def __init__(self, bus: BusClient) -> None:
        self._bus = bus

    async def verify(
        self, *, cccd: str, full_name: str, date_of_birth: date, request_id: str | None = None
    ) -> CheckResult:
        """Whether the province's register, or else the national one, holds this citizen with
        this name and date of birth."""
        claim = {"cccd": cccd, "full_name": full_name, "date_of_birth": date_of_birth.isoformat()}
        local = await self._ask("province", claim, request_id)
        if local.match or set(local.mismatched_fields) != set(FIELDS):
            return local  # a resident, rightly or wrongly claimed
        return await self._ask("national", claim, request_id)

    async def commune_of(self, cccd: str, *, request_id: str | None = None) -> str | None:
        """The commune of residence (a code of the era's map) the province's register holds
        for `cccd`, to route a commune-level dossier there; None when it cannot say (a citizen
        of another province, a failure): the portal then files with the capital ward's bodies."""
        try:
            response = await self._bus.call("GET", f"{CITIZEN_PATH}/{cccd}", request_id=request_id)
            if response.status_code != 200:
                return None
            address = json_object(response).get("permanent_address")
        except BusUnavailable:
            return None
        code = address.get("commune_code") if isinstance(address, dict) else None
        return code if isinstance(code, str) and code.isdigit() and len(code) == 5 else None

    async def _ask(
        self, register: Register, claim: dict[str, str], request_id: str | None
    ) -> CheckResult:
        try:
            response = await self._bus.call(
                "POST", _PATHS[register], json=claim, request_id=request_id
            )
            if response.status_code != 200:
                raise CitizenCheckUnavailable(
                    f"{_NAMES[register]} answered HTTP {response.status_code} through the bus",
                    register=register,
                )
            return _read_result(response, register)
        except CitizenCheckUnavailable:
            raise
        except BusUnavailable as error:
            raise CitizenCheckUnavailable(
                f"{_NAMES[register]}: {error.reason}", timed_out=error.timed_out, register=register
            ) from None


def _read_result(response: httpx.Response, register: Register) -> CheckResult:
    body = json_object(response)
    match, fields = body.get("match"), body.get("mismatched_fields", [])
    if not isinstance(match, bool) or not isinstance(fields, list):
        raise CitizenCheckUnavailable(
            f"{_NAMES[register]} answered without match", register=register
        )
    if not all(field in FIELDS for field in fields):
        raise CitizenCheckUnavailable(
            f"{_NAMES[register]} named unexpected fields", register=register
        )
    return CheckResult(match=match, mismatched_fields=tuple(fields), register=register)
