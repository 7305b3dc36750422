"""How a mock system reaches its LGSP: as a client, over HTTP, with its own credentials.

A real system calls the bus as any integrator does, and so do the mocks: a token at
`{bus_url}/token` (client credentials, HTTP Basic, RFC 6749 §4.4), kept until shortly before
`expires_in` and renewed once when the bus answers 401, then calls to
`{bus_url}/{service}/{version}/…`. Two kinds of call:

- `call`: answered now (the portal's check of an applicant in the citizen database);
- `hand_over`: what must cross to another instance without loss (a document for another
  province, a dossier change for the national portal) is handed to the bus's store-and-forward
  (`Prefer: respond-async` with an `Idempotency-Key`; the bus answers 202 once it has stored the
  call, and delivers it later with retries). A system hands over inside the transaction of the
  change that causes it and commits only after the bus's 202: a change is never kept whose
  message the bus did not take. A retried hand-over carries the same key, and the bus keeps
  one message.

Every failure is `BusUnavailable`, with whether the bus was merely slow.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from mocks.config import SystemConfig

logger = logging.getLogger(__name__)

TOKEN_PATH = "token"  # noqa: S105 - a path, not a password
RENEW_BEFORE = timedelta(seconds=30)
"""A cached token is renewed this long before it expires (or at half its life if shorter)."""
MAX_KEY_LENGTH = 200
"""The bus's bound on `Idempotency-Key` and `X-LGSP-Ordering-Key`."""
_KEY = re.compile(r"[!-~]{1,200}")  # the bus's rule: visible ASCII, no spaces
ORIGIN_HEADER = "X-LGSP-Origin"
"""The bus instance a call started at, which the bus learns from credentials and tells the
system it calls: a national system checks that a province acts only for itself."""
TIMEOUT = httpx.Timeout(8.0)
"""Below the bus's default upstream timeout (10 s), so a system answers its own 504 first."""


SEAL_LENGTH = 24
"""Hex digits of the HMAC that ends a sealed key: 96 bits no one guesses."""


def sealed_key(secret: str, key: str) -> str:
    """`key` as a system hands it over: followed by an HMAC of it under the system's secret.

    The keys the systems build are functions of public data (`dvcqg:{code}:{step}`, a
    document's id), so anyone could send a bogus call under a genuine message's key first
    (SECURITY-PROBE F3). The seal keeps the key readable and a function of what is sent, so a
    retry hands over the same key, but no one without the secret can compute it.
    """
    seal = hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()
    sealed = f"{key}:{seal[:SEAL_LENGTH]}"
    if len(sealed) <= MAX_KEY_LENGTH:
        return sealed
    return f"{key.split(':', 1)[0][:32]}:sha256:{seal}"


@dataclass(frozen=True)
class Delivery:
    """A handed-over message's state at the LGSP: pending, delivering, delivered or dead (the
    bus gave up: `last_status` and `last_error` say why)."""

    state: str
    last_status: int | None
    last_error: str | None


class BusUnavailable(Exception):
    """The bus could not be used; `timed_out` separates a slow bus from a failing one."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out

    @property
    def status(self) -> int:
        """What a system answers a change that needed the bus: 504 for a slow bus, else 502
        (the gateway's own `upstream.timeout` and `upstream.unavailable`)."""
        return 504 if self.timed_out else 502


@dataclass(frozen=True)
class Handover:
    """A call for the bus to make later: `POST {bus_url}/{service}/{version}{path}`."""

    service: str
    version: str
    path: str
    body: bytes
    content_type: str
    idempotency_key: str
    """A function of what is sent, so that a retry of the change hands over the same key."""
    ordering_key: str | None = None
    """Hand-overs sharing it are delivered one after the other, in the order handed over."""
    target: str | None = None
    """For a provincial service of another province: its instance (`X-LGSP-Target`)."""
    method: str = "POST"

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"a hand-over's path starts with '/': {self.path!r}")
        for key in (self.idempotency_key, self.ordering_key):
            if key is not None and not _KEY.fullmatch(key):
                raise ValueError(f"keys are 1 to {MAX_KEY_LENGTH} visible ASCII characters")


@dataclass
class _Token:
    value: str
    renew_at: datetime


class BusClient:
    """One system's client on its LGSP: one shared HTTP client and one cached token."""

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        *,
        client_id: str | None,
        client_secret: str | None,
        now: Callable[[], datetime],
    ) -> None:
        self._http = http
        self._credentials = (client_id, client_secret)
        self._now = now
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """Whether the system has a bus to call and credentials to call it with."""
        return self._http is not None and None not in self._credentials

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """`method {bus_url}/{path}` with the system's token, renewed once on a 401."""
        token = await self._current_token()
        response = await self._send(method, path, token, json, content, headers, request_id, params)
        if response.status_code == 401:  # revoked, or the bus restarted with new keys
            token = await self._current_token(stale=token)
            response = await self._send(
                method, path, token, json, content, headers, request_id, params
            )
        return response

    async def fetch_public(self, path: str, *, max_bytes: int) -> bytes:
        """`GET {bus_url}/{path}` without a token (what the bus publishes to anyone, such as
        its CA's CRL), refused past `max_bytes`."""
        with _reaching_the_bus():
            response = await self._client().get(path)
        if response.status_code != 200 or len(response.content) > max_bytes:
            raise BusUnavailable(f"the bus did not give {path} (HTTP {response.status_code})")
        return response.content

    async def hand_over(self, handover: Handover, *, request_id: str | None) -> None:
        """Have the bus store `handover` for delivery; returns once the bus has taken it."""
        _, secret = self._credentials
        key = handover.idempotency_key
        headers = {
            "Prefer": "respond-async",
            "Idempotency-Key": sealed_key(secret, key) if secret is not None else key,
            "Content-Type": handover.content_type,
        }
        if handover.ordering_key is not None:
            headers["X-LGSP-Ordering-Key"] = handover.ordering_key
        if handover.target is not None:
            headers["X-LGSP-Target"] = handover.target
        path = f"{handover.service}/{handover.version}{handover.path}"
        response = await self.call(
            handover.method, path, content=handover.body, headers=headers, request_id=request_id
        )
        if response.status_code != 202:
            raise BusUnavailable(
                f"the bus did not take the hand-over of {handover.service} {handover.path} "
                f"(HTTP {response.status_code}{_problem_code(response)})"
            )

    async def handed_over(self, key: str) -> Delivery | None:
        """Where the message this system handed over under `key` stands at its LGSP
        (`GET {bus_url}/handovers`); None if the bus has none (or cannot say now)."""
        _, secret = self._credentials
        sent = sealed_key(secret, key) if secret is not None else key
        try:
            response = await self.call("GET", "handovers", headers={}, params={"key": sent})
        except BusUnavailable:
            return None
        if response.status_code != 200:
            return None
        body = json_object(response)
        state, status, error = body.get("state"), body.get("last_status"), body.get("last_error")
        if not isinstance(state, str):
            return None
        return Delivery(
            state=state,
            last_status=status if isinstance(status, int) else None,
            last_error=error if isinstance(error, str) else None,
        )

    async def post_json(
        self,
        path: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> httpx.Response:
        """`POST {bus_url}/{path}` with a JSON body and no token: for a dialect whose credentials
        travel in the body (OpenCPS's `{username, password}`, then its `session`)."""
        sent = dict(headers or {})
        if request_id:
            sent["X-Request-ID"] = request_id
        with _reaching_the_bus():
            return await self._client().post(path, json=body, headers=sent)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        json: Any,
        content: bytes | None,
        headers: Mapping[str, str] | None,
        request_id: str | None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        sent = {**(headers or {}), "Authorization": f"Bearer {token}"}
        if request_id:
            sent["X-Request-ID"] = request_id
        with _reaching_the_bus():
            return await self._client().request(
                method, path, json=json, content=content, headers=sent, params=params
            )

    async def _current_token(self, *, stale: str | None = None) -> str:
        """The cached token, or a new one; concurrent callers share a single token request."""
        async with self._lock:
            token = self._token
            if token is None or token.value == stale or self._now() >= token.renew_at:
                token = self._token = await self._request_token()
            return token.value

    async def _request_token(self) -> _Token:
        http = self._client()
        client_id, client_secret = self._credentials
        if client_id is None or client_secret is None:
            raise BusUnavailable("the system has no client on its LGSP")
        issued_at = self._now()
        with _reaching_the_bus():
            response = await http.post(
                TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=(client_id, client_secret),
            )
        if response.status_code != 200:
            raise BusUnavailable(
                f"the bus refused the system's credentials (HTTP {response.status_code})"
            )
        body = json_object(response)
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not isinstance(expires_in, int) or expires_in <= 0:
            raise BusUnavailable("the bus's token answer has no access_token/expires_in")
        life = timedelta(seconds=expires_in)
        logger.debug("new bus token for %s, valid %d s", client_id, expires_in)
        return _Token(value, renew_at=issued_at + life - min(RENEW_BEFORE, life / 2))

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise BusUnavailable("the system is not connected to a bus (no bus_url)")
        return self._http


@asynccontextmanager
async def connect(
    config: SystemConfig,
    transport: httpx.AsyncBaseTransport | None,
    *,
    now: Callable[[], datetime],
) -> AsyncIterator[BusClient]:
    """The system's `BusClient` for its lifespan: connected when `config` names a bus.

    `transport` reaches the bus (in-process when the bus mounts the system; None: the network).
    """
    if config.bus_url is None:
        yield BusClient(None, client_id=None, client_secret=None, now=now)
        return
    secret = config.bus_client_secret
    async with httpx.AsyncClient(
        base_url=config.bus_url,
        transport=transport,
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    ) as http:
        yield BusClient(
            http,
            client_id=config.bus_client_id,
            client_secret=secret.get_secret_value() if secret is not None else None,
            now=now,
        )


@contextmanager
def _reaching_the_bus() -> Iterator[None]:
    """The one place where httpx's failures become `BusUnavailable`, a timeout told apart from
    a bus that cannot be reached."""
    try:
        yield
    except httpx.TimeoutException:
        raise BusUnavailable("the bus did not answer in time", timed_out=True) from None
    except httpx.TransportError:
        raise BusUnavailable("the bus could not be reached") from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object, or `BusUnavailable`."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BusUnavailable("the bus answered without a JSON object")
    return body


def _problem_code(response: httpx.Response) -> str:
    """`, CODE` from a problem+json answer; nothing else of the body is repeated."""
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return ""
    return f", {code}" if isinstance(code, str) and len(code) <= 64 else ""
