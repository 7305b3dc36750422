"""Where a call goes: to a system this instance owns, or on to another instance's gateway.

A province serves its own systems. Everything else leaves through NDXP: a national service, or
(with `X-LGSP-Target: <province>`) a provincial service of another province. NDXP serves the
national systems and passes a provincial call on to the province it names. Provinces never talk
to each other directly (DESIGN.md §3 "Routing").
"""

from __future__ import annotations

from kit.values import value_object
from lgsp.catalog.schemas import ServiceSpec
from lgsp.errors import ServiceNotFound, TargetNotFound, UpstreamUnavailable
from lgsp.routing.peers import PeerLink
from lgsp.routing.transports import SystemTransport
from lgsp.state import InstanceState
from lgsp.topology import Topology

TARGET_HEADER = "X-LGSP-Target"


@value_object
class Local:
    system: str
    transport: SystemTransport


@value_object
class Forward:
    peer: PeerLink
    target: str | None
    """The province named in `X-LGSP-Target`, passed on so the next gateway routes the same."""


Route = Local | Forward


def is_served(service: ServiceSpec, instance: InstanceState) -> bool:
    """Whether this instance answers calls for `service`, itself or through a peer."""
    if service.owner == instance.spec.kind:
        return service.system in instance.systems
    return bool(instance.peers)


def resolve_route(
    service: ServiceSpec, instance: InstanceState, topology: Topology, target: str | None
) -> Route:
    spec = instance.spec
    places = _places(topology)
    if target is not None:
        if target not in places.provinces:
            raise TargetNotFound(f"{TARGET_HEADER} names no province of this bus: {target!r}.")
        if target == spec.name or service.owner != "province":
            # a national service is NDXP's whichever province is named (README "NDXP")
            target = None
    if spec.kind == "province" and service.owner == "province" and target is None:
        return _local(service, instance)
    if spec.kind == "national" and service.owner == "national":
        return _local(service, instance)
    if spec.kind == "national" and target is None:
        raise ServiceNotFound(
            f"Service {service.id} {service.version} is served by each province's LGSP: name "
            f"the province in {TARGET_HEADER}."
        )
    national = places.national
    peer_name = target if spec.kind == "national" else (national or "NDXP")
    peer = instance.peers.get(peer_name or "")
    if peer is None:
        raise UpstreamUnavailable(
            f"Instance {spec.name} has no route to {peer_name}: it is not served by this process "
            "and the topology gives no url for it."
        )
    return Forward(peer=peer, target=target)


@value_object
class _Places:
    provinces: frozenset[str]
    national: str | None


_places_of: dict[int, tuple[Topology, _Places]] = {}
"""Per topology (by identity, the topology kept with it): its provinces' names and its
national instance's, read from its list on every forwarded call before (issue 21)."""


def _places(topology: Topology) -> _Places:
    found = _places_of.get(id(topology))
    if found is not None and found[0] is topology:
        return found[1]
    national = topology.national
    places = _Places(
        frozenset(i.name for i in topology.instances if i.kind == "province"),
        None if national is None else national.name,
    )
    if len(_places_of) >= 16:  # a process holds one topology; tests build many
        _places_of.clear()
    _places_of[id(topology)] = (topology, places)
    return places


def _local(service: ServiceSpec, instance: InstanceState) -> Local:
    transport = instance.systems.get(service.system)
    if transport is None:
        raise ServiceNotFound(
            f"Service {service.id} {service.version} has no system {service.system} in "
            f"{instance.spec.name}."
        )
    return Local(service.system, transport)  # by position: a keyword costs ~450 instructions
