"""Which system serves a service for a given instance."""

from __future__ import annotations

from lgsp.catalog.schemas import ServiceSpec
from lgsp.errors import ServiceNotFound
from lgsp.routing.transports import SystemTransport
from lgsp.state import InstanceState


def owner_is_reachable(service: ServiceSpec, instance: InstanceState) -> bool:
    return service.owner == instance.spec.kind and service.system in instance.systems


def resolve_owner(service: ServiceSpec, instance: InstanceState) -> SystemTransport:
    """The transport to the owning system, when this instance owns it.

    Services owned elsewhere are reached through NDXP (DESIGN.md §3 "Routing"); until that hop
    exists an instance answers only for the systems it owns.
    """
    if not owner_is_reachable(service, instance):
        owner = "each province's LGSP" if service.owner == "province" else "the national instance"
        raise ServiceNotFound(
            f"Service {service.id} {service.version} is served by {owner}, "
            f"not by {instance.spec.name}."
        )
    return instance.systems[service.system]
