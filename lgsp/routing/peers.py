"""How one instance calls another's gateway: an LGSP calling NDXP, NDXP calling an LGSP.

The calling instance is a client of the other, with its own credentials: it obtains a token by
the client-credentials flow, keeps it until shortly before it expires, and fetches a new one
when the peer answers 401 (the peer's keys changed, or it forgot the token). Every failure to
reach the peer is the same 502/504 problem as a system that cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from adapters.base import SystemRequest, SystemResponse
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable
from lgsp.routing.transports import HttpTransport

REFRESH_MARGIN_SECONDS = 30.0
"""A token this close to its expiry is renewed before use, so it cannot expire in flight."""

MAX_TOKEN_RESPONSE = 64 * 1024


@dataclass(frozen=True)
class PeerCredentials:
    client_id: str
    client_secret: str


class PeerLink:
    """A client of one peer gateway, reached at `client.base_url` (in-process or over HTTP)."""

    def __init__(
        self,
        *,
        name: str,
        client: httpx.AsyncClient,
        credentials: PeerCredentials,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._client = client
        # Only `Host` and what the hop passes on: the next gateway reads none of httpx's own.
        self._transport = HttpTransport(client, system=name, client_headers=False)
        self._credentials = credentials
        self._clock = clock
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0

    async def send(
        self, request: SystemRequest, extra_headers: Mapping[str, str] | None = None
    ) -> SystemResponse:
        """Send `request` with this instance's token; renew the token once if it is refused."""
        extra = extra_headers or {}
        token = self._token
        if token is None or self._clock() >= self._token_expires_at:
            token = await self._token_for()  # else no coroutine to make on every call (issue 21)
        response = await self._transport.send(request, _authorised(extra, token))
        if response.status == 401 and _is_token_problem(response):
            self._token = None
            response = await self._transport.send(
                request, _authorised(extra, await self._token_for())
            )
        return response

    async def _token_for(self) -> str:
        token = self._token
        if token is not None and self._clock() < self._token_expires_at:
            return token  # the usual case: no lock to take on every call
        async with self._lock:  # one token request at a time; the others reuse its answer
            if self._token is None or self._clock() >= self._token_expires_at:
                self._token, lifetime = await self._fetch_token()
                self._token_expires_at = self._clock() + max(0.0, lifetime - REFRESH_MARGIN_SECONDS)
            return self._token

    async def _fetch_token(self) -> tuple[str, float]:
        try:
            response = await self._client.post(
                "token",
                data={"grant_type": "client_credentials"},
                auth=(self._credentials.client_id, self._credentials.client_secret),
            )
        except httpx.TimeoutException:
            raise UpstreamTimeout(
                f"{self.name} did not answer the token request in time."
            ) from None
        except httpx.TransportError:
            raise UpstreamUnavailable(f"{self.name} could not be reached.") from None
        self.tokens_fetched += 1
        if response.status_code != 200 or len(response.content) > MAX_TOKEN_RESPONSE:
            raise UpstreamUnavailable(
                f"{self.name} refused this instance's credentials ({response.status_code})."
            )
        try:
            answer = response.json()
            return str(answer["access_token"]), float(answer["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise UpstreamUnavailable(f"{self.name} answered the token request oddly.") from None


def _authorised(headers: Mapping[str, str], token: str) -> dict[str, str]:
    """`headers` and this instance's token, over any `Authorization` the request had."""
    return {**headers, "Authorization": f"Bearer {token}"}


def _is_token_problem(response: SystemResponse) -> bool:
    try:
        return bool(json.loads(response.body).get("code") == "INVALID_TOKEN")
    except (ValueError, AttributeError):
        return False
