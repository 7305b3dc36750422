"""The portal's check of an applicant against the citizen database, made through its own LGSP.

A real one-stop portal does not read the population register directly: it calls the
province's LGSP with its own client (DOMAIN.md §8.6 flow C). So does this mock. It takes a token
at `{bus_url}/token` (client credentials, HTTP Basic, RFC 6749 §4.4), keeps it until shortly
before `expires_in`, renews it once when the bus answers 401, and posts the claim to
`{bus_url}/dancu/v1/citizens/verify` in the bus's canonical JSON. Any other failure is
`CitizenCheckUnavailable`: the portal then files nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import httpx

logger = logging.getLogger(__name__)

VERIFY_PATH = "dancu/v1/citizens/verify"
TOKEN_PATH = "token"  # noqa: S105 - a path, not a password
RENEW_BEFORE = timedelta(seconds=30)
"""A cached token is renewed this long before it expires (or at half its life if shorter)."""


class CitizenCheckUnavailable(Exception):
    """The check could not be made; `timed_out` separates a slow bus from a failing one."""

    def __init__(self, reason: str, *, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.timed_out = timed_out


@dataclass(frozen=True)
class CheckResult:
    """`mismatched_fields` uses the bus's canonical names: full_name, date_of_birth."""

    match: bool
    mismatched_fields: tuple[str, ...] = ()


@dataclass
class _Token:
    value: str
    renew_at: datetime


class CitizenCheck:
    """Verifies claims through the bus with one shared HTTP client and one cached token."""

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

    async def verify(
        self, *, cccd: str, full_name: str, date_of_birth: date, request_id: str | None = None
    ) -> CheckResult:
        """Whether the register holds this citizen with this name and date of birth."""
        claim = {"cccd": cccd, "full_name": full_name, "date_of_birth": date_of_birth.isoformat()}
        token = await self._current_token()
        response = await self._post_claim(claim, token, request_id)
        if response.status_code == 401:  # revoked, or the bus restarted with new keys
            token = await self._current_token(stale=token)
            response = await self._post_claim(claim, token, request_id)
        if response.status_code != 200:
            raise CitizenCheckUnavailable(
                f"the citizen check through the bus answered HTTP {response.status_code}"
            )
        return _read_result(response)

    async def _post_claim(
        self, claim: dict[str, str], token: str, request_id: str | None
    ) -> httpx.Response:
        http = self._client()
        headers = {"Authorization": f"Bearer {token}"}
        if request_id:
            headers["X-Request-ID"] = request_id
        try:
            return await http.post(VERIFY_PATH, json=claim, headers=headers)
        except httpx.TimeoutException:
            raise CitizenCheckUnavailable(
                "the bus did not answer in time", timed_out=True
            ) from None
        except httpx.TransportError:
            raise CitizenCheckUnavailable("the bus could not be reached") from None

    async def _current_token(self, *, stale: str | None = None) -> str:
        """The cached token, or a new one; concurrent callers share a single token request."""
        async with self._lock:
            token = self._token
            if token is None or token.value == stale or self._now() >= token.renew_at:
                token = self._token = await self._request_token()
            return token.value

    async def _request_token(self) -> _Token:
        client_id, client_secret = self._credentials
        if client_id is None or client_secret is None:
            raise CitizenCheckUnavailable("the portal has no client on its LGSP")
        issued_at = self._now()
        try:
            response = await self._client().post(
                TOKEN_PATH,
                data={"grant_type": "client_credentials"},
                auth=(client_id, client_secret),
            )
        except httpx.TimeoutException:
            raise CitizenCheckUnavailable(
                "the bus did not answer in time", timed_out=True
            ) from None
        except httpx.TransportError:
            raise CitizenCheckUnavailable("the bus could not be reached") from None
        if response.status_code != 200:
            raise CitizenCheckUnavailable(
                f"the bus refused the portal's credentials (HTTP {response.status_code})"
            )
        body = _json(response)
        value, expires_in = body.get("access_token"), body.get("expires_in")
        if not isinstance(value, str) or not isinstance(expires_in, int) or expires_in <= 0:
            raise CitizenCheckUnavailable("the bus's token answer has no access_token/expires_in")
        life = timedelta(seconds=expires_in)
        logger.debug("new bus token for %s, valid %d s", client_id, expires_in)
        return _Token(value, renew_at=issued_at + life - min(RENEW_BEFORE, life / 2))

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            raise CitizenCheckUnavailable("the portal is not connected to a bus (no bus_url)")
        return self._http


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise CitizenCheckUnavailable("the bus answered without a JSON object")
    return body


def _read_result(response: httpx.Response) -> CheckResult:
    body = _json(response)
    match, fields = body.get("match"), body.get("mismatched_fields", [])
    if not isinstance(match, bool) or not isinstance(fields, list):
        raise CitizenCheckUnavailable("the citizen check answered without match")
    if not all(field in ("full_name", "date_of_birth") for field in fields):
        raise CitizenCheckUnavailable("the citizen check named unexpected fields")
    return CheckResult(match=match, mismatched_fields=tuple(fields))
