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
    """One province a document is forwarded to, and its agencies among the recipients;
    `province_code` is the one its bodies carry today (`Agency.official_code`)."""

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
    """`(province_code, instance)` of the agency with this organ id, by the directory's key (the
    seeded province's code, which the topology routes by); None: none in the topology."""
    agency = find_agency(organ_id)
    if agency is None or agency.province_code not in provinces:
        return None
    return agency.province_code, provinces[agency.province_code]


@dataclass(frozen=True)
class Routes:
    """Where a document's `To` agencies are: `provinces` other than the sender's, `central`
    bodies the axis serves itself (their national inbox), `unknown` organ ids (no agency, a
    province not served, a central code the directory lacks)."""

    provinces: list[Destination]
    central: list[str]
    unknown: list[str]


def destinations(
    provinces: Mapping[str, str],
    sender_province: str | None,
    organ_ids: Iterable[str],
    central: Mapping[str, str],
) -> Routes:
    """The provinces other than the sender's that get the document, in province-code order,
    the central bodies among its recipients, and the organ ids the axis cannot place.

    Recipients in the sender's own province are not the axis's business: their province's
    endpoint delivered to them itself. A central sender (`sender_province` None) has none.
    """
    found: dict[tuple[str, str], list[str]] = {}
    unknown: list[str] = []
    to_central: list[str] = []
    for organ_id in dict.fromkeys(organ_ids):
        place = instance_of(provinces, organ_id)
        if organ_id in central:
            to_central.append(organ_id)
        elif place is None:
            unknown.append(organ_id)
        elif place[0] != sender_province:
            found.setdefault(place, []).append(organ_id)
    routed = [
        Destination(
            instance=instance, province_code=_shown_code(code, organs), organ_ids=tuple(organs)
        )
        for (code, instance), organs in sorted(found.items())
    ]
    return Routes(routed, to_central, unknown)


def _shown_code(seed_code: str, organ_ids: list[str]) -> str:
    """The province code a destination shows: the one its bodies carry in their era
    (`Agency.official_code`), today's province's where one of them is today's (92 for Cần
    Thơ: 60 and 93 were retired on 1 July 2025), not the directory's key it is routed by."""
    agencies = [agency for organ in organ_ids if (agency := find_agency(organ)) is not None]
    return next((a.official_code for a in agencies if a.todays_code), seed_code)
