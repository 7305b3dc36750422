"""The door of a dialect: a request in a real platform's shape, answered by the one core.

Mounted at `{base}/{dialect}` (`/lgsp/danang/apim/token`, `/lgsp/cantho/lgspaccesstoken/dancu/
v1/…`). The door turns the caller's credential into a bus token, rewrites the request into the
bus's own (`{base}/{service}/{version}/{path}`, `Authorization: Bearer <jwt>`), hands it to the
instance's core — the same invocation route, audit recorder and journal as a call in the bus's
own dialect, so the same rights check, records, faults and request id — and translates the
answer back. A request the door cannot make sense of still goes to the core, without
credentials, so that its refusal is recorded like any other. The bus's own dialect never passes
here: its calls are dispatched before the router tries these mounts (`lgsp.routing.dispatch`).
"""

from __future__ import annotations

import base64
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from starlette.types import ASGIApp, Receive, Scope, Send

from lgsp.dialects.exchange import Answer, body_once, core_scope, exchange, problem_of
from lgsp.dialects.tokens import Remembered
from lgsp.state import BusState, InstanceState, bus_state_from_scope

_CALL = re.compile(r"/([^/]+)/([^/]+)/(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DoorCall:
    """One request at a door: the ASGI call, the instance's base path, the path below the door
    (`relative`), and the bus and instance that answer it."""

    scope: Scope
    receive: Receive
    send: Send
    base: str
    relative: str
    bus: BusState
    instance: InstanceState


class Door(ABC):
    """One dialect's door at one instance: `core` is the instance's invocation route (the lean
    gateway the dispatch uses), `own` its whole app (for `/token` and every other path). Each
    dialect's door is a subclass (`lgsp.dialects.mount.DOORS`) serving under its `prefix`."""

    prefix = ""

    def __init__(self, *, instance: str, core: ASGIApp, own: ASGIApp) -> None:
        self.instance = instance
        self.core = core
        self.own = own
        self.remembered = Remembered()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.own(scope, receive, send)
            return
        root: str = scope.get("root_path", "")
        base = root.removesuffix("/" + self.prefix)
        relative = scope["path"][len(root) :] if scope["path"].startswith(root) else scope["path"]
        bus = bus_state_from_scope(scope)
        await self.serve(
            DoorCall(scope, receive, send, base, relative or "/", bus, bus.instances[self.instance])
        )

    @abstractmethod
    async def serve(self, call: DoorCall) -> None:
        """Answer one request at this door."""

    async def _client_token(
        self, scope: Scope, base: str, *, key: str, client_id: str, secret: str
    ) -> tuple[str, str] | None:
        """The bus token of a client whose credentials a door holds (remembered under `key`,
        a hash), else asked of the core's token endpoint, which checks the secret in constant
        time and throttles failures; None if it refuses."""
        known = self.remembered.get(key)
        if known is not None:
            return known
        pair = f"{quote(client_id)}:{quote(secret)}"
        form = b"grant_type=client_credentials"
        token_scope = {
            **scope,
            "method": "POST",
            "root_path": base,
            "path": base + "/token",
            "raw_path": (base + "/token").encode(),
            "query_string": b"",
            "headers": [
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"content-length", str(len(form)).encode()),
                (b"authorization", b"Basic " + base64.b64encode(pair.encode())),
            ],
        }
        answer = await exchange(self.own, token_scope, body_once(form))
        if answer.status != 200:
            return None
        issued = problem_of(answer.body)
        jwt = str(issued.get("access_token", ""))
        expires_in = int(issued.get("expires_in", 0))
        self.remembered.put(key, jwt, client_id, datetime.now(UTC).timestamp() + expires_in)
        return jwt, client_id

    async def _to_own(
        self,
        call: DoorCall,
        path: str,
        *,
        credential: str | None,
        receive: Receive | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> Answer:
        """`path` of the instance's whole app (its token endpoints, or a path it refuses and
        records), with `credential` in place of the caller's, the caller's body unless
        `receive` gives another, and the caller's headers unless `headers` are given."""
        scope = call.scope if headers is None else {**call.scope, "headers": headers}
        rewritten = core_scope(scope, base=call.base, path=path, credential=credential, extra=[])
        return await exchange(self.own, rewritten, call.receive if receive is None else receive)

    async def _to_core(
        self,
        scope: Scope,
        receive: Receive,
        *,
        base: str,
        relative: str,
        bus_path: Callable[[str, str, str], tuple[str, str, str]] | None,
        credential: str | None,
        extra: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    ) -> Answer:
        """A service call to the invocation route; any other path to the instance's app."""
        match = _CALL.fullmatch(relative)
        if match is not None and bus_path is not None:
            service, version, path = bus_path(*match.groups())
            target = f"/{service}/{version}/{path}"
            rewritten = core_scope(
                scope, base=base, path=target, credential=credential, extra=list(extra)
            )
            return await exchange(self.core, rewritten, receive)
        # No credential: whatever the path is, it is no service, and none of its endpoints is
        # offered in this dialect. The instance refuses it (and records the refusal).
        rewritten = core_scope(scope, base=base, path=relative, credential=None, extra=[])
        return await exchange(self.own, rewritten, receive)
