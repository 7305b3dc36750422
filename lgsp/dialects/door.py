"""The door of a dialect: a request in a real platform's shape, answered by the one core.

Mounted at `{base}/{dialect}` (`/lgsp/danang/apim/token`, `/lgsp/cantho/lgspaccesstoken/dancu/
v1/…`). The door turns the caller's credential into a bus token, rewrites the request into the
bus's own (`{base}/{service}/{version}/{path}`, `Authorization: Bearer <jwt>`), hands it to the
instance's core — the same invocation route, audit recorder and journal as a call in the bus's
own dialect, so the same rights check, records, faults and request id — and translates the
answer back. A request the door refuses itself (a path or body it cannot make sense of) is
answered by the door and recorded by the instance's audit recorder (and journal) at the door's
own path, with the status the caller gets (`answer_recorded`), as is a credential the door
issues, starred out in the journal (`credential_recorded`). The bus's own dialect never
passes here: its calls are dispatched before the router tries these mounts
(`lgsp.routing.dispatch`).
"""

from __future__ import annotations

import base64
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from formats.errors import TranslationError
from lgsp.audit.recorder import AuditRecorder
from lgsp.dialects.exchange import (
    NO_STORE,
    Answer,
    body_once,
    core_scope,
    exchange,
    problem_of,
    read_body,
    respond,
)
from lgsp.dialects.tokens import Remembered
from lgsp.errors import (
    LgspError,
    MethodNotAllowed,
    NotFound,
    error_source,
    problem_document,
    problem_fields,
    problem_head,
)
from lgsp.state import BusState, InstanceState, bus_state_from_scope

_CALL = re.compile(r"/([^/]+)/([^/]+)/(.*)", re.DOTALL)
Reply = Callable[[Send], Awaitable[None]]
"""A door's answer, sent by the door itself (not the core's)."""


async def answer_recorded(
    scope: Scope,
    receive: Receive,
    send: Send,
    reply: Reply,
    *,
    instance: str,
    base: str,
    read: bytes | None = None,
) -> None:
    """Send `reply`, a refusal the door decides without the core, inside the instance's audit
    recorder: its inbound record and journal entry carry the door's own path (below `base`,
    as the journal keeps paths), the status the caller gets and the answer sent. `read` is
    the body the door had read (the journal keeps it); None leaves the body unread."""

    async def app(_scope: Scope, recorded_receive: Receive, recorded_send: Send) -> None:
        if read is not None:
            await read_body(recorded_receive, limit=len(read))  # into the journal's capture
        await reply(recorded_send)

    recorder = AuditRecorder(app, instance=instance)
    await recorder({**scope, "root_path": base}, receive if read is None else body_once(read), send)


async def credential_recorded(
    call: DoorCall, document: dict[str, Any], field: str, *, instance: str
) -> None:
    """Answer `document` 200 (no-store), a credential the door issued in `document[field]`,
    recorded at the door's path as the door's refusals are: the call itself, not only the
    token request behind it, is in the audit log and the journal. The journal is no place for
    a credential (it keeps no `/token` exchange), so what it keeps, and the audit hash, is the
    answer with the credential starred out at its length; the caller gets the credential."""
    sent = json.dumps(document, ensure_ascii=False).encode()
    spelt = json.dumps(document[field], ensure_ascii=False)  # its length in `sent`, quoted
    starred = {**document, field: "*" * (len(spelt) - 2)}
    shown = json.dumps(starred, ensure_ascii=False).encode()  # as long: one Content-Length

    async def reply(send: Send) -> None:
        await respond(send, 200, starred, kept=NO_STORE, body=shown)

    async def with_credential(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body") == shown:
            message = {**message, "body": sent}  # not an answer the recorder put instead
        await call.send(message)

    await answer_recorded(
        call.scope, call.receive, with_credential, reply, instance=instance, base=call.base
    )


def problem_reply(scope: Scope, error: LgspError | TranslationError, *, instance: str) -> Reply:
    """`error` as the bus's problem+json, naming the path the caller used (the door's)."""
    source = error_source(instance)
    document = problem_document(
        **problem_fields(error), instance=scope["path"], extensions=error.extensions, source=source
    )
    body = json.dumps(document).encode()
    headers = problem_head(body, source=source)
    extra = error.response_headers() if isinstance(error, LgspError) else error.headers
    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]

    async def reply(send: Send) -> None:
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return reply


def not_served(scope: Scope, allowed: tuple[str, ...] = ()) -> LgspError:
    """The refusal of a path a door does not serve (`allowed`: the methods it does take there,
    none if the path is none of the door's), naming the path the caller used."""
    path: str = scope["path"]
    if allowed:
        return MethodNotAllowed(
            f"{scope['method']} is not allowed on {path}.", allowed=list(allowed)
        )
    return NotFound(f"Nothing is served at {path}.")


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
        # Whatever the path is, it is no service, and none of the instance's endpoints is
        # offered in this dialect: refused here, naming the door's path (`_reply` records it).
        return await exchange(
            problem_adapter(not_served(scope), instance=self.instance),
            scope,
            receive,
            recorded=False,
        )

    async def _reply(self, call: DoorCall, answer: Answer, reply: Reply) -> None:
        """Send `reply`, the translation of `answer`: recorded at the door's path when no core
        recorded the call (`answer.recorded`), as any refusal the door makes itself."""
        if answer.recorded:
            await reply(call.send)
            return
        await answer_recorded(
            call.scope, call.receive, call.send, reply, instance=self.instance, base=call.base
        )

    async def _refuse(self, call: DoorCall, reply: Reply, *, read: bytes | None = None) -> None:
        """Send `reply`, a refusal of the door's own, recorded at the door's path."""
        await answer_recorded(
            call.scope,
            call.receive,
            call.send,
            reply,
            instance=self.instance,
            base=call.base,
            read=read,
        )


def problem_adapter(error: LgspError | TranslationError, *, instance: str) -> ASGIApp:
    """An ASGI app answering `error` as a problem (for `exchange`, which holds the answer)."""

    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        await problem_reply(scope, error, instance=instance)(send)

    return app
