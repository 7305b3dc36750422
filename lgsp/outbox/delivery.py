"""The outbox worker's `deliver`: the instance calls its own gateway as the system that enqueued.

A deferred call takes the path any client's call takes: the client's rights are checked, the
call is routed (through NDXP when the owner is elsewhere) and every hop is audited, under the
request id of the change that caused it. The bus mints the system client's token itself with
the instance's signing key: it is the issuer, and the system never gave it a secret to keep.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import httpx

from lgsp.auth.tokens import issue_token
from lgsp.outbox.store import ClaimedMessage, DeliveryResult
from lgsp.routing.callers import unscoped_key
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.state import InstanceState

TOKEN_TTL = timedelta(minutes=5)
_REUSE_FOR = TOKEN_TTL.total_seconds() / 2


class GatewayDelivery:
    def __init__(
        self,
        http: httpx.AsyncClient,
        instances: Mapping[str, InstanceState],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._instances = instances
        self._clock = clock
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    async def __call__(self, message: ClaimedMessage) -> DeliveryResult:
        instance = self._instances.get(message.instance)
        if instance is None:  # the worker claims only this process's instances
            return DeliveryResult(status=None, error=f"{message.instance} is not served here")
        headers = {
            "Authorization": f"Bearer {self._token(instance, message)}",
            "X-Request-ID": message.request_id,
            # The outbox keeps the key scoped to the client; the gateway scopes it again.
            "Idempotency-Key": unscoped_key(message.client_id, message.idempotency_key),
        }
        if message.content_type is not None:
            headers["Content-Type"] = message.content_type
        if message.target_instance is not None:
            headers[TARGET_HEADER] = message.target_instance
        response = await self._http.request(
            message.method,
            f"{instance.spec.mount_path}/{message.service}/{message.version}{message.path}",
            content=message.body or None,
            headers=headers,
        )
        if response.is_success:
            return DeliveryResult(status=response.status_code)
        return DeliveryResult(status=response.status_code, error=_problem_summary(response))

    def _token(self, instance: InstanceState, message: ClaimedMessage) -> str:
        key = (instance.spec.name, message.client_id, message.service)
        cached = self._tokens.get(key)
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        token = issue_token(
            instance.keys,
            issuer=instance.issuer,
            client_id=message.client_id,
            scopes={message.service},
            ttl=TOKEN_TTL,
            now=datetime.now(UTC),
        )
        self._tokens[key] = (token, self._clock() + _REUSE_FOR)
        return token


def _problem_summary(response: httpx.Response) -> str:
    """`CODE: detail` from a problem answer, else the status line; never the whole body."""
    try:
        problem = json.loads(response.content)
        return f"{problem['code']}: {problem.get('detail', '')}"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
