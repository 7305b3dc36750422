"""The DVCQG adapter protocol's door (`adapters.dialects.opencps`): OpenCPS's sync client
against the catalog's `dvcqg` and `dvc` operations.

`POST {door}/auth` asks the core's token endpoint with the username and password (so the
secret is checked in constant time and failures are throttled and recorded as any other) and
answers a random session; the login is recorded at the door's path, answered or refused
(`lgsp.dialects.door.credential_recorded`). Sessions are kept in the database only as SHA-256
hashes of the session with its `dstcode` (`OpenCpsSession`), until the bus token behind them
expires, so every worker on the database honours a session any of them answered; a session
presented with another `dstcode` is no session. In era 2026 a `dstcode` or `madonvi` under a
level-1 code the 2025 merger closed is refused (AGENCY_CODE_CLOSED, in the protocol's `-2`), as
the bus refuses such an agency everywhere else; `madonvi` is an organ id, a bound client's own
organisation's (`_refuse_foreign`). Every answer but `"0"` is recorded at the door's path, as
the caller got it. `POST {door}/integration` turns each service
into calls of the bus's own dialect to the instance's core, under the caller's request id:

| service | operations |
|---|---|
| `LayDanhSachTTHC`, `LayThuTuc` | `dvc list_procedures` |
| `LayDanhMucCoQuan`, `LayDanhMucLinhVuc` | `dvcqg list_agencies`, `list_fields` |
| `TraCuuHoSo` | `dvcqg get_dossier` |
| `DongBoHoSoMC` | `dvcqg get_dossier` for every dossier, then `sync_dossier` for each |
| `CapNhatTienDoHoSoMC` | `dvcqg get_dossier` for every dossier, then `record_progress` for each |
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from starlette.types import ASGIApp

from adapters.dialects import opencps as dvc
from formats.codes import procedure_code_forms
from formats.dates import VIETNAM_TIME, latest_allowed
from lgsp.auth.models import BUS_KINDS
from lgsp.auth.repository import ClientRepository
from lgsp.dialects.door import (
    Door,
    DoorCall,
    credential_recorded,
    not_served,
    problem_reply,
)
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
from lgsp.routing.callers import names_organisation


class _Untranslatable(Exception):
    """The core dropped the connection (a fault): the caller meets it as it is."""

    def __init__(self, answer: Answer) -> None:
        super().__init__("untranslatable answer")
        self.answer = answer


_DROPPED = CREDENTIAL_HEADERS | {b"content-length", b"content-type", b"idempotency-key"}
_PAGE_SIZE = 100
Document = dict[str, Any]


@dataclass(frozen=True)
class _Core:
    """The instance's core as one caller of the door reaches it: requests in the bus's own
    dialect, with `credential` and the caller's other headers (its request id among them)."""

    app: ASGIApp
    call: DoorCall
    credential: str
    client_id: str
    bound: str | None = None
    """The organisation the caller acts for, if it is a client bound to one (`_bound_to`)."""

    async def get(self, path: str, query: str = "") -> Answer:
        return await self.send("GET", path, query=query)

    async def post(self, path: str, body: object) -> Answer:
        raw = json.dumps(body, ensure_ascii=False).encode()
        return await self.send("POST", path, body=raw, media_type="application/json")

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        media_type: str | None = None,
        query: str = "",
    ) -> Answer:
        scope = self.call.scope
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _DROPPED]
        headers += [
            (b"authorization", self.credential.encode("latin-1")),
            (b"content-length", str(len(body)).encode()),
        ]
        if media_type is not None:
            headers.append((b"content-type", media_type.encode()))
        full = self.call.base + path
        rewritten = {
            **scope,
            "method": method,
            "root_path": self.call.base,
            "path": full,
            "raw_path": full.encode(),
            "query_string": query.encode(),
            "headers": headers,
        }
        answer = await exchange(self.app, rewritten, body_once(body))
        if not answer.translatable:
            raise _Untranslatable(answer)
        return answer

    async def national(self, code: str) -> Mapping[str, Any] | None:
        """`dvcqg get_dossier`: the national view, None if never synced; any other answer
        refuses the call (`_Refused`)."""
        answer = await self.get(f"/dvcqg/v1/dossiers/{code}")
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise _Refused(_translated(answer, lambda found: []))
        return problem_of(answer.body)


async def _bound_to(call: DoorCall, client_id: str) -> str | None:
    """The organisation the caller acts for, if it is a client bound to one: the gateway holds
    its dossier writes to it (`authorise_caller`). None for the bus's own clients, which pass
    there, and for one bound to none, which is the gateway's to judge."""
    async with call.bus.session_factory() as session:
        client = await ClientRepository(session).get(call.instance.spec.name, client_id)
    if client is None or client.kind in BUS_KINDS:
        return None
    return client.organisation


class _Refused(Exception):
    """The core refused a call the service needed: its answer, translated, is the reply."""

    def __init__(self, document: Document) -> None:
        super().__init__("refused")
        self.document = document


Service = Callable[[_Core, Document], Awaitable[Document]]


class OpenCpsDoor(Door):
    prefix = "opencps"

    async def serve(self, call: DoorCall) -> None:
        if call.scope["method"] != "POST" or call.relative not in (
            dvc.AUTH_PATH,
            dvc.INTEGRATION_PATH,
        ):
            known = call.relative in (dvc.AUTH_PATH, dvc.INTEGRATION_PATH)
            refusal = not_served(call.scope, ("POST",) if known else ())
            await self._refuse(call, problem_reply(call.scope, refusal, instance=self.instance))
            return
        body = await read_body(call.receive, limit=dvc.MAX_BODY)
        dstcode = header(call.scope, dvc.DSTCODE_HEADER.encode())
        try:
            if body is None:
                raise dvc.ProtocolError(f"The body is longer than {dvc.MAX_BODY} bytes.")
            if not dstcode or len(dstcode) > dvc.MAX_DSTCODE:
                raise dvc.ProtocolError(f"Send the {dvc.DSTCODE_HEADER} header.")
            _refuse_closed(call, {dvc.DSTCODE_HEADER: dstcode})
            if call.relative == dvc.AUTH_PATH:
                document = await self._auth(call, body, dstcode)
            else:
                document = await self._integrate(call, body, dstcode)
        except dvc.ProtocolError as error:
            document = dvc.refusal(error)
        except _Refused as refused:
            document = refused.document
        except _Untranslatable as dropped:
            await dropped.answer.replay(call.send)
            return
        if document["error_code"] != dvc.OK:
            # Every refusal the caller meets (the door's own, or the core's translated, which
            # the core has recorded at its path too) is recorded at the door's path; its body
            # is not journaled (a password or a session, both credentials).
            await self._refuse(call, lambda send: respond(send, 200, document, kept=NO_STORE))
        elif call.relative == dvc.AUTH_PATH:
            # Recorded at the door's path as a refused login is, the session starred out in
            # what the journal keeps.
            await credential_recorded(call, document, "session", instance=self.instance)
        else:
            await respond(call.send, 200, document, kept=NO_STORE)

    async def _auth(self, call: DoorCall, body: bytes, dstcode: str) -> Document:
        login = dvc.parse_login(body)
        pair = f"{quote(login.username)}:{quote(login.password)}"
        basic = "Basic " + base64.b64encode(pair.encode()).decode()
        answer = await _Core(self.own, call, basic, login.username).send(
            "POST",
            "/token",
            body=b"grant_type=client_credentials",
            media_type="application/x-www-form-urlencoded",
        )
        if answer.status != 200:
            # Answered 200 as every refusal of the protocol, and recorded so at the door's
            # path; the token endpoint has recorded its own refusal (the 401 it answered).
            problem = problem_of(answer.body)
            message = problem.get("error_description") or "username or password is wrong."
            raise dvc.ProtocolError(str(message), dvc.AUTH_FAILED)
        bus, instance = call.bus, call.instance
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

    async def _integrate(self, call: DoorCall, body: bytes, dstcode: str) -> Document:
        document = dvc.parse_object(body)
        session = dvc.text(document, "session") or ""
        known = await bus_token_for(
            call.bus.session_factory,
            OpenCpsSession,
            call.instance,
            _key(session, dstcode),
            self.remembered,
            call.bus.deny_list,
        )
        if known is None:
            raise dvc.ProtocolError("The session is unknown or expired.", dvc.AUTH_FAILED)
        madonvi = dvc.organ_id(document, "madonvi")
        _refuse_closed(call, {"madonvi": madonvi})
        service = _SERVICES.get(dvc.text(document, "service") or "")
        if service is None:
            raise dvc.ProtocolError("The adapter offers no such service.", dvc.NOT_OFFERED)
        token, client_id = known
        bound = await _bound_to(call, client_id)
        core = _Core(self.core, call, f"Bearer {token}", client_id, bound)
        # A bound client speaks for its own organisation only, whichever the service.
        _refuse_foreign(core, "madonvi", madonvi)
        return await service(core, document)


async def _procedures(core: _Core, document: Document) -> Document:
    """`LayDanhSachTTHC`: a page of the portal's procedures."""
    page = document.get("page", 1)
    if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= 10_000:
        raise dvc.ProtocolError("page must be a number from 1 (assigned paging).")
    query = urlencode({"page": page, "size": _PAGE_SIZE})
    answer = await core.get("/dvc/v1/procedures", query)
    return _translated(answer, lambda found: [dvc.procedure_row(p) for p in found["items"]])


async def _procedure(core: _Core, document: Document) -> Document:
    """`LayThuTuc`: one procedure by `maTTHC`."""
    # OpenCPS sends `maTTHC`; the field's other spelling is read as well.
    code = dvc.text(document, "maTTHC", required=False) or dvc.text(document, "MaTTHC")
    # Searched by the national code (`1.001193` of `1.001193.000.00.00.H33`), the part
    # every form of the code shares; the answer is then matched exactly.
    national = ".".join((code or "").split(".")[:2])
    answer = await core.get("/dvc/v1/procedures", urlencode({"q": national, "size": _PAGE_SIZE}))
    if answer.status != 200:
        return _translated(answer, lambda found: [])
    matches = [
        dvc.procedure_detail(item)
        for item in problem_of(answer.body).get("items", [])
        if code in _spellings(item)
    ]
    if not matches:
        return dvc.reply(dvc.NOT_FOUND, "Không tìm thấy thủ tục", result=[])
    return dvc.reply(dvc.OK, "Thành công", result=matches[:1])


def _spellings(item: Document) -> tuple[str, ...]:
    """Every form of a listed procedure's code the portal files under (national, long, short:
    `procedure_code_forms`), the province's level-1 code read from its published `code`."""
    national, published = item.get("national_code"), item.get("code")
    if not isinstance(national, str) or not isinstance(published, str):
        return ()
    return procedure_code_forms(national, published.rpartition(".")[2])


async def _agencies(core: _Core, document: Document) -> Document:
    """`LayDanhMucCoQuan`; `MaTinh` (mock addition, as the national list's) narrows it."""
    province = dvc.text(document, "MaTinh", required=False)
    answer = await core.get(
        "/dvcqg/v1/agencies", urlencode({"province": province} if province else {})
    )
    return _translated(answer, lambda found: [dvc.agency_row(a) for a in found["items"]])


async def _fields(core: _Core, document: Document) -> Document:
    """`LayDanhMucLinhVuc`."""
    sector = dvc.text(document, "madonvi") or ""
    answer = await core.get("/dvcqg/v1/fields")
    return _translated(
        answer, lambda found: [dvc.field_row(f, sector=sector) for f in found["items"]]
    )


async def _lookup(core: _Core, document: Document) -> Document:
    """`TraCuuHoSo`: an empty `result` when the portal never had the dossier."""
    national = await core.national(dvc.dossier_code(document))
    if national is None:
        return dvc.reply(dvc.OK, "Không tìm thấy hồ sơ", result=[])
    return dvc.reply(dvc.OK, "Thành công", result=[dvc.national_row(national)])


async def _sync(core: _Core, document: Document) -> Document:
    """`DongBoHoSoMC`, all or nothing for bad input: every dossier read and checked first (each
    once in `data`, its body valid, its agency the caller's if the caller is bound to one, the
    national view saying it is new or known as `isUpdating` wants), a bad one named by its
    place in `data` and none sent; then per dossier `sync_dossier`, whose refusal answers
    for the call."""
    updating = dvc.is_updating(document)
    # The old province's code, as the national portal knows the caller's dossiers by.
    province_code = core.call.instance.spec.seed_code or ""
    now = datetime.now(UTC)
    planned: list[tuple[str, Document]] = []
    for index, item in enumerate(dvc.items(document)):
        with dvc.entry_of(index):
            code = dvc.dossier_code(item)
            if code in (seen for seen, _ in planned):
                raise dvc.ProtocolError(f"MaHoSo {code} appears twice in data.")
            checked = dvc.sync_body(item, province_code=province_code, step=1, now=now)
        _refuse_foreign(core, f"data[{index}]", checked["dossier"]["agency"]["id"])
        _refuse_closed_entry(core.call, index, code, checked["dossier"])
        national = await core.national(code)
        if national is not None and not updating:
            return dvc.reply(dvc.EXISTS, f"data[{index}]: Hồ sơ {code} đã tồn tại", result=[])
        if national is None and updating:
            return dvc.reply(dvc.NOT_FOUND, f"data[{index}]: Hồ sơ {code} chưa tồn tại", result=[])
        step = 1
        if national is not None:
            step = int(national.get("step", 0))
            if str((national.get("status") or {}).get("code")) != item.get("TrangThaiHoSo"):
                step = dvc.next_step(national)
        planned.append((code, dvc.sync_body(item, province_code=province_code, step=step, now=now)))
    result: list[Document] = []
    for code, body in planned:
        answer = await core.post("/dvcqg/v1/dossiers/sync", body)
        if answer.status != 200:
            return _translated(answer, lambda found: result)
        result.append({"MaHoSo": code, "KetQua": problem_of(answer.body).get("outcome")})
    return dvc.reply(dvc.OK, "Thành công", result=result)


async def _progress(core: _Core, document: Document) -> Document:
    """`CapNhatTienDoHoSoMC`, all or nothing for bad input: every entry read and checked first
    (valid, not dated ahead of the portal's clock, its dossier at the national portal, of the
    caller's province and, if the caller is bound to an organisation, of that one), a bad
    one named by its place in `data` and none sent; then per entry `record_progress`, each
    taking the step after all its dossier holds, in the order sent. `result` is
    `[{MaHoSo, DaGhiNhan}]` (assigned: OpenCPS reads only `error_code`)."""
    entries: list[tuple[str, Document]] = []
    for index, item in enumerate(dvc.items(document)):
        with dvc.entry_of(index):
            entries.append((dvc.dossier_code(item), dvc.progress_entry(item)))
    skew = core.call.bus.settings.document_clock_skew_seconds
    dvc.refuse_ahead([entry for _, entry in entries], latest_allowed(datetime.now(UTC), skew))
    province_code = core.call.instance.spec.seed_code
    steps: dict[str, int] = {}
    for index, (code, _entry) in enumerate(entries):
        if code in steps:
            continue
        national = await core.national(code)
        if national is None:
            return dvc.reply(dvc.NOT_FOUND, f"data[{index}]: Hồ sơ {code} chưa tồn tại", result=[])
        if province_code and national.get("province_code") not in (None, province_code):
            message = f"data[{index}]: Hồ sơ {code} không thuộc tỉnh gửi"
            return dvc.reply(dvc.REFUSED, message, result=[])
        _refuse_foreign(core, f"data[{index}]", code)
        steps[code] = dvc.next_step(national)
    result: list[Document] = []
    for code, entry in entries:
        answer = await core.post(
            f"/dvcqg/v1/dossiers/{code}/progress", {"step": steps[code], "progress": entry}
        )
        if answer.status != 200:
            return _translated(answer, lambda found: result)
        steps[code] += 1
        result.append({"MaHoSo": code, "DaGhiNhan": problem_of(answer.body).get("recorded")})
    return dvc.reply(dvc.OK, "Thành công", result=result)


def _refuse_foreign(core: _Core, where: str, value: str) -> None:
    """ORGANISATION_MISMATCH (`-6`) if `value`, `where` the call names it (`madonvi`, or an
    entry's dossier code or agency id, `data[i]`), is not of the organisation the caller is
    bound to, by the gateway's rule (`names_organisation`): checked for every entry before the
    first write, since the gateway refuses only the write of that entry, after those before
    it were made."""
    bound = core.bound
    if bound is not None and not names_organisation(value, bound):
        message = (
            f"ORGANISATION_MISMATCH: Client {core.client_id} acts for {bound}, "
            f"not for {where} ({value})."
        )
        raise _Refused(dvc.reply(dvc.REFUSED, message, result=[]))


_SERVICES: Mapping[str, Service] = {
    "LayDanhSachTTHC": _procedures,
    "LayThuTuc": _procedure,
    "LayDanhMucCoQuan": _agencies,
    "LayDanhMucLinhVuc": _fields,
    "TraCuuHoSo": _lookup,
    "DongBoHoSoMC": _sync,
    "CapNhatTienDoHoSoMC": _progress,
}
"""Every service of the protocol (`dvc.SERVICES`), by name."""


def _refuse_closed(call: DoorCall, named: Mapping[str, str]) -> None:
    """In today's era, no agency the 2025 merger closed (`dvc.refuse_closed_codes`)."""
    if call.bus.settings.era == "2026":
        dvc.refuse_closed_codes(named, datetime.now(VIETNAM_TIME).date())


def _refuse_closed_entry(call: DoorCall, index: int, code: str, dossier: Document) -> None:
    """In today's era, an entry whose `MaHoSo` begins with an organ id under a code the 2025
    merger closed, dated on or after 1 July 2025, refused before any entry is sent: the
    national portal refuses it only when it comes, after the entries before it were synced.
    Dated as the portal dates it: the later of the day it was filed and the day its code was
    numbered (`{agencyId}-{yyMMdd}-{NNNN}`), a code numbered after the merger being new."""
    if call.bus.settings.era != "2026":
        return
    day = datetime.fromisoformat(dossier["submitted_at"]).astimezone(VIETNAM_TIME).date()
    agency, numbered, _ = code.split("-", 2)
    try:
        day = max(day, datetime.strptime(numbered, "%y%m%d").replace(tzinfo=VIETNAM_TIME).date())
    except ValueError:  # no such day: the portal reads the filing day alone
        pass
    dvc.refuse_closed_codes({f"data[{index}].MaHoSo": agency}, day)


def _key(session: str, dstcode: str) -> str:
    return digest(f"{session}\n{dstcode}")


def _translated(answer: Answer, result: Callable[[Any], Any]) -> Document:
    """The core's answer as the protocol's: `result(body)` on success, else its error."""
    if answer.status == 200:
        return dvc.reply(dvc.OK, "Thành công", result=result(problem_of(answer.body)))
    problem = problem_of(answer.body)
    message = str(problem.get("detail") or problem.get("title") or "The call was refused.")
    stable = problem.get("code")
    if isinstance(stable, str):  # the bus's stable code first, as AGENCY_CODE_CLOSED's is
        message = f"{stable}: {message}"
    if answer.status in (401, 403):
        code = dvc.REFUSED
    elif answer.status == 404:
        code = dvc.NOT_FOUND
    elif 400 <= answer.status < 500:
        code = dvc.BAD_REQUEST
    else:
        code = dvc.UNAVAILABLE
    return dvc.reply(code, message, result=[])
