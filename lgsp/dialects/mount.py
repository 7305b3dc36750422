"""Which door serves which dialect, mounted where: for the app factory, the index and the banner."""

from __future__ import annotations

from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from lgsp.dialects.apim_door import ApimDoor
from lgsp.dialects.door import Door, answer_recorded, problem_reply
from lgsp.dialects.lgspaccesstoken_door import AccessTokenDoor
from lgsp.dialects.opencps_door import OpenCpsDoor
from lgsp.dialects.soap_door import SoapDoor
from lgsp.dialects.vdxpsdk_door import VdxpSdkDoor
from lgsp.errors import DialectNotSpoken
from lgsp.state import BusState, bus_state_from_scope
from lgsp.topology import BUS_DIALECT, Dialect, InstanceSpec

DOORS: dict[Dialect, type[Door]] = {
    "apim": ApimDoor,
    "lgspaccesstoken": AccessTokenDoor,
    "soap": SoapDoor,
    "opencps": OpenCpsDoor,
    "vdxpsdk": VdxpSdkDoor,
}
DOOR_PREFIXES: dict[Dialect, str] = {dialect: door.prefix for dialect, door in DOORS.items()}
"""The path segment under an instance's base where each real dialect's door is."""


def mount_doors(router: Router, spec: InstanceSpec, *, core: ASGIApp, own: ASGIApp) -> None:
    """Mount a door per real dialect `spec` speaks, and a closed one (`ClosedDoor`) at the
    prefix of each it does not; before the instance's own mount, which would otherwise take
    their paths (and answer them with a slash redirect, then a 401 for a token not sent in
    the bus's own way). The door's path itself (`{base}/apim`, no slash after it) is the
    door's too, answered as `{base}/apim/` is."""
    for dialect, prefix in DOOR_PREFIXES.items():
        door: ASGIApp = (
            DOORS[dialect](instance=spec.name, core=core, own=own)
            if dialect in spec.spoken
            else ClosedDoor(instance=spec.name, dialect=dialect)
        )
        at = f"{spec.mount_path}/{prefix}"
        router.routes.append(Route(at, _DoorPath(door, at), include_in_schema=False))
        router.mount(at, door)


class _DoorPath:
    """The door's own path without the slash after it, handed to the door as a mount would
    hand it `{door}/`: an object, not a function, so that the route takes every method."""

    def __init__(self, door: ASGIApp, at: str) -> None:
        self.door = door
        self.at = at

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.door({**scope, "root_path": scope.get("root_path", "") + self.at}, receive, send)


class ClosedDoor:
    """The door of a dialect an instance does not speak: every request is answered 404
    `DIALECT_NOT_SPOKEN`, naming the dialect and the instances that speak it, and recorded
    like any refusal (`answer_recorded`)."""

    def __init__(self, *, instance: str, dialect: Dialect) -> None:
        self.instance = instance
        self.dialect = dialect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        bus = bus_state_from_scope(scope)
        prefix = DOOR_PREFIXES[self.dialect]
        base = str(scope.get("root_path", "")).removesuffix("/" + prefix)
        spoken_at = {
            spec.name: (
                f"{bus.instances[spec.name].issuer}/{prefix}"
                if spec.name in bus.instances
                else f"{spec.mount_path}/{prefix}"
            )
            for spec in bus.topology.instances
            if self.dialect in spec.spoken
        }
        where = (
            "It is spoken at " + ", ".join(f"{name} ({url})" for name, url in spoken_at.items())
            if spoken_at
            else "No instance of this bus speaks it"
        )
        error = DialectNotSpoken(
            f"{self.instance} does not speak the {self.dialect} dialect. {where}. An instance "
            "speaks the dialects its topology entry lists in `dialects`.",
            dialect=self.dialect,
            spoken_at=spoken_at,
            to_speak_it=self._topology_line(bus),
        )
        reply = problem_reply(scope, error, instance=self.instance)
        await answer_recorded(scope, receive, send, reply, instance=self.instance, base=base)

    def _topology_line(self, bus: BusState) -> str:
        """The line of this instance's topology entry (`LGSP_TOPOLOGY_FILE`) that opens the door."""
        spec = bus.topology.get(self.instance)
        spoken = (*(spec.spoken if spec is not None else (BUS_DIALECT,)), self.dialect)
        listed = ", ".join(f'"{dialect}"' for dialect in spoken)
        return f"dialects = [{listed}] in the [[instances]] entry named {self.instance!r}"


def door_urls(spec: InstanceSpec, base_url: str) -> dict[str, str]:
    """Where callers reach the instance in each dialect it speaks (the index, the banner)."""
    return {
        dialect: base_url
        if dialect not in DOOR_PREFIXES
        else f"{base_url}/{DOOR_PREFIXES[dialect]}"
        for dialect in spec.spoken
    }
