"""Where else to ask: what the gateway adds to a system's refusal when it knows more than the
system does.

A provincial citizen database holds only the citizens of the records it was given (`seed_code`:
Lâm Đồng's are ex-Bình Thuận's), and answers "not found" for anyone else's; the first three
digits of a CCCD name the province that registered it, by its code before 1 July 2025. The
gateway knows the topology, so it can name the instance whose province is, or since the merger
contains, that one (`X-LGSP-Target`), or the national database behind NDXP (`csdlqgdc`).
"""

from __future__ import annotations

from formats.cccd import PROVINCE_CODES
from formats.errors import TranslationError
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.topology import InstanceSpec, Topology

CITIZEN_NOT_FOUND = "CITIZEN_NOT_FOUND"
NATIONAL_CITIZEN_SERVICE = "csdlqgdc"


def serving_instance(registered_in: str, topology: Topology) -> InstanceSpec | None:
    """The province instance that serves the citizens `registered_in` (an old province code, as
    a CCCD carries it): the one holding that province's records, else the one whose province
    has that code today, else the one it was merged into (`legacy_codes`)."""
    provinces = [spec for spec in topology.instances if spec.kind == "province"]
    for serves in (
        lambda spec: spec.seed_code == registered_in,
        lambda spec: spec.province_code == registered_in,
        lambda spec: registered_in in spec.legacy_codes,
    ):
        found = next((spec for spec in provinces if serves(spec)), None)
        if found is not None:
            return found
    return None


def add_hint(error: TranslationError, here: InstanceSpec, topology: Topology) -> None:
    """Add `hint` (and `target_instance` when another instance serves that province) to a
    citizen that is not found in this province's database but was registered in another
    province, or in one merged into this one whose records it does not hold; else nothing."""
    registered_in = error.extensions.get("registered_in")
    if (
        error.code != CITIZEN_NOT_FOUND
        or here.kind != "province"
        or not isinstance(registered_in, str)
        or registered_in == here.seed_code
    ):
        return
    owner = serving_instance(registered_in, topology)
    held = f"{here.seed_code} ({PROVINCE_CODES.get(f'0{here.seed_code}', 'unnamed')})"
    if owner is not None and owner.name == here.name:
        where = (
            f"that province is part of {here.name}'s since 1 July 2025, but the citizen is not "
            "in this instance's records; "
        )
    elif owner is not None:
        where = f"ask its LGSP with the header `{TARGET_HEADER}: {owner.name}`, or "
    else:
        where = "no instance of this bus serves that province; "
    error.extensions["hint"] = (
        f"This CCCD was registered in province {registered_in}, and {here.name}'s citizen "
        f"database holds only the citizens registered in province {held}: {where}ask the "
        f"national population database (`{NATIONAL_CITIZEN_SERVICE}`) through NDXP."
    )
    if owner is not None and owner.name != here.name:
        error.extensions["target_instance"] = owner.name
