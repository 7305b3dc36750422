"""The DVCQG adapter protocol's door (`adapters.dialects.opencps`): OpenCPS's sync client
against the catalog's `dvcqg` and `dvc` operations.

`POST {door}/auth` asks the core's token endpoint with the username and password (so the
secret is checked in constant time and failures are throttled and recorded as any other) and
answers a random session. Sessions are kept in the database only as SHA-256 hashes of the
session with its `dstcode` (`OpenCpsSession`), until the bus token behind them expires, so
every worker on the database honours a session any of them answered; a session presented with
another `dstcode` is no session. `POST {door}/integration` turns each service into calls of the
bus's own dialect to the instance's core, under the caller's request id.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.types import Scope

from adapters.dialects import opencps as dvc
from lgsp.dialects.door import Door, DoorCall
from lgsp.dialects.exchange import (
    CREDENTIAL_HEADERS,
    NO_STORE,
    Answer,
    body_once,
    exchange,
    header,
    problem_of,
    read_body,
    respond,
)
from lgsp.dialects.models import OpenCpsSession
from lgsp.dialects.tokens import bus_token_for, digest, store_issued
from lgsp.state import BusState, InstanceState


class _Untranslatable(Exception):
    """The core dropped the connection (a fault): the caller meets it as it is."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("untranslatable answer")
        self.answer = answer


_DROPPED = CREDENTIAL_HEADERS | {b"content-length", b"content-type", b"idempotency-key"}
_PAGE_SIZE = 100


class OpenCpsDoor(Door):
    prefix = "opencps"

    async def serve(self, call: DoorCall) -> None:
        scope, receive, send = call.scope, call.receive, call.send
        base, relative, instance = call.base, call.relative, call.instance
        if scope["method"] != "POST" or relative not in (dvc.AUTH_PATH, dvc.INTEGRATION_PATH):
            answer = await self._to_core(
                scope, receive, base=base, relative=relative, bus_path=None, credential=None
            )
            await answer.replay(send)
            return
        body = await read_body(receive, limit=dvc.MAX_BODY)
        dstcode = header(scope, dvc.DSTCODE_HEADER.encode())
        try:
            if body is None:
                raise dvc.ProtocolError(f"The body is longer than {dvc.MAX_BODY} bytes.")
            if not dstcode or len(dstcode) > dvc.MAX_DSTCODE:
                raise dvc.ProtocolError(f"Send the {dvc.DSTCODE_HEADER} header.")
            if relative == dvc.AUTH_PATH:
                document = await self._auth(scope, base, body, dstcode, call.bus, instance)
            else:
                document = await self._integrate(scope, base, body, dstcode, call.bus, instance)
        except dvc.ProtocolError as error:
            document = dvc.reply(error.code, str(error))
        except _Untranslatable as dropped:
            await dropped.answer.replay(send)
            return
        await respond(send, 200, document, kept=NO_STORE)

    async def _auth(
        self,
        scope: Scope,
        base: str,
        body: bytes,
        dstcode: str,
        bus: BusState,
        instance: InstanceState,
    ) -> dict[str, Any]:
        login = dvc.parse_login(body)
        pair = f"{quote(login.username)}:{quote(login.password)}"
        form = b"grant_type=client_credentials"
        answer = await self._call(
            scope,
            base,
            "POST",
            "/token",
            body=form,
            media_type="application/x-www-form-urlencoded",
            credential="Basic " + base64.b64encode(pair.encode()).decode(),
            app=self.own,
        )
        if answer.status != 200:
            problem = problem_of(answer.body)
            message = problem.get("error_description") or "username or password is wrong."
            return dvc.reply(dvc.AUTH_FAILED, str(message))
        claims = instance.verified_tokens.verify(
            str(problem_of(answer.body).get("access_token", "")),
            instance.keys,
            issuer=instance.issuer,
            algorithms=list(bus.settings.jwt_algorithms),
        )
        session = secrets.token_urlsafe(32)
        await store_issued(
            bus.session_factory,
            OpenCpsSession,
            instance=instance.spec.name,
            key=_key(session, dstcode),
            client_id=claims.client_id,
            scope=" ".join(sorted(claims.scopes)),
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
        return dvc.reply(dvc.OK, "Thành công", session=session)

    async def _integrate(
        self,
        scope: Scope,
        base: str,
        body: bytes,
        dstcode: str,
        bus: BusState,
        instance: InstanceState,
    ) -> dict[str, Any]:
        document = dvc.parse_object(body)
        session = dvc.text(document, "session") or ""
        known = await bus_token_for(
            bus.session_factory, OpenCpsSession, instance, _key(session, dstcode), self.remembered
        )
        if known is None:
            # Refused by the instance as any call without credentials, so that it is recorded.
            await self._to_core(
                scope, body_once(b""), base=base, relative="/", bus_path=None, credential=None
            )
            raise dvc.ProtocolError("The session is unknown or expired.", dvc.AUTH_FAILED)
        dvc.text(document, "madonvi")
        service = dvc.text(document, "service") or ""
        if service not in dvc.SERVICES:
            raise dvc.ProtocolError("The adapter offers no such service.", dvc.NOT_OFFERED)
        if service in dvc.NOT_BEHIND:
            raise dvc.ProtocolError(dvc.NOT_BEHIND[service], dvc.NOT_OFFERED)
        credential = f"Bearer {known[0]}"
        if service == "LayDanhSachTTHC":
            return await self._procedures(scope, base, credential, document)
        if service == "LayThuTuc":
            return await self._procedure(scope, base, credential, document)
        if service == "TraCuuHoSo":
            code = dvc.dossier_code(document)
            answer = await self._get(scope, base, credential, f"/dvcqg/v1/dossiers/{code}")
            if answer.status == 404:
                return dvc.reply(dvc.OK, "Không tìm thấy hồ sơ", result=[])
            return _translated(answer, lambda found: [dvc.national_row(found)])
        return await self._sync(scope, base, credential, document, instance)

    async def _procedures(
        self, scope: Scope, base: str, credential: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        page = document.get("page", 1)
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 10_000:
            raise dvc.ProtocolError("page must be a number from 1 (assigned paging).")
        query = urlencode({"page": page, "size": _PAGE_SIZE})
        answer = await self._get(scope, base, credential, "/dvc/v1/procedures", query)
        return _translated(answer, lambda found: [dvc.procedure_row(p) for p in found["items"]])

    async def _procedure(
        self, scope: Scope, base: str, credential: str, document: dict[str, Any]
    ) -> dict[str, Any]:
        # OpenCPS sends `maTTHC`; the field's other spelling is read as well.
        code = dvc.text(document, "maTTHC", required=False) or dvc.text(document, "MaTTHC")
        # Searched by the national code (`1.001193` of `1.001193.000.00.00.H33`), the part
        # every form of the code shares; the answer is then matched exactly.
        national = ".".join((code or "").split(".")[:2])
        query = urlencode({"q": national, "size": _PAGE_SIZE})
        answer = await self._get(scope, base, credential, "/dvc/v1/procedures", query)
        if answer.status != 200:
            return _translated(answer, lambda found: [])
        matches = [
            dvc.procedure_detail(item)
            for item in problem_of(answer.body).get("items", [])
            if code in (item.get("code"), item.get("national_code"))
        ]
        if not matches:
            return dvc.reply(dvc.NOT_FOUND, "Không tìm thấy thủ tục", result=[])
        return dvc.reply(dvc.OK, "Thành công", result=matches[:1])

    async def _sync(
        self,
        scope: Scope,
        base: str,
        credential: str,
        document: dict[str, Any],
        instance: InstanceState,
    ) -> dict[str, Any]:
        """`DongBoHoSoMC`: per dossier, the national view first (is it there, at which step),
        then `sync_dossier`; the first refusal answers for the call."""
        updating = dvc.is_updating(document)
        # The old province's code, as the national portal knows the caller's dossiers by.
        province_code = instance.spec.seed_code or ""
        result: list[dict[str, Any]] = []
        for item in dvc.items(document):
            code = dvc.dossier_code(item)
            known = await self._get(scope, base, credential, f"/dvcqg/v1/dossiers/{code}")
            if known.status not in (200, 404):
                return _translated(known, lambda found: [])
            national = problem_of(known.body) if known.status == 200 else None
            if national is not None and not updating:
                return dvc.reply(dvc.EXISTS, f"Hồ sơ {code} đã tồn tại", result=result)
            if national is None and updating:
                return dvc.reply(dvc.NOT_FOUND, f"Hồ sơ {code} chưa tồn tại", result=result)
            step = 1
            if national is not None:
                step = int(national.get("step", 0))
                if str((national.get("status") or {}).get("code")) != item.get("TrangThaiHoSo"):
                    step += 1
            body = dvc.sync_body(
                item, province_code=province_code, step=step, now=datetime.now(UTC)
            )
            answer = await self._call(
                scope,
                base,
                "POST",
                "/dvcqg/v1/dossiers/sync",
                body=json.dumps(body, ensure_ascii=False).encode(),
                media_type="application/json",
                credential=credential,
            )
            if answer.status != 200:
                return _translated(answer, lambda found: result)
            synced = problem_of(answer.body)
            result.append({"MaHoSo": code, "KetQua": synced.get("outcome")})
        return dvc.reply(dvc.OK, "Thành công", result=result)

    async def _get(
        self, scope: Scope, base: str, credential: str, path: str, query: str = ""
    ) -> Answer:
        return await self._call(scope, base, "GET", path, credential=credential, query=query)

    async def _call(
        self,
        scope: Scope,
        base: str,
        method: str,
        path: str,
        *,
        credential: str,
        body: bytes = b"",
        media_type: str | None = None,
        query: str = "",
        app: Any = None,
    ) -> Answer:
        """One request in the bus's own dialect, with the caller's other headers (its request
        id among them)."""
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _DROPPED]
        headers += [
            (b"authorization", credential.encode("latin-1")),
            (b"content-length", str(len(body)).encode()),
        ]
        if media_type is not None:
            headers.append((b"content-type", media_type.encode()))
        full = base + path
        rewritten = {
            **scope,
            "method": method,
            "root_path": base,
            "path": full,
            "raw_path": full.encode(),
            "query_string": query.encode(),
            "headers": headers,
        }
        answer = await exchange(self.core if app is None else app, rewritten, body_once(body))
        if not answer.translatable:
            raise _Untranslatable(answer)
        return answer


def _key(session: str, dstcode: str) -> str:
    return digest(f"{session}\n{dstcode}")


def _translated(answer: Answer, result: Any) -> dict[str, Any]:
    """The core's answer as the protocol's: `result(body)` on success, else its error."""
    if answer.status == 200:
        return dvc.reply(dvc.OK, "Thành công", result=result(problem_of(answer.body)))
    problem = problem_of(answer.body)
    message = str(problem.get("detail") or problem.get("title") or "The call was refused.")
    if answer.status in (401, 403):
        code = dvc.REFUSED
    elif answer.status == 404:
        code = dvc.NOT_FOUND
    elif 400 <= answer.status < 500:
        code = dvc.BAD_REQUEST
    else:
        code = dvc.UNAVAILABLE
    return dvc.reply(code, message, result=[])
