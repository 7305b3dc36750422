"""One call to the system that owns a service, with transport failures mapped to problems."""

from __future__ import annotations

import httpx

from adapters.base import SystemRequest, SystemResponse
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable

MAX_UPSTREAM_BODY = 16 * 1024 * 1024


async def forward(
    client: httpx.AsyncClient, request: SystemRequest, *, system: str
) -> SystemResponse:
    """Send `request` as the adapter built it: the client's own headers and token never cross."""
    try:
        response = await client.request(
            request.method,
            request.path,
            params=list(request.query),
            content=request.body or None,
            headers=dict(request.headers),
        )
    except httpx.TimeoutException:
        raise UpstreamTimeout(f"System {system} did not answer in time.") from None
    except httpx.TransportError:
        raise UpstreamUnavailable(f"System {system} could not be reached.") from None
    if len(response.content) > MAX_UPSTREAM_BODY:
        raise UpstreamUnavailable(f"System {system} answered with an oversized body.")
    return SystemResponse(
        status=response.status_code,
        body=response.content,
        content_type=response.headers.get("content-type"),
    )
