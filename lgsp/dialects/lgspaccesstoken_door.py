"""The `lgspaccesstoken` door (`adapters.dialects.lgspaccesstoken`)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from starlette.types import Send

from adapters.dialects import lgspaccesstoken as lat
from lgsp.dialects.door import Door, DoorCall
from lgsp.dialects.exchange import KEPT_FROM_CORE, Answer, header, problem_of, respond
from lgsp.dialects.tokens import digest
from lgsp.errors import InvalidToken
from lgsp.routing.resolver import TARGET_HEADER


class AccessTokenDoor(Door):
    prefix = "lgspaccesstoken"

    async def serve(self, call: DoorCall) -> None:
        verdict: str | None = None
        credentials: lat.AccessToken | None = None
        raw = header(call.scope, lat.HEADER.encode())
        if raw is None:
            verdict = f"Send the {lat.HEADER} header."
        else:
            try:
                credentials = lat.parse(raw)
            except lat.HeaderError as error:
                verdict = str(error)
        if call.relative == "/token":
            basic = None
            if credentials is not None:
                pair = f"{quote(credentials.access_key)}:{quote(credentials.secret_key)}"
                basic = "Basic " + base64.b64encode(pair.encode()).decode()
            answer = await self._to_own(call, "/token", credential=basic)
            if answer.status == 200 or not answer.translatable:
                await answer.replay(call.send)
                return
            await self._envelope(call.send, answer, verdict)
            return
        credential = None
        if credentials is not None and raw is not None:
            # The header's client's bus token: remembered, else asked of the core's token
            # endpoint (which checks the secret in constant time, and throttles failures).
            known = await self._client_token(
                call.scope, call.base, key=digest(raw), client_id=credentials.access_key,
                secret=credentials.secret_key,
            )  # fmt: skip
            if known is None:
                verdict = "AccessKey and SecretKey name no client of this LGSP."
            else:
                credential, verdict = self._with_bearer(call, known)
        extra = []
        receiver = header(call.scope, lat.RECEIVER_HEADER.lower().encode())
        if receiver and header(call.scope, TARGET_HEADER.lower().encode()) is None:
            extra.append((TARGET_HEADER.lower().encode(), receiver.encode("latin-1")))
        answer = await self._to_core(
            call.scope,
            call.receive,
            base=call.base,
            relative=call.relative,
            bus_path=lambda service, version, path: (service, version, path),
            credential=credential,
            extra=extra,
        )
        if not answer.translatable:
            await answer.replay(call.send)
            return
        await self._reply(call, answer, lambda send: self._envelope(send, answer, verdict))

    def _with_bearer(self, call: DoorCall, known: tuple[str, str]) -> tuple[str | None, str | None]:
        """The credential for the core: a token sent beside the header must be its client's."""
        jwt, client_id = known
        scheme, _, given = (header(call.scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            return f"Bearer {jwt}", None
        instance = call.instance
        try:
            claims = instance.verified_tokens.verify(
                given.strip(),
                instance.keys,
                issuer=instance.issuer,
                algorithms=list(call.bus.settings.jwt_algorithms),
            )
        except InvalidToken as error:
            return None, error.detail
        if claims.client_id != client_id:
            return None, f"The bearer token was not issued to the client of the {lat.HEADER}."
        return f"Bearer {given.strip()}", None

    async def _envelope(self, send: Send, answer: Answer, verdict: str | None) -> None:
        status, body = answer.status, answer.body
        if status < 400:
            try:
                data: Any = json.loads(body) if body else None
            except (ValueError, RecursionError):  # a system's answer nested past the stack
                data = body.decode("utf-8", "replace")
            document = lat.success(data)
        else:
            problem = problem_of(body)
            message = str(
                problem.get("detail") or problem.get("error_description") or problem.get("title")
            )
            if verdict is not None and status == 401:
                message = verdict
            code = problem.get("code")
            document = lat.failure(
                status, message, problem_code=code if isinstance(code, str) else None
            )
        kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
        await respond(send, status, document, kept=kept)
        if answer.failure is not None:
            raise answer.failure
