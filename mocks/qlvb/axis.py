"""Documents and statuses between provinces: who is whose, and the calls left for the bus.

Flow A of DOMAIN.md §8.6: a document for an agency of another province leaves through the
province's own LGSP to the national document axis (service `vdxp`), which hands it to the
recipient province's LGSP; that province's endpoint delivers it (`/receiveEdoc`), and its
recipients' statuses travel back the same way (`/receiveStatus` at the sender). Each hop is
store-and-forward: the endpoint hands the call over to its LGSP (`mocks/bus.py`) inside the
transaction of the change that causes it, committed once the bus has taken it, and the bus
delivers it later with the message's `Idempotency-Key`, which the next endpoint deduplicates on.

Which province an agency belongs to is the directory's (`mocks/directory/agencies.py`); which bus
instance serves a province is the topology's (`SystemConfig.provinces`).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mocks.bus import BusClient, BusUnavailable, Handover, json_object
from mocks.config import SystemConfig
from mocks.directory.agencies import central_agencies, find_agency
from mocks.qlvb.models import BusinessMessage, Delivery, Document
from mocks.qlvb.store import Report, Reported
from mocks.vdxp.sdk import edxml_call, outbox_key

# The national axis's canonical operations (services/vdxp.toml).
VDXP_SERVICE, VDXP_VERSION = "vdxp", "v1"
VDXP = (VDXP_SERVICE, VDXP_VERSION)
VDXP_DOCUMENTS = "/documents"
VDXP_STATUSES = "/statuses"


CENTRAL = "central"
"""What `province_of` says of a central body (VPCP, a ministry): the national axis serves it."""


def province_of(config: SystemConfig, organ_id: str) -> str | None:
    """The legacy province code of the agency with this organ id, `CENTRAL` for a central
    body (DOMAIN.md §6.2: G codes; `mocks.directory.agencies.central_agencies`); None: no
    agency has it."""
    if organ_id in central_agencies(config.central_agencies):
        return CENTRAL
    agency = find_agency(organ_id)
    return None if agency is None else agency.province_code


@dataclass(frozen=True)
class Recipients:
    """A document's `To` organ ids, sorted by where they are from this province's endpoint.

    `remote` maps each recipient reachable over the national axis to its province's instance
    (a central body's: the national one);
    `unreachable` are agencies of another province this endpoint cannot send to (no bus access,
    or a province outside the topology); `unknown` are organ ids no agency has.
    """

    local: tuple[str, ...]
    remote: Mapping[str, str]
    unreachable: tuple[str, ...]
    unknown: tuple[str, ...]


def sort_recipients(config: SystemConfig, organ_ids: Iterable[str]) -> Recipients:
    local: list[str] = []
    remote: dict[str, str] = {}
    unreachable: list[str] = []
    unknown: list[str] = []
    for organ_id in organ_ids:
        province = province_of(config, organ_id)
        if province is None:
            unknown.append(organ_id)
        elif province == config.province_code:
            local.append(organ_id)
        elif config.bus_client_id is not None and province == CENTRAL:
            remote[organ_id] = config.national_instance  # the axis's own national inbox
        elif config.bus_client_id is not None and province in config.provinces:
            remote[organ_id] = config.provinces[province]
        else:
            unreachable.append(organ_id)
    return Recipients(tuple(local), remote, tuple(unreachable), tuple(unknown))


def is_remote(config: SystemConfig, organ_id: str) -> bool:
    """Whether the organ id is an agency of a province other than this one."""
    province = province_of(config, organ_id)
    return province is not None and province != config.province_code


def document_call(
    config: SystemConfig, document: Document | BusinessMessage, *, about: Document | None = None
) -> Handover:
    """The document (or business message), byte for byte as its sender sent it, for the
    national axis, on the line of the document it is `about` (itself if None): a revocation,
    update or replacement, even one under a number of its own, reaches the axis after it."""
    return edxml_call(
        VDXP,
        VDXP_DOCUMENTS,
        document.edxml,
        key=outbox_key("edoc", config.instance, document.doc_id),
        ordering=outbox_key("edoc", (about or document).document_id),
    )


async def forwardings(
    bus: BusClient,
    document_id: str,
    business: BusinessMessage | None = None,
    *,
    national: str | None = None,
) -> dict[str, tuple[str, str | None]]:
    """Each province (bus instance) the national axis forwards the document to, or its business
    message `business` (a revocation, update or replacement, known by its DocId, else by its
    bytes): the state of that hand-over (pending, delivering, delivered, dead, unknown) and a
    dead one's reason, from the document's trail (`vdxp` get_trail); empty when it cannot say
    now. The `national` instance's is delivered once the axis has the message: it puts what is
    for a central body in that body's inbox as it records it."""
    key = base64.urlsafe_b64encode(document_id.encode()).rstrip(b"=").decode("ascii")
    try:
        response = await bus.call("GET", f"{VDXP_SERVICE}/{VDXP_VERSION}{VDXP_DOCUMENTS}/{key}")
    except BusUnavailable:
        return {}
    if response.status_code != 200:
        return {}
    trail: Any = json_object(response)
    if business is not None:
        trail = next((entry for entry in _records(trail.get("business"))
                      if entry.get("id") == business.doc_id
                      or entry.get("content_sha256") == business.content_sha256), {})  # fmt: skip
    found: dict[str, tuple[str, str | None]] = {}
    if national is not None and trail:
        found[national] = ("delivered", None)
    for destination in _records(trail.get("destinations")):
        delivery = destination.get("delivery")
        if isinstance(delivery, dict):
            reason = delivery.get("reason")
            found[str(destination.get("instance"))] = (
                str(delivery.get("state")),
                None if reason is None else str(reason)[:300],
            )
    return found


def _records(value: Any) -> list[dict[str, Any]]:
    """The objects of a list in an answer; none when it is not one."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def status_to_forward(
    config: SystemConfig, document: Document, reported: Reported
) -> tuple[Delivery, int] | None:
    """The delivery (and its new entry's position) whose status must cross provinces, if any.

    A recipient here reporting on a document from another province: its own delivery. The
    sender here asking for a recall (13) that reached deliveries in other provinces: the first
    of those. Statuses between this province's own agencies stay here.
    """
    sender_is_remote = is_remote(config, document.sender)
    for delivery, entry in reported.added:
        if sender_is_remote or delivery.remote_instance is not None:
            return delivery, entry.position
    return None


def status_call(
    config: SystemConfig,
    document: Document,
    report: Report,
    *,
    delivery: Delivery,
    position: int,
) -> Handover:
    """The status message about `document` (DOMAIN.md §3.4) for the national axis, byte for
    byte as this system received it: a signature over it still holds in the other province.

    The key names the delivery and its history position: one message per status applied, so
    the same code reported again later (a second recall) is a message of its own.
    """
    key = outbox_key(
        "status", config.instance, document.doc_id, delivery.recipient, report.code, str(position)
    )
    return edxml_call(
        VDXP,
        VDXP_STATUSES,
        report.edxml,
        key=key,
        ordering=outbox_key("edoc", document.document_id),
    )
