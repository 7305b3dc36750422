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
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.dialects import apim, soap
from adapters.dialects import lgspaccesstoken as lat
from lgsp.dialects.tokens import Remembered, bus_token_for_opaque, digest, store_opaque
from lgsp.errors import InvalidToken
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.state import BusState, InstanceState, bus_state_from_scope
from lgsp.topology import Dialect, InstanceSpec

logger = logging.getLogger(__name__)

DOOR_PREFIXES: dict[Dialect, str] = {
    "apim": "apim",
    "lgspaccesstoken": "lgspaccesstoken",
    "soap": "soap",
}
"""The path segment under an instance's base where each real dialect's door is."""
_CALL = re.compile(r"/([^/]+)/([^/]+)/(.*)", re.DOTALL)
_CREDENTIAL_HEADERS = frozenset({b"authorization", lat.HEADER.encode()})
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_KEPT_FROM_CORE = frozenset({b"retry-after", b"www-authenticate", b"allow", b"location"})


@dataclass
class Answer:
    """What the core answered, held until it is translated."""

    messages: list[Message] = field(default_factory=list)
    failure: Exception | None = None

    @property
    def status(self) -> int:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        return int(start["status"]) if start is not None else 0

    @property
    def headers(self) -> list[tuple[bytes, bytes]]:
        start = next((m for m in self.messages if m["type"] == "http.response.start"), None)
        return list(start.get("headers", [])) if start is not None else []

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    @property
    def translatable(self) -> bool:
        """A whole answer: not a dropped connection (a fault), which passes as it is."""
        return self.status != 0 and all(
            m["type"] in ("http.response.start", "http.response.body") for m in self.messages
        )

    async def replay(self, send: Send) -> None:
        for message in self.messages:
            await send(message)
        if self.failure is not None:
            raise self.failure


async def _exchange(app: ASGIApp, scope: Scope, receive: Receive) -> Answer:
    answer = Answer()

    async def hold(message: Message) -> None:
        answer.messages.append(message)

    try:
        await app(scope, receive, hold)
    except Exception as error:  # the core rendered its 500 (or dropped) before raising
        answer.failure = error
    return answer


async def _respond(
    send: Send,
    status: int,
    document: object,
    *,
    kept: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    body: bytes | None = None,
) -> None:
    payload = body if body is not None else json.dumps(document, ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *kept,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _respond_bytes(send: Send, status: int, body: bytes, media_type: str) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    value = next((v for k, v in scope.get("headers", []) if k.lower() == name), None)
    return None if value is None else value.decode("latin-1")


def _core_scope(
    scope: Scope, *, base: str, path: str, credential: str | None, extra: list[tuple[bytes, bytes]]
) -> Scope:
    """The request as the bus's own dialect would send it to the instance at `base`."""
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _CREDENTIAL_HEADERS]
    if credential is not None:
        headers.append((b"authorization", credential.encode("latin-1")))
    full = base + path
    return {
        **scope,
        "root_path": base,
        "path": full,
        "raw_path": quote(full).encode(),
        "headers": headers + extra,
    }


def _problem(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body) if len(body) <= 64 * 1024 else None
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


class Door:
    """One dialect's door at one instance: `core` is the instance's invocation route (the lean
    gateway the dispatch uses), `own` its whole app (for `/token` and every other path)."""

    def __init__(self, *, dialect: Dialect, instance: str, core: ASGIApp, own: ASGIApp) -> None:
        self.dialect = dialect
        self.instance = instance
        self.prefix = "/" + DOOR_PREFIXES[dialect]
        self.core = core
        self.own = own
        self.remembered = Remembered()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.own(scope, receive, send)
            return
        root: str = scope.get("root_path", "")
        base = root.removesuffix(self.prefix)
        relative = scope["path"][len(root) :] if scope["path"].startswith(root) else scope["path"]
        bus = bus_state_from_scope(scope)
        instance = bus.instances[self.instance]
        if self.dialect == "apim":
            await self._apim(scope, receive, send, base, relative or "/", bus, instance)
        elif self.dialect == "soap":
            await self._soap(scope, receive, send, base, relative or "/", instance)
        else:
            await self._lgspaccesstoken(scope, receive, send, base, relative or "/", bus, instance)

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
            rewritten = _core_scope(
                scope, base=base, path=target, credential=credential, extra=list(extra)
            )
            return await _exchange(self.core, rewritten, receive)
        # No credential: whatever the path is, it is no service, and none of its endpoints is
        # offered in this dialect. The instance refuses it (and records the refusal).
        rewritten = _core_scope(scope, base=base, path=relative, credential=None, extra=[])
        return await _exchange(self.own, rewritten, receive)

    # --- WSO2 API Manager ------------------------------------------------------------------

    async def _apim(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        relative: str,
        bus: BusState,
        instance: InstanceState,
    ) -> None:
        if relative == "/token":
            await self._apim_token(scope, receive, send, base, bus, instance)
            return
        authorization = _header(scope, b"authorization")
        credential = None
        if authorization is not None:
            opaque = apim.opaque_token(authorization)
            if opaque is not None:
                jwt = await bus_token_for_opaque(
                    bus.session_factory, instance, opaque, self.remembered
                )
                credential = None if jwt is None else f"Bearer {jwt}"
        answer = await self._to_core(
            scope,
            receive,
            base=base,
            relative=relative,
            bus_path=apim.bus_path,
            credential=credential,
        )
        fault = apim.fault_for(answer.status, credentials_sent=authorization is not None)
        if fault is None or not answer.translatable:
            await answer.replay(send)
            return
        kept = [(k, v) for k, v in answer.headers if k.lower() in _KEPT_FROM_CORE]
        await _respond(send, answer.status, None, kept=kept, body=fault.body())
        if answer.failure is not None:
            raise answer.failure

    async def _apim_token(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        bus: BusState,
        instance: InstanceState,
    ) -> None:
        """The core's client-credentials grant, its JWT kept behind an opaque token."""
        rewritten = _core_scope(
            scope,
            base=base,
            path="/token",
            credential=_header(scope, b"authorization"),
            extra=[],
        )
        answer = await _exchange(self.own, rewritten, receive)
        if answer.status != 200 or not answer.translatable:
            await answer.replay(send)  # RFC 6749's errors, as API Manager's token API gives them
            return
        issued = _problem(answer.body)
        jwt, expires_in = str(issued.get("access_token", "")), int(issued.get("expires_in", 0))
        claims = instance.verified_tokens.verify(
            jwt, instance.keys, issuer=instance.issuer, algorithms=list(bus.settings.jwt_algorithms)
        )
        opaque = str(uuid.uuid4())
        await store_opaque(
            bus.session_factory,
            instance=instance.spec.name,
            token=opaque,
            client_id=claims.client_id,
            scope=" ".join(sorted(claims.scopes)),
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
        self.remembered.put(digest(opaque), jwt, claims.client_id, float(claims.expires_at))
        await _respond(send, 200, apim.token_response(opaque, expires_in), kept=_NO_STORE)

    # --- SOAP citizen services ---------------------------------------------------------------

    async def _soap(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        relative: str,
        instance: InstanceState,
    ) -> None:
        """`XacThucThongTinCongDan` as the national database's `GET /citizens/{cccd}`: TonTai
        when the number is known and the name is the recorded one. The caller authenticates
        with the bus's own token (`Authorization: Bearer`; assigned: the source shows none)."""
        endpoint = "/" + soap.OPERATION
        query = bytes(scope.get("query_string", b"")).decode("latin-1").lower()
        if relative == endpoint and scope["method"] == "GET" and query in ("wsdl", "wsdl="):
            location = f"{instance.issuer}/{DOOR_PREFIXES['soap']}{endpoint}"
            await _respond_bytes(send, 200, soap.wsdl(location), soap.MEDIA_TYPE)
            return
        claim, reason = None, f"Only POST {endpoint} is served here, and GET {endpoint}?wsdl."
        if relative == endpoint and scope["method"] == "POST":
            body = await _read_body(receive, limit=soap.LIMITS.max_bytes)
            reason = f"The request is larger than {soap.LIMITS.max_bytes} bytes."
            if body is not None:
                try:
                    claim = soap.parse_request(body)
                except soap.SoapRequestError as error:
                    reason = str(error)
        if claim is None:  # refused by the instance as any call it cannot take, and recorded
            answer = await _exchange(
                self.own,
                _core_scope(scope, base=base, path=relative, credential=None, extra=[]),
                _nothing_more,
            )
            if not answer.translatable:
                await answer.replay(send)
                return
            await _respond_bytes(
                send,
                500,
                soap.fault(client=True, message=reason, code=SOAP_INVALID),
                soap.MEDIA_TYPE,
            )
            return
        service, version = SOAP_SERVICE
        get = {
            **scope,
            "method": "GET",
            "query_string": b"",
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() not in _BODY_HEADERS],
        }
        answer = await _exchange(
            self.core,
            _core_scope(
                get,
                base=base,
                path=f"/{service}/{version}/citizens/{claim.so_dinh_danh}",
                credential=_header(scope, b"authorization"),
                extra=[],
            ),
            _nothing_more,
        )
        if not answer.translatable:
            await answer.replay(send)
            return
        problem = _problem(answer.body)
        if answer.status == 200:
            recorded = str(problem.get("full_name", ""))
            payload = soap.response(soap.same_name(claim.ho_va_ten, recorded))
            await _respond_bytes(send, 200, payload, soap.MEDIA_TYPE)
        elif answer.status == 404 and problem.get("code") == "CITIZEN_NOT_FOUND":
            await _respond_bytes(send, 200, soap.response(False), soap.MEDIA_TYPE)
        else:
            # WS-I Basic Profile R1126: a fault answers 500, whatever the bus answered.
            payload = soap.fault(
                client=answer.status < 500,
                message=str(problem.get("detail") or problem.get("title") or "Error"),
                code=str(problem.get("code") or "UNKNOWN"),
            )
            await _respond_bytes(send, 500, payload, soap.MEDIA_TYPE)
        if answer.failure is not None:
            raise answer.failure

    # --- lgspaccesstoken -------------------------------------------------------------------

    async def _lgspaccesstoken(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        relative: str,
        bus: BusState,
        instance: InstanceState,
    ) -> None:
        verdict: str | None = None
        credentials: lat.AccessToken | None = None
        raw = _header(scope, lat.HEADER.encode())
        if raw is None:
            verdict = f"Send the {lat.HEADER} header."
        else:
            try:
                credentials = lat.parse(raw)
            except lat.HeaderError as error:
                verdict = str(error)
        if relative == "/token":
            basic = None
            if credentials is not None:
                pair = f"{quote(credentials.access_key)}:{quote(credentials.secret_key)}"
                basic = "Basic " + base64.b64encode(pair.encode()).decode()
            rewritten = _core_scope(scope, base=base, path="/token", credential=basic, extra=[])
            answer = await _exchange(self.own, rewritten, receive)
            if answer.status == 200 or not answer.translatable:
                await answer.replay(send)
                return
            await self._envelope(send, answer, verdict)
            return
        credential = None
        if credentials is not None and raw is not None:
            known = await self._bus_token(scope, base, raw, credentials)
            if known is None:
                verdict = "AccessKey and SecretKey name no client of this LGSP."
            else:
                credential, verdict = self._with_bearer(scope, known, bus, instance)
        extra = []
        receiver = _header(scope, lat.RECEIVER_HEADER.lower().encode())
        if receiver and _header(scope, TARGET_HEADER.lower().encode()) is None:
            extra.append((TARGET_HEADER.lower().encode(), receiver.encode("latin-1")))
        answer = await self._to_core(
            scope,
            receive,
            base=base,
            relative=relative,
            bus_path=lambda service, version, path: (service, version, path),
            credential=credential,
            extra=extra,
        )
        if not answer.translatable:
            await answer.replay(send)
            return
        await self._envelope(send, answer, verdict)

    def _with_bearer(
        self, scope: Scope, known: tuple[str, str], bus: BusState, instance: InstanceState
    ) -> tuple[str | None, str | None]:
        """The credential for the core: a token sent beside the header must be its client's."""
        jwt, client_id = known
        scheme, _, given = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return f"Bearer {jwt}", None
        try:
            claims = instance.verified_tokens.verify(
                given.strip(),
                instance.keys,
                issuer=instance.issuer,
                algorithms=list(bus.settings.jwt_algorithms),
            )
        except InvalidToken as error:
            return None, error.detail
        if claims.client_id != client_id:
            return None, f"The bearer token was not issued to the client of the {lat.HEADER}."
        return f"Bearer {given.strip()}", None

    async def _bus_token(
        self, scope: Scope, base: str, raw: str, credentials: lat.AccessToken
    ) -> tuple[str, str] | None:
        """The bus token of the header's client: remembered, else asked of the core's token
        endpoint (which checks the secret in constant time, and throttles failures)."""
        key = digest(raw)
        known = self.remembered.get(key)
        if known is not None:
            return known
        pair = f"{quote(credentials.access_key)}:{quote(credentials.secret_key)}"
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
        sent = False

        async def receive_form() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": form, "more_body": False}

        answer = await _exchange(self.own, token_scope, receive_form)
        if answer.status != 200:
            return None
        issued = _problem(answer.body)
        jwt = str(issued.get("access_token", ""))
        expires_in = int(issued.get("expires_in", 0))
        self.remembered.put(
            key, jwt, credentials.access_key, datetime.now(UTC).timestamp() + expires_in
        )
        return jwt, credentials.access_key

    async def _envelope(self, send: Send, answer: Answer, verdict: str | None) -> None:
        status, body = answer.status, answer.body
        if status < 400:
            try:
                data: Any = json.loads(body) if body else None
            except ValueError:
                data = body.decode("utf-8", "replace")
            document = lat.success(data)
        else:
            problem = _problem(body)
            message = str(
                problem.get("detail") or problem.get("error_description") or problem.get("title")
            )
            if verdict is not None and status == 401:
                message = verdict
            code = problem.get("code")
            document = lat.failure(
                status, message, problem_code=code if isinstance(code, str) else None
            )
        kept = [(k, v) for k, v in answer.headers if k.lower() in _KEPT_FROM_CORE]
        await _respond(send, status, document, kept=kept)
        if answer.failure is not None:
            raise answer.failure


async def _read_body(receive: Receive, *, limit: int) -> bytes | None:
    """The request body, or None once it passes `limit` bytes (the rest is not read)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _nothing_more() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"transfer-encoding", b"soapaction"})
SOAP_INVALID = "SOAP_REQUEST_INVALID"
SOAP_SERVICE = ("csdlqgdc", "v1")
"""XacThucThongTinCongDan is the national population database's (Bộ Công an, `dancuquocgia.bca`)."""


def mount_doors(
    mount: Callable[[str, ASGIApp], None], spec: InstanceSpec, *, core: ASGIApp, own: ASGIApp
) -> None:
    """Mount a door per real dialect `spec` speaks; before the instance's own mount, which
    would otherwise take their paths."""
    for dialect in spec.spoken:
        if dialect in DOOR_PREFIXES:
            door = Door(dialect=dialect, instance=spec.name, core=core, own=own)
            mount(f"{spec.mount_path}/{DOOR_PREFIXES[dialect]}", door)


def door_urls(spec: InstanceSpec, base_url: str) -> dict[str, str]:
    """Where callers reach the instance in each dialect it speaks (the index, the banner)."""
    return {
        dialect: base_url
        if dialect not in DOOR_PREFIXES
        else f"{base_url}/{DOOR_PREFIXES[dialect]}"
        for dialect in spec.spoken
    }
