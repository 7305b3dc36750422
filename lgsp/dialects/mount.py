"""Which door serves which dialect, mounted where: for the app factory, the index and the banner."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp

from lgsp.dialects.apim_door import ApimDoor
from lgsp.dialects.door import Door
from lgsp.dialects.lgspaccesstoken_door import AccessTokenDoor
from lgsp.dialects.opencps_door import OpenCpsDoor
from lgsp.dialects.soap_door import SoapDoor
from lgsp.dialects.vdxpsdk_door import VdxpSdkDoor
from lgsp.topology import Dialect, InstanceSpec

DOORS: dict[Dialect, type[Door]] = {
    "apim": ApimDoor,
    "lgspaccesstoken": AccessTokenDoor,
    "soap": SoapDoor,
    "opencps": OpenCpsDoor,
    "vdxpsdk": VdxpSdkDoor,
}
DOOR_PREFIXES: dict[Dialect, str] = {dialect: door.prefix for dialect, door in DOORS.items()}
"""The path segment under an instance's base where each real dialect's door is."""


def mount_doors(
    mount: Callable[[str, ASGIApp], None], spec: InstanceSpec, *, core: ASGIApp, own: ASGIApp
) -> None:
    """Mount a door per real dialect `spec` speaks; before the instance's own mount, which
    would otherwise take their paths."""
    for dialect in spec.spoken:
        if dialect in DOOR_PREFIXES:
            door = DOORS[dialect](instance=spec.name, core=core, own=own)
            mount(f"{spec.mount_path}/{DOOR_PREFIXES[dialect]}", door)


def door_urls(spec: InstanceSpec, base_url: str) -> dict[str, str]:
    """Where callers reach the instance in each dialect it speaks (the index, the banner)."""
    return {
        dialect: base_url
        if dialect not in DOOR_PREFIXES
        else f"{base_url}/{DOOR_PREFIXES[dialect]}"
        for dialect in spec.spoken
    }
