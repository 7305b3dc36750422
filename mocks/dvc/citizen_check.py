"""The portal's check of an applicant against the citizen database, made through its own LGSP.

A real one-stop portal does not read the population register directly: it calls the
province's LGSP with its own client (DOMAIN.md §8.6 flow C). So does this mock, through its
`BusClient` (`mocks/bus.py`): it posts the claim to `{bus_url}/dancu/v1/citizens/verify` in the
bus's canonical JSON. Any failure is `CitizenCheckUnavailable`: the portal then files nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import httpx

from mocks.bus import BusClient, BusUnavailable, json_object

VERIFY_PATH = "dancu/v1/citizens/verify"


class CitizenCheckUnavailable(BusUnavailable):
    """The check could not be made through the bus (`timed_out`: the bus was slow); a kind of
    `BusUnavailable` that the portal answers as its own CITIZEN_CHECK_UNAVAILABLE."""


@dataclass(frozen=True)
class CheckResult:
    """`mismatched_fields` uses the bus's canonical names: full_name, date_of_birth."""

    match: bool
    mismatched_fields: tuple[str, ...] = ()


class CitizenCheck:
    """Verifies claims through the bus, as the portal's own client."""

    def __init__(self, bus: BusClient) -> None:
        self._bus = bus

    async def verify(
        self, *, cccd: str, full_name: str, date_of_birth: date, request_id: str | None = None
    ) -> CheckResult:
        """Whether the register holds this citizen with this name and date of birth."""
        claim = {"cccd": cccd, "full_name": full_name, "date_of_birth": date_of_birth.isoformat()}
        try:
            response = await self._bus.call("POST", VERIFY_PATH, json=claim, request_id=request_id)
            if response.status_code != 200:
                raise CitizenCheckUnavailable(
                    f"the citizen check through the bus answered HTTP {response.status_code}"
                )
            return _read_result(response)
        except BusUnavailable as error:
            raise CitizenCheckUnavailable(error.reason, timed_out=error.timed_out) from None


def _read_result(response: httpx.Response) -> CheckResult:
    body = json_object(response)
    match, fields = body.get("match"), body.get("mismatched_fields", [])
    if not isinstance(match, bool) or not isinstance(fields, list):
        raise CitizenCheckUnavailable("the citizen check answered without match")
    if not all(field in ("full_name", "date_of_birth") for field in fields):
        raise CitizenCheckUnavailable("the citizen check named unexpected fields")
    return CheckResult(match=match, mismatched_fields=tuple(fields))
