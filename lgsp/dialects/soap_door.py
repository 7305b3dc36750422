"""The SOAP citizen services' door (`adapters.dialects.soap`).

Every call through it is audited (DESIGN.md §3: the same audit whatever the dialect): a service
call by the core it reaches, a refusal of the door's own and a WSDL (`?wsdl`, which SOAP
toolkits fetch before their first call) at the door's path, with the status sent, and kept in
the journal too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.types import Send

from adapters.dialects import lgspaccesstoken as lat
from adapters.dialects import soap
from lgsp.dialects.door import Door, DoorCall, answer_recorded
from lgsp.dialects.exchange import (
    body_once,
    core_scope,
    exchange,
    header,
    problem_of,
    read_body,
    respond_bytes,
)
from lgsp.errors import InvalidToken

_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"transfer-encoding", b"soapaction"})
SOAP_INVALID = "SOAP_REQUEST_INVALID"
SOAP_SERVICE = ("csdlqgdc", "v1")
"""XacThucThongTinCongDan is the national population database's (Bộ Công an, `dancuquocgia.bca`)."""
_WSDLS = {soap.OPERATION: soap.wsdl, soap.NHAN_THAN_OPERATION: soap.nhan_than_wsdl}


class SoapDoor(Door):
    prefix = "soap"

    async def serve(self, call: DoorCall) -> None:
        """Both services as the national database's `GET /citizens/{cccd}`:
        `XacThucThongTinCongDan` answers TonTai when the number is known and the name is the
        recorded one; `XacMinhThongTinNhanThan` the citizen whose number, name and (when sent)
        birth date are the recorded ones, or none. The caller authenticates with the bus's own
        token (`Authorization: Bearer`; assigned: the source shows none). A caller whose
        `Accept` names `application/json` (assigned) gets the same envelope JSON-wrapped, as does
        the Thanh Hóa portal's JSON request to `XacMinhThongTinNhanThan` (DOMAIN.md §5.2)."""
        scope, receive, send = call.scope, call.receive, call.send
        base, relative, instance = call.base, call.relative, call.instance
        operation = relative.removeprefix("/")
        query = bytes(scope.get("query_string", b"")).decode("latin-1").lower()
        if operation in _WSDLS and scope["method"] == "GET" and query in ("wsdl", "wsdl="):
            location = f"{instance.issuer}/{self.prefix}{relative}"
            wsdl = _WSDLS[operation](location)
            await answer_recorded(
                scope,
                receive,
                send,
                lambda sent: respond_bytes(sent, 200, wsdl, soap.MEDIA_TYPE),
                instance=self.instance,
                base=base,
            )
            return
        portal = (header(scope, b"content-type") or "").lower().startswith(soap.JSON_MEDIA_TYPE)
        wrapped = portal or soap.JSON_MEDIA_TYPE in (header(scope, b"accept") or "").lower()
        refused = _unauthenticated(call)
        if refused is not None:  # before the body is read: nothing of it reaches a stranger
            fault = soap.fault(client=True, message=refused.detail, code=refused.code)
            await self._refuse(
                call,
                lambda sent: _answer(sent, wrapped, 401, fault, problem_code=refused.code),
            )
            return
        claim: soap.XacThucRequest | soap.XacMinhRequest | None = None
        reason = f"Only POST {{door}}/{{operation}} and GET ?wsdl of {', '.join(_WSDLS)}."
        body: bytes | None = None
        if operation in _WSDLS and scope["method"] == "POST":
            body = await read_body(receive, limit=soap.LIMITS.max_bytes)
            reason = f"The request is larger than {soap.LIMITS.max_bytes} bytes."
            if body is not None:
                try:
                    if operation == soap.OPERATION:
                        claim = soap.parse_request(body)
                    elif portal:
                        claim = soap.parse_portal_request(body)
                    else:
                        claim = soap.parse_nhan_than(body)
                except soap.SoapRequestError as error:
                    reason = str(error)
        if claim is None:  # the door's refusal, recorded at its path with the status sent
            fault = soap.fault(client=True, message=reason, code=SOAP_INVALID)
            await self._refuse(
                call,
                lambda sent: _answer(sent, wrapped, 400, fault, problem_code=SOAP_INVALID),
                read=body,
            )
            return
        service, version = SOAP_SERVICE
        get = {
            **scope,
            "method": "GET",
            "query_string": b"",
            "headers": [(k, v) for k, v in scope["headers"] if k.lower() not in _BODY_HEADERS],
        }
        answer = await exchange(
            self.core,
            core_scope(
                get,
                base=base,
                path=f"/{service}/{version}/citizens/{claim.so_dinh_danh}",
                credential=header(scope, b"authorization"),
                extra=[],
            ),
            body_once(b""),
        )
        if not answer.translatable:
            await answer.replay(send)
            return
        problem = problem_of(answer.body)
        unknown = answer.status == 404 and problem.get("code") == "CITIZEN_NOT_FOUND"
        if answer.status == 200 or unknown:
            recorded = str(problem.get("full_name", ""))
            same = answer.status == 200 and soap.same_name(claim.ho_va_ten, recorded)
            if isinstance(claim, soap.XacThucRequest):
                payload = soap.response(same)
            else:
                born = _date(problem.get("date_of_birth"))
                if born is None or claim.birth_date not in (None, born):
                    same = False
                found = [(claim.so_dinh_danh, recorded, born)] if same and born else []
                payload = soap.nhan_than_response(found, at=datetime.now(UTC))
            await _answer(send, wrapped, 200, payload)
        else:
            code = str(problem.get("code") or "UNKNOWN")
            payload = soap.fault(
                client=answer.status < 500,
                message=str(problem.get("detail") or problem.get("title") or "Error"),
                code=code,
            )
            await _answer(send, wrapped, answer.status, payload, problem_code=code)
        if answer.failure is not None:
            raise answer.failure


def _unauthenticated(call: DoorCall) -> InvalidToken | None:
    """Why the caller's bearer token is refused (missing, malformed, forged, expired), checked as
    the core checks it first, so that a stranger learns nothing of the parser; None: the core
    checks the rest (revocation, the client, its rights)."""
    scheme, _, token = (header(call.scope, b"authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return InvalidToken("Send the access token as `Authorization: Bearer <token>`.")
    instance = call.instance
    try:
        instance.verified_tokens.verify(
            token.strip(),
            instance.keys,
            issuer=instance.issuer,
            algorithms=list(call.bus.settings.jwt_algorithms),
        )
    except InvalidToken as error:
        return error
    return None


async def _answer(
    send: Send, wrapped: bool, status: int, envelope: bytes, *, problem_code: str | None = None
) -> None:
    """The envelope as SOAP answers it (a fault is 500, WS-I Basic Profile R1126), or, for a
    caller that accepts only JSON, wrapped as the Thanh Hóa portal reads it (DOMAIN.md §5.2).
    Assigned, the source shows only the success: a wrapped fault keeps the bus's status and
    carries the `lgspaccesstoken` envelope's `error_code` for it."""
    if not wrapped:
        await respond_bytes(send, 200 if status < 400 else 500, envelope, soap.MEDIA_TYPE)
    elif status < 400:
        await respond_bytes(send, status, soap.json_wrapped(envelope), soap.JSON_MEDIA_TYPE)
    else:
        code = lat.error_code(status, problem_code)
        document = soap.json_wrapped(envelope, error_code=code)
        await respond_bytes(send, status, document, soap.JSON_MEDIA_TYPE)


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
