"""The WSO2 API Manager door (`adapters.dialects.apim`): opaque tokens over the core's JWTs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.types import Receive, Scope, Send

from adapters.dialects import apim
from lgsp.dialects.door import Door, DoorCall
from lgsp.dialects.exchange import (
    KEPT_FROM_CORE,
    NO_STORE,
    core_scope,
    exchange,
    header,
    problem_of,
    respond,
)
from lgsp.dialects.tokens import bus_token_for_opaque, digest, store_opaque
from lgsp.state import BusState, InstanceState


class ApimDoor(Door):
    prefix = "apim"

    async def serve(self, call: DoorCall) -> None:
        scope, receive, send = call.scope, call.receive, call.send
        base, relative, bus, instance = call.base, call.relative, call.bus, call.instance
        if relative == "/token":
            await self._token(scope, receive, send, base, bus, instance)
            return
        authorization = header(scope, b"authorization")
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
        kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
        await respond(send, answer.status, None, kept=kept, body=fault.body())
        if answer.failure is not None:
            raise answer.failure

    async def _token(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        base: str,
        bus: BusState,
        instance: InstanceState,
    ) -> None:
        """The core's client-credentials grant, its JWT kept behind an opaque token."""
        rewritten = core_scope(
            scope,
            base=base,
            path="/token",
            credential=header(scope, b"authorization"),
            extra=[],
        )
        answer = await exchange(self.own, rewritten, receive)
        if answer.status != 200 or not answer.translatable:
            await answer.replay(send)  # RFC 6749's errors, as API Manager's token API gives them
            return
        issued = problem_of(answer.body)
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
        await respond(send, 200, apim.token_response(opaque, expires_in), kept=NO_STORE)
