"""The WSO2 API Manager door (`adapters.dialects.apim`): opaque tokens over the core's JWTs.

`POST {door}/token` keeps the core's grant behind an opaque token, and is recorded at the door's
path, answered (the token starred out in the journal) or refused; `POST {door}/revoke` ends one
(RFC 7009, as API Manager's `/revoke`): the core's revocation endpoint authenticates the client
and checks the token is its own, and the door then forgets the token in every worker (its row
goes, and the `jti` every worker mints for it is on the core's deny list).

The context `vdxp-product/1.0` is the VDXP axis published as an API (`apim.VDXP_API`): its
five resources are the axis's operations, served by the VDXP SDK door's translation
(`VdxpAxis`) with the caller's token in place of the SDK's HMAC, and answered in the axis's
`{status, ErrorCode, ErrorDesc, …}`; what the gateway itself refuses (the token, the
subscription, the throttling, an unknown resource) stays API Manager's fault.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from starlette.types import Send

from adapters.dialects import apim
from adapters.dialects import vdxpsdk as sdk
from lgsp.dialects.door import DoorCall, Reply, credential_recorded
from lgsp.dialects.exchange import (
    KEPT_FROM_CORE,
    Answer,
    body_once,
    header,
    problem_of,
    read_body,
    respond,
)
from lgsp.dialects.models import OpaqueToken
from lgsp.dialects.tokens import bus_token_for, digest, forget_issued, store_issued
from lgsp.dialects.vdxpsdk_door import MAX_QUERY_BODY, AxisCall, VdxpAxis, file_sent


class ApimDoor(VdxpAxis):
    prefix = "apim"

    async def serve(self, call: DoorCall) -> None:
        if call.relative == "/token":
            await self._token(call)
            return
        if call.relative == apim.REVOKE_PATH:
            await self._revoke(call)
            return
        authorization = header(call.scope, b"authorization")
        known = None
        if authorization is not None:
            opaque = apim.opaque_token(authorization)
            if opaque is not None:
                known = await self._known(call, digest(opaque))
        credential = None if known is None else f"Bearer {known[0]}"
        resource = apim.vdxp_resource(call.relative)
        if resource is not None:
            if known is None:  # the gateway refuses before the axis is reached
                sent = authorization is not None
                refusal = apim.INVALID_CREDENTIALS if sent else apim.MISSING_CREDENTIALS
                await self._refuse(call, _fault_reply(refusal, 401, []))
                return
            if resource in apim.VDXP_OPERATIONS and call.scope["method"] == "POST":
                await self._vdxp(
                    call, resource, client_id=known[1], credential=f"Bearer {known[0]}"
                )
                return
        answer = await self._to_core(
            call.scope,
            call.receive,
            base=call.base,
            relative=call.relative,
            bus_path=apim.bus_path if resource is None else None,
            credential=credential,
        )
        fault = apim.fault_for(answer.status, credentials_sent=authorization is not None)
        if fault is None or not answer.translatable:
            await answer.replay(call.send)
            return
        await self._reply(call, answer, _fault_reply(fault, answer.status, _kept(answer)))
        if answer.failure is not None:
            raise answer.failure

    async def _vdxp(
        self, call: DoorCall, resource: str, *, client_id: str, credential: str
    ) -> None:
        """One of the VDXP axis's operations, as the SDK door serves it: its fields from the
        SDK's headers (`sdk.unsigned_entries`), `sendEdoc`'s file from the body."""
        sending = resource == "sendEdoc"
        limit = call.bus.settings.vdxp_sdk_max_file_bytes if sending else MAX_QUERY_BODY
        body = await read_body(call.receive, limit=limit)
        if body is None:
            failure = sdk.failure("TOO_LARGE", f"The body is larger than {limit} bytes.")
            await self._refuse(call, lambda sent: respond(sent, 413, failure))
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in call.scope["headers"]
        }
        entries = sdk.unsigned_entries(headers, b"" if sending else body)
        if not sending:
            asked = AxisCall(f"/{resource}", entries, client_id, credential)
            await self._serve_operation(call, asked, read=body, gateway=_gateway)
            return
        try:
            data = await file_sent(body, headers.get("content-type", ""), entries.get("hash-file"))
        except sdk.SdkRefusal as error:
            await self._unusable(call, error, read=body)
            return
        await self._send_edoc(call, data, entries, credential, read=body, gateway=_gateway)

    async def _known(self, call: DoorCall, key: str) -> tuple[str, str] | None:
        """The bus token an opaque token (its hash, `key`) stands for, if it is live."""
        return await bus_token_for(
            call.bus.session_factory,
            OpaqueToken,
            call.instance,
            key,
            self.remembered,
            call.bus.deny_list,
        )

    async def _token(self, call: DoorCall) -> None:
        """The core's client-credentials grant, its JWT kept behind an opaque token."""
        answer = await self._to_own(call, "/token", credential=header(call.scope, b"authorization"))
        if not answer.translatable:  # a dropped connection (a fault) passes as it is
            await answer.replay(call.send)
            return
        if answer.status != 200:
            # RFC 6749's errors, as API Manager's token API gives, recorded at the door's path
            # besides the token endpoint's own record of what it refused.
            await self._refuse(call, answer.replay)
            return
        issued = problem_of(answer.body)
        jwt, expires_in = str(issued.get("access_token", "")), int(issued.get("expires_in", 0))
        bus, instance = call.bus, call.instance
        claims = instance.verified_tokens.verify(
            jwt, instance.keys, issuer=instance.issuer, algorithms=list(bus.settings.jwt_algorithms)
        )
        opaque = str(uuid.uuid4())
        # The core's own JWT is not kept: the token every worker mints from the row, with one
        # `jti`, is the one a revocation ends.
        await store_issued(
            bus.session_factory,
            OpaqueToken,
            instance=instance.spec.name,
            key=digest(opaque),
            client_id=claims.client_id,
            scope=" ".join(sorted(claims.scopes)),
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
        # Recorded at the door's path as a refusal is, the opaque token starred out in what
        # the journal keeps.
        issued_token = apim.token_response(opaque, expires_in)
        await credential_recorded(call, issued_token, "access_token", instance=self.instance)

    async def _revoke(self, call: DoorCall) -> None:
        """RFC 7009 at API Manager's `/revoke`: the opaque token in the form is exchanged for the
        JWT it stands for, and the core's revocation endpoint answers (its client
        authentication, its 200 for a token it does not know, its refusal of another client's
        token, its audit record)."""
        body = await read_body(call.receive, limit=apim.MAX_REVOKE_BODY)
        if body is None:  # past the bound: the core refuses it as too long, and records it
            body = b"\0" * (apim.MAX_REVOKE_BODY + 1)
        form = apim.revocation_form(body)
        key, sent = None, body
        if form is not None and form.opaque is not None:
            key = digest(form.opaque)
            known = await self._known(call, key)
            sent = form.with_token(known[0]) if known is not None else body
        headers = [(k, v) for k, v in call.scope["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(sent)).encode()))
        answer = await self._to_own(
            call,
            "/token/revoke",
            credential=header(call.scope, b"authorization"),
            receive=body_once(sent),
            headers=headers,
        )
        if answer.status == 200 and key is not None:
            await forget_issued(
                call.bus.session_factory,
                OpaqueToken,
                instance=call.instance.spec.name,
                key=key,
                remembered=self.remembered,
            )
        await answer.replay(call.send)


def _kept(answer: Answer) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]


def _fault_reply(fault: apim.Fault, status: int, kept: list[tuple[bytes, bytes]]) -> Reply:
    body = fault.body()

    async def reply(send: Send) -> None:
        await respond(send, status, None, kept=kept, body=body)

    return reply


def _gateway(answer: Answer) -> Reply | None:
    """API Manager's fault in place of the axis's answer, for what its gateway refuses."""
    fault = apim.gateway_fault(answer.status, problem_of(answer.body).get("code"))
    return None if fault is None else _fault_reply(fault, answer.status, _kept(answer))
