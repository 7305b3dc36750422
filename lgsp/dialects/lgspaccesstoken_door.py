"""The `lgspaccesstoken` door (`adapters.dialects.lgspaccesstoken`).

The instance's topology entry chooses the form (`lgspaccesstoken_variant`): Hậu Giang's header
and envelope, or HCM's (the JSON in `Authorization`, `{StatusCode, …}`; DOMAIN.md §2.2).
`RECEIVER_CODE` names the province a provincial service is asked at: an instance's name, a
province code (today's, or one of the old provinces merged into it), or an agency's organ id
(QĐ 20/2020: its level-1 letter code is its province's), as the Khánh Hòa client and the
X-Road addressing name a receiver (DOMAIN.md §2.2, §8.1); in era 2026 an organ id under a
level-1 code the 2025 merger closed is AGENCY_CODE_CLOSED, naming its successor, as elsewhere.
A refusal's `message` begins with the bus's stable code (`UNKNOWN_RECIPIENT: …`) and names the
caller's headers, never the bus's.
"""

from __future__ import annotations

import base64
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from starlette.types import Send

from adapters.dialects import lgspaccesstoken as lat
from formats.agency_codes import AgencyCodeClosed
from formats.codes import ORGAN_ID
from formats.dates import VIETNAM_TIME
from lgsp.ca.tasks import refuse_closed_organisation
from lgsp.dialects.door import Door, DoorCall, problem_adapter
from lgsp.dialects.exchange import KEPT_FROM_CORE, Answer, exchange, header, problem_of, respond
from lgsp.dialects.tokens import digest
from lgsp.errors import InvalidToken, TargetNotFound
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.routing.systems import organisations
from lgsp.state import BusState

_PROVINCE_CODE = re.compile(r"^[0-9]{2}$")
_ORGAN_ID = re.compile(ORGAN_ID)


class AccessTokenDoor(Door):
    prefix = "lgspaccesstoken"

    async def serve(self, call: DoorCall) -> None:
        verdict: str | None = None
        credentials: lat.AccessToken | None = None
        form = lat.FORMS[call.instance.spec.access_token_variant]
        raw = header(call.scope, form.header.lower().encode())
        if raw is None:
            verdict = self._missing(form)
        else:
            try:
                credentials = lat.parse(raw, header=form.header)
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
            await self._envelope(call.send, answer, verdict, form)
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
            closed = self._closed(call.bus, receiver.strip())
            target = None if closed else self._receiver_instance(call.bus, receiver.strip())
            if target is None and credential is not None:
                refusal = closed or TargetNotFound(
                    f"{lat.RECEIVER_HEADER} names no province of this bus: {receiver!r} (send "
                    "an instance's name, a province code or an agency's organ id)."
                )
                answer = await exchange(
                    problem_adapter(refusal, instance=self.instance),
                    call.scope,
                    call.receive,
                    recorded=False,
                )
                await self._reply(
                    call, answer, lambda send: self._envelope(send, answer, None, form)
                )
                return
            extra.append((TARGET_HEADER.lower().encode(), (target or receiver).encode("latin-1")))
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
        await self._reply(call, answer, lambda send: self._envelope(send, answer, verdict, form))

    def _receiver_instance(self, bus: BusState, receiver: str) -> str | None:
        """The province instance `RECEIVER_CODE` names; None when it names none of this bus."""
        topology = bus.topology
        provinces = [i for i in topology.instances if i.kind == "province"]
        if any(i.name == receiver for i in provinces):
            return receiver
        if receiver in topology.aliases:
            return topology.aliases[receiver].name
        if _PROVINCE_CODE.match(receiver):
            # today's code first: in era 2026, 91 is An Giang, which Kiên Giang (91) joined
            named = [i for i in provinces if i.province_code == receiver]
            named += [i for i in provinces if receiver in (*i.legacy_codes, i.seed_code)]
            return named[0].name if named else None
        if _ORGAN_ID.match(receiver):
            return self._letter_codes(bus).get(receiver.rpartition(".")[2])
        return None

    def _closed(self, bus: BusState, receiver: str) -> AgencyCodeClosed | None:
        """AGENCY_CODE_CLOSED for an organ id under a level-1 code the 2025 merger closed, as
        the bus refuses such an agency everywhere else (`refuse_closed_organisation`), rather
        than a 404 that hides why and where to go."""
        if not _ORGAN_ID.match(receiver):
            return None
        try:
            refuse_closed_organisation(
                receiver,
                era=bus.settings.era,
                on=datetime.now(VIETNAM_TIME).date(),
                directory=self._organisations(bus),
            )
        except AgencyCodeClosed as refusal:
            return refusal
        return None

    def _letter_codes(self, bus: BusState) -> dict[str, str]:
        """Level-1 letter code → the instance whose organisations carry it (computed once)."""
        if self._letters is None:
            self._letters = {
                organ_id.rpartition(".")[2]: instance
                for organ_id, instance in self._organisations(bus).items()
            }
        return self._letters

    def _organisations(self, bus: BusState) -> dict[str, str]:
        """Organ id → the province instance whose systems serve it (computed once)."""
        if self._served is None:
            topology = bus.topology
            self._served = {
                organ_id: instance.name
                for instance in topology.instances
                if instance.kind == "province"
                for organ_id in organisations(
                    bus.systems, [instance], bus.settings, provinces=topology.provinces
                )
            }
        return self._served

    _letters: dict[str, str] | None = None
    _served: dict[str, str] | None = None

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

    @staticmethod
    def _missing(form: lat.Form) -> str:
        """Why a call without the credentials is refused, naming where this instance reads them."""
        other = next(f for f in lat.FORMS.values() if f.header != form.header)
        return (
            f"Send the {form.header} header (this LGSP does not read the JSON in "
            f"{other.header}: its topology entry's lgspaccesstoken_variant chooses)."
        )

    async def _envelope(
        self, send: Send, answer: Answer, verdict: str | None, form: lat.Form
    ) -> None:
        status, body = answer.status, answer.body
        if status < 400:
            try:
                data: Any = json.loads(body) if body else None
            except (ValueError, RecursionError):  # a system's answer nested past the stack
                data = body.decode("utf-8", "replace")
            document = form.success(data)
        else:
            problem = problem_of(body)
            message = str(
                problem.get("detail") or problem.get("error_description") or problem.get("title")
            )
            if verdict is not None and status == 401:
                message = verdict
            code = problem.get("code")
            stable = code if isinstance(code, str) else None
            # the caller named the province in RECEIVER_CODE: the bus's header is its own
            message = message.replace(TARGET_HEADER, lat.RECEIVER_HEADER)
            if stable is not None:
                message = f"{stable}: {message}"
            document = form.failure(status, message, problem_code=stable)
        kept = [(k, v) for k, v in answer.headers if k.lower() in KEPT_FROM_CORE]
        await respond(send, status, document, kept=kept)
        if answer.failure is not None:
            raise answer.failure
