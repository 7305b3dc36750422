"""What a system run as its own process (`lgsp serve --system`) asks of whoever calls it: the key
of the gateway that owns it.

In-process, only the gateway can reach a mock. As a process it listens on a port, and answered
anyone: any local process (or any host, bound beyond loopback) could post forged documents,
claim an origin with `X-LGSP-Origin`, or read an agency's inbox (security re-probe 2026-12-07
#4). The gateway now sends `X-LGSP-Gateway-Key` to every system it reaches at a `url`; the key
is derived from `LGSP_FEDERATION_SECRET` for that instance and system, as the system clients'
secrets are, so both processes know it and nobody else does. An integrator's own system at a
`url` receives the header too and may ignore it, or check it the same way.
"""

from __future__ import annotations

import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from lgsp.auth.federation import federation_secret
from lgsp.errors import InvalidToken, error_source, problem_body, problem_head
from lgsp.settings import Settings

GATEWAY_KEY_HEADER = "X-LGSP-Gateway-Key"
_HEADER = GATEWAY_KEY_HEADER.lower().encode()
OPEN_PATHS = frozenset({"/openapi.json"})
"""What a system answers without the key: its contract, which holds no data (and tells a
deployment that the process is up)."""


def gateway_key(settings: Settings, *, instance: str, system: str) -> str:
    """The key `instance`'s gateway shows `system`: the same in every process sharing the
    federation secret."""
    return federation_secret(
        settings.federation_secret.get_secret_value(),
        instance=instance,
        client_id=f"gateway-to-{system}",
    )


class GatewayOnly:
    """Answers 401 (problem+json) to any call that does not carry the gateway's key."""

    def __init__(self, app: ASGIApp, *, key: str, instance: str, system: str) -> None:
        self.app = app
        self._key = key.encode()
        self._instance = instance
        self._system = system

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or self._shows_key(scope):
            await self.app(scope, receive, send)
            return
        source = error_source(self._instance, self._system)
        refusal = InvalidToken(
            f"System {self._system} of {self._instance} is called by its gateway only: "
            f"{GATEWAY_KEY_HEADER} is missing or wrong."
        )
        body = problem_body(refusal, instance=self._instance, source=source)
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": problem_head(body, source=source),
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _shows_key(self, scope: Scope) -> bool:
        shown = [value for name, value in scope["headers"] if name == _HEADER]
        return len(shown) == 1 and hmac.compare_digest(shown[0], self._key)
