"""Where else to ask: what the gateway adds to a system's refusal when it knows more than the
system does.

A provincial citizen database holds only the citizens of the records it was given (`seed_code`:
Lâm Đồng's are ex-Bình Thuận's), and answers "not found" for anyone else's; the first three
digits of a CCCD name the province that registered it. The gateway knows the topology, so it can
name the instance to ask (`X-LGSP-Target`) or the national database behind NDXP (`csdlqgdc`).
"""

from __future__ import annotations

from formats.cccd import PROVINCE_CODES
from formats.errors import TranslationError
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.topology import InstanceSpec, Topology

CITIZEN_NOT_FOUND = "CITIZEN_NOT_FOUND"
NATIONAL_CITIZEN_SERVICE = "csdlqgdc"


def add_hint(error: TranslationError, here: InstanceSpec, topology: Topology) -> None:
    """Add `hint` (and `target_instance` when one serves that province) to a citizen that is
    not found in this province's database but was registered in another; otherwise nothing."""
    registered_in = error.extensions.get("registered_in")
    if (
        error.code != CITIZEN_NOT_FOUND
        or here.kind != "province"
        or not isinstance(registered_in, str)
        or registered_in == here.seed_code
    ):
        return
    owner = next(
        (spec.name for spec in topology.instances if spec.province_code == registered_in), None
    )
    where = (
        f"ask its LGSP with the header `{TARGET_HEADER}: {owner}`, or "
        if owner is not None
        else "no instance of this bus serves that province; "
    )
    held = f"{here.seed_code} ({PROVINCE_CODES.get(f'0{here.seed_code}', 'unnamed')})"
    error.extensions["hint"] = (
        f"This CCCD was registered in province {registered_in}, and {here.name}'s citizen "
        f"database holds only the citizens registered in province {held}: {where}ask the "
        f"national population database (`{NATIONAL_CITIZEN_SERVICE}`) through NDXP."
    )
    if owner is not None:
        error.extensions["target_instance"] = owner
