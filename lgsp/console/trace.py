"""A request's hops, as audited by each instance, laid out as a sequence diagram (SVG).

Pure layout: the records in, lanes and arrows with coordinates out; the template draws them.
A hop's caller and target become lanes: a tenant's client, an instance, or a system behind an
instance (`angiang/dancu`). A hop that another instance also recorded as its inbound call (a
forward to NDXP, then NDXP's inbound from the province's client) is drawn once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lgsp.auth.federation import NDXP_CLIENT_ID, province_client_id
from lgsp.auth.provisioning import system_client_id

LANE_WIDTH = 180
LEFT = 100
TOP = 60
STEP = 46
_PROVINCE_PREFIX = province_client_id("")
_SYSTEM_PREFIX = system_client_id("")
SHOWN_HOPS = frozenset({"inbound", "forward", "upstream", "fault"})
"""`pending` records precede an `inbound` one for the same call: drawn once, as the inbound."""


@dataclass(frozen=True)
class Lane:
    name: str
    x: int


@dataclass(frozen=True)
class Arrow:
    x1: int
    x2: int
    y: int
    label: str
    detail: str
    failed: bool
    hop: str


@dataclass(frozen=True)
class Diagram:
    lanes: list[Lane]
    arrows: list[Arrow]
    width: int
    height: int
    failed_hop: str | None
    """The first hop that failed (status 0 or ≥ 400), as its label says, or None."""


def sequence_diagram(records: Iterable[Mapping[str, Any]], *, national: str | None) -> Diagram:
    """`records` as `GET {base}/admin/audit?request_id=…` gives them, from any instances."""
    ordered = sorted(
        (r for r in records if r.get("hop") in SHOWN_HOPS),
        key=lambda r: (str(r.get("occurred_at", "")), int(r.get("seq", 0))),
    )
    lanes: dict[str, int] = {}
    hops: list[tuple[str, str, Mapping[str, Any]]] = []
    forwarded: list[tuple[str, str]] = []
    for record in ordered:
        source, target = _caller_lane(record, national), _target_lane(record)
        if record["hop"] == "forward":
            forwarded.append((source, target))
        elif record["hop"] == "inbound" and (source, target) in forwarded:
            forwarded.remove((source, target))
            continue
        for lane in (source, target):
            lanes.setdefault(lane, LEFT + len(lanes) * LANE_WIDTH)
        hops.append((source, target, record))
    arrows = [
        Arrow(
            x1=lanes[source],
            x2=lanes[target],
            y=TOP + 30 + index * STEP,
            label=_label(record),
            detail=_detail(record),
            failed=_failed(record),
            hop=str(record["hop"]),
        )
        for index, (source, target, record) in enumerate(hops)
    ]
    failed = next((arrow for arrow in arrows if arrow.failed), None)
    return Diagram(
        lanes=[Lane(name, x) for name, x in lanes.items()],
        arrows=arrows,
        width=LEFT + max(len(lanes), 1) * LANE_WIDTH,
        height=TOP + 60 + len(arrows) * STEP,
        failed_hop=None if failed is None else failed.label,
    )


def _caller_lane(record: Mapping[str, Any], national: str | None) -> str:
    instance = str(record["instance"])
    if record["hop"] != "inbound":
        return instance  # the instance made this hop itself
    caller = str(record.get("caller") or "?")
    if caller == NDXP_CLIENT_ID:
        return national or caller
    if caller.startswith(_PROVINCE_PREFIX):
        return caller.removeprefix(_PROVINCE_PREFIX)
    if caller.startswith(_SYSTEM_PREFIX):
        return f"{instance}/{caller.removeprefix(_SYSTEM_PREFIX)}"
    return f"client {caller}"


def _target_lane(record: Mapping[str, Any]) -> str:
    instance = str(record["instance"])
    if record["hop"] == "upstream":
        return f"{instance}/{record['target']}"
    if record["hop"] == "forward":
        return str(record["target"])
    return instance


def _failed(record: Mapping[str, Any]) -> bool:
    status = int(record.get("status") or 0)
    return status == 0 or status >= 400


def _label(record: Mapping[str, Any]) -> str:
    path = str(record.get("path", ""))
    shown = path if len(path) <= 48 else path[:45] + "…"
    return f"{record.get('method', '')} {shown}"


def _detail(record: Mapping[str, Any]) -> str:
    milliseconds = int(record.get("latency_us") or 0) / 1000
    service = record.get("service") or "-"
    return f"{record['hop']} · {service} · {record.get('status')} · {milliseconds:.1f} ms"
