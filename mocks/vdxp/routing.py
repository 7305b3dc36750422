"""Where a document goes: from its `To` organ ids to the provinces (bus instances) that get it.

NDXP resolves an organ id to its province node through the organ-code registry (DOMAIN.md
§8.6 A.4): here the agency directory (`mocks/directory/agencies.py`) gives the legacy province code,
and the topology (`SystemConfig.provinces`) the instance serving it. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mocks.directory.agencies import find_agency


@dataclass(frozen=True)
class Destination:
    """One province a document is forwarded to, and its agencies among the recipients."""

    instance: str
    province_code: str
    organ_ids: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "instance": self.instance,
            "province_code": self.province_code,
            "organ_ids": list(self.organ_ids),
        }


def instance_of(provinces: Mapping[str, str], organ_id: str) -> tuple[str, str] | None:
    """`(province_code, instance)` of the agency with this organ id; None: none in the topology."""
    agency = find_agency(organ_id)
    if agency is None or agency.province_code not in provinces:
        return None
    return agency.province_code, provinces[agency.province_code]


def destinations(
    provinces: Mapping[str, str], sender_province: str, organ_ids: Iterable[str]
) -> tuple[list[Destination], list[str]]:
    """The provinces other than the sender's that get the document, in province-code order,
    and the organ ids in no province of the topology (no agency, or a province not served).

    Recipients in the sender's own province are not the axis's business: their province's
    endpoint delivered to them itself.
    """
    found: dict[tuple[str, str], list[str]] = {}
    unknown: list[str] = []
    for organ_id in dict.fromkeys(organ_ids):
        place = instance_of(provinces, organ_id)
        if place is None:
            unknown.append(organ_id)
        elif place[0] != sender_province:
            found.setdefault(place, []).append(organ_id)
    routed = [
        Destination(instance=instance, province_code=code, organ_ids=tuple(organs))
        for (code, instance), organs in sorted(found.items())
    ]
    return routed, unknown
