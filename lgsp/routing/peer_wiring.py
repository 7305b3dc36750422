"""Which peers each instance reaches, and how: the links `lgsp.routing.peers` sends through.

A province reaches NDXP, NDXP reaches every province (DESIGN.md §3): in this process through
the bus's own loopback, or at the peer's `url` when another process serves it. Each link
carries the calling instance's federation credentials on the peer (`lgsp.auth.federation`).
"""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx

from lgsp.auth.federation import NDXP_CLIENT_ID, federation_secret, province_client_id
from lgsp.loopback import INTERNAL_BUS_URL
from lgsp.routing.peers import PeerCredentials, PeerLink
from lgsp.routing.transports import http_client
from lgsp.settings import Settings
from lgsp.topology import InstanceSpec, Topology


async def open_peers(
    stack: AsyncExitStack,
    spec: InstanceSpec,
    topology: Topology,
    served: set[str],
    settings: Settings,
    back_to_bus: httpx.AsyncBaseTransport,
) -> dict[str, PeerLink]:
    """The links of `spec` to its peers; `stack` closes their clients."""
    shared = settings.federation_secret.get_secret_value()
    if spec.kind == "national":
        peers = [p for p in topology.instances if p.kind == "province"]
        client_id = NDXP_CLIENT_ID
    else:
        peers = [p for p in (topology.national,) if p is not None]
        client_id = province_client_id(spec.name)
    links: dict[str, PeerLink] = {}
    for peer in peers:
        timeout = httpx.Timeout(settings.upstream_timeout_seconds)
        if peer.name in served:
            client = httpx.AsyncClient(
                transport=back_to_bus,
                base_url=f"{INTERNAL_BUS_URL}{peer.mount_path}",
                timeout=timeout,
            )
        elif peer.url is not None:
            client = http_client(str(peer.url), timeout=settings.upstream_timeout_seconds)
        else:
            continue
        stack.push_async_callback(client.aclose)
        credentials = PeerCredentials(
            client_id=client_id,
            client_secret=federation_secret(shared, instance=peer.name, client_id=client_id),
        )
        links[peer.name] = PeerLink(name=peer.name, client=client, credentials=credentials)
    return links
