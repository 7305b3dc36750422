"""The SOAP citizen service door (`adapters.dialects.soap`)."""

from __future__ import annotations

from adapters.dialects import soap
from lgsp.dialects.door import Door, DoorCall
from lgsp.dialects.exchange import (
    body_once,
    core_scope,
    exchange,
    header,
    problem_of,
    read_body,
    respond_bytes,
)

_BODY_HEADERS = frozenset({b"content-length", b"content-type", b"transfer-encoding", b"soapaction"})
SOAP_INVALID = "SOAP_REQUEST_INVALID"
SOAP_SERVICE = ("csdlqgdc", "v1")
"""XacThucThongTinCongDan is the national population database's (Bộ Công an, `dancuquocgia.bca`)."""


class SoapDoor(Door):
    prefix = "soap"

    async def serve(self, call: DoorCall) -> None:
        """`XacThucThongTinCongDan` as the national database's `GET /citizens/{cccd}`: TonTai
        when the number is known and the name is the recorded one. The caller authenticates
        with the bus's own token (`Authorization: Bearer`; assigned: the source shows none)."""
        scope, receive, send = call.scope, call.receive, call.send
        base, relative, instance = call.base, call.relative, call.instance
        endpoint = "/" + soap.OPERATION
        query = bytes(scope.get("query_string", b"")).decode("latin-1").lower()
        if relative == endpoint and scope["method"] == "GET" and query in ("wsdl", "wsdl="):
            location = f"{instance.issuer}/{self.prefix}{endpoint}"
            await respond_bytes(send, 200, soap.wsdl(location), soap.MEDIA_TYPE)
            return
        claim, reason = None, f"Only POST {endpoint} is served here, and GET {endpoint}?wsdl."
        if relative == endpoint and scope["method"] == "POST":
            body = await read_body(receive, limit=soap.LIMITS.max_bytes)
            reason = f"The request is larger than {soap.LIMITS.max_bytes} bytes."
            if body is not None:
                try:
                    claim = soap.parse_request(body)
                except soap.SoapRequestError as error:
                    reason = str(error)
        if claim is None:  # refused by the instance as any call it cannot take, and recorded
            answer = await exchange(
                self.own,
                core_scope(scope, base=base, path=relative, credential=None, extra=[]),
                body_once(b""),
            )
            if not answer.translatable:
                await answer.replay(send)
                return
            await respond_bytes(
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
        if answer.status == 200:
            recorded = str(problem.get("full_name", ""))
            payload = soap.response(soap.same_name(claim.ho_va_ten, recorded))
            await respond_bytes(send, 200, payload, soap.MEDIA_TYPE)
        elif answer.status == 404 and problem.get("code") == "CITIZEN_NOT_FOUND":
            await respond_bytes(send, 200, soap.response(False), soap.MEDIA_TYPE)
        else:
            # WS-I Basic Profile R1126: a fault answers 500, whatever the bus answered.
            payload = soap.fault(
                client=answer.status < 500,
                message=str(problem.get("detail") or problem.get("title") or "Error"),
                code=str(problem.get("code") or "UNKNOWN"),
            )
            await respond_bytes(send, 500, payload, soap.MEDIA_TYPE)
        if answer.failure is not None:
            raise answer.failure
