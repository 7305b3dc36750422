"""`/console…`: the console's pages. Each is a client of the admin API (`lgsp.console`).

Screens: topology and health (`/console`), exchanges (`/console/{instance}/journal`), the trace
of a request (`/console/trace`), faults, outbox, audit. Instance names come from the topology, never
from this module; an instance the signed-in client does not administer is shown as such.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from lgsp.audit.anchor import checkpoint_path
from lgsp.audit.verify import verify_chain
from lgsp.auth.keys import KeyCipher
from lgsp.auth.tokens import ADMIN_SCOPE
from lgsp.console._kit import (
    PAGE_SIZE,
    PREFIX,
    Console,
    CsrfField,
    add_item_action,
    admin_api,
    administered,
    bus_client,
    database,
    quick_sign_in,
    to,
)
from lgsp.console.audit_export import EXPORT_FILTERS, add_audit_export_routes
from lgsp.console.catalog import add_catalog_routes
from lgsp.console.clients import add_client_routes
from lgsp.console.records import add_record_routes
from lgsp.console.sessions import COOKIE
from lgsp.console.tools import add_tool_routes
from lgsp.console.trace import sequence_diagram
from lgsp.console.verify import add_verify_routes
from lgsp.deps import BusDep
from lgsp.dialects.mount import door_urls
from lgsp.errors import NotFound
from lgsp.faults.schemas import FLAG_ACTIONS
from lgsp.journal.capture import mask_text
from lgsp.state import BusState

ASSETS = {"console.css": "text/css", "live.js": "text/javascript"}
"""Every file under `/console/assets/`: a fixed list, never a path taken from the URL."""
_ASSET_DIR = Path(str(files("lgsp.console") / "assets"))
LIVE_EVERY_MS = 2000
"""How often `live.js` fetches the newest page of exchanges again."""
OUTBOX_STATES = ("pending", "delivering", "delivered", "dead")
_JOURNAL_FILTERS = ("client_id", "service", "method", "path", "status", "request_id")


def create_console_router() -> APIRouter:
    """The console's routes, with the sign-in sessions of this app (one store per app)."""
    console = Console()
    router = APIRouter(
        prefix=PREFIX, include_in_schema=False, dependencies=[Depends(console.load_session)]
    )
    sessions = console.sessions
    signed_in, page = console.signed_in, console.page

    @router.get("/assets/{name}")
    async def asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise NotFound(f"No console asset {name}.")
        return FileResponse(_ASSET_DIR / name, media_type=media_type)

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, bus: BusDep, error: str | None = None) -> Response:
        return page(request, bus, "login.html", error=error, quick=quick_sign_in(request, bus))

    @router.post("/login")
    async def login(
        request: Request,
        bus: BusDep,
        instance: Annotated[str, Form(max_length=64)],
        client_id: Annotated[str, Form(max_length=64)],
        client_secret: Annotated[str, Form(max_length=256)],
    ) -> Response:
        return await _sign_in(request, bus, instance, client_id, client_secret)

    @router.post("/login/demo")
    async def login_demo(request: Request, bus: BusDep) -> Response:
        """One click in the dev profile, from this machine only: the demo (bus-wide) admin."""
        if not quick_sign_in(request, bus):
            return to("/login", error="Chỉ dùng được ở hồ sơ dev, từ máy này (loopback).")
        settings = bus.settings
        first = next(iter(bus.instances))
        secret = settings.demo_client_secret.get_secret_value()
        return await _sign_in(request, bus, first, settings.demo_client_id, secret)

    async def _sign_in(
        request: Request, bus: BusState, instance: str, client_id: str, secret: str
    ) -> Response:
        if instance not in bus.instances:
            return to("/login", error="Không có phiên bản (instance) này.")
        # The bus-wide admin (the demo client, as `POST {base}/admin/reset` has it) signs in
        # to every instance; any other admin client to its own instance only.
        wanted = list(bus.instances) if client_id == bus.settings.demo_client_id else [instance]
        scopes: dict[str, str] = {}
        lifetime = 3600.0
        async with bus_client(request, bus) as http:
            for name in wanted:
                # Every scope the client holds: the admin API, and the services whose records
                # the documents and dossiers screens read (`lgsp.console.records`).
                answer = await http.post(
                    f"{bus.instances[name].spec.mount_path}/token",
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )
                if answer.status_code == 429:
                    wait = answer.headers.get("Retry-After", "60")
                    return to(
                        "/login", error=f"Quá nhiều lần đăng nhập sai: thử lại sau {wait} giây."
                    )
                if answer.status_code == 401 and name == instance:
                    return to(
                        "/login", error="Đăng nhập thất bại: sai client_id hoặc client_secret."
                    )
                scope = answer.json().get("scope", "") if answer.status_code == 200 else ""
                if ADMIN_SCOPE in scope.split():
                    scopes[name] = scope
                    lifetime = min(lifetime, float(answer.json()["expires_in"]))
        if instance not in scopes:
            return to("/login", error="Đăng nhập thất bại: cần một client quản trị (admin).")
        # The browser's previous sign-in ends with this one: a copy of its cookie signs no one in.
        await sessions.close(bus, request.cookies.get(COOKIE))
        response = RedirectResponse(PREFIX, status_code=303)
        response.set_cookie(
            COOKIE,
            await sessions.open(bus, client_id, scopes, expires_in=lifetime),
            httponly=True,
            samesite="strict",
            path=PREFIX,
            max_age=int(lifetime),
        )
        return response

    @router.post("/logout")
    async def logout(request: Request, bus: BusDep, csrf: CsrfField = "") -> Response:
        session = signed_in(request)
        if session is not None and session.admits(csrf):
            await sessions.close(bus, request.cookies.get(COOKIE))
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @router.get("", response_class=HTMLResponse)
    async def overview(request: Request, bus: BusDep) -> Response:
        """Tổng quan: the topology, each instance's health, outbox and fault rules."""
        session = signed_in(request)
        if session is None:
            return to("/login")
        rows = []
        async with admin_api(request, bus, session) as api:
            for name, served in bus.instances.items():
                spec = served.spec
                outbox = faults = None
                if name in session.tokens:
                    outbox = await api.get(name, "/admin/outbox", {"limit": 1})
                    faults = await api.get(name, "/admin/faults")
                rows.append(
                    {
                        "spec": spec,
                        "ready": bus.ready and bool(served.keys.signing.kid),
                        "kid": served.keys.signing.kid,
                        "systems": [
                            {"name": s.name, "where": s.url or "nhúng (in-process)"}
                            for s in spec.systems
                        ],
                        "outbox": None if outbox is None else outbox.get("counts"),
                        "faults": None if faults is None else len(faults.get("rules", [])),
                        "administered": name in session.tokens,
                        # Relative, so the links stay on the bus whatever its public URL.
                        "dialects": door_urls(spec, spec.mount_path),
                    }
                )
        return page(
            request, bus, "overview.html", rows=rows, database=database(bus), era=bus.settings.era
        )

    @router.get("/{instance}/journal", response_class=HTMLResponse)
    async def journal(request: Request, bus: BusDep, instance: str) -> Response:
        """Giao dịch: the instance's exchanges, newest first, masked, a page at a time."""
        session = administered(signed_in(request), bus, instance)
        filters = {
            key: value
            for key in _JOURNAL_FILTERS
            if (value := request.query_params.get(key, "").strip())
        }
        query: dict[str, Any] = {**filters, "limit": PAGE_SIZE}
        if (before := request.query_params.get("before", "")).isdigit():
            query["before"] = before
        async with admin_api(request, bus, session) as api:
            answer = await api.call(instance, "GET", "/admin/journal", params=query)
        entries = answer.json().get("entries", []) if answer.status_code == 200 else []
        for entry in entries:  # never unmasked here, whatever the instance keeps (issue 19)
            for side in ("request", "response"):
                entry[side]["body"] = mask_text(entry[side]["body"])
            entry["path"] = mask_text(entry["path"])
        older = None
        if len(entries) == PAGE_SIZE:
            older = f"?{urlencode({**filters, 'before': entries[-1]['id']})}"
        return page(
            request,
            bus,
            "journal.html",
            instance=instance,
            entries=entries,
            filters=filters,
            older=older,
            live=LIVE_EVERY_MS if "before" not in query else None,
            problem=None if answer.status_code == 200 else answer.json(),
        )

    @router.get("/trace", response_class=HTMLResponse)
    async def trace(request: Request, bus: BusDep, request_id: str = "") -> Response:
        """Vết yêu cầu: one request's hops across every instance the client administers."""
        session = signed_in(request)
        if session is None:
            return to("/login")
        records: list[dict[str, Any]] = []
        request_id = request_id.strip()[:128]
        if request_id:
            async with admin_api(request, bus, session) as api:
                for name in session.tokens:
                    found = await api.get(name, "/admin/audit", {"request_id": request_id})
                    records += [] if found is None else found.get("records", [])
        records.sort(key=lambda r: (r["occurred_at"], r["seq"]))
        national = bus.topology.national
        diagram = sequence_diagram(records, national=None if national is None else national.name)
        return page(
            request, bus, "trace.html", request_id=request_id, records=records, diagram=diagram
        )

    @router.get("/{instance}/faults", response_class=HTMLResponse)
    async def faults(request: Request, bus: BusDep, instance: str, error: str = "") -> Response:
        """Lỗi giả lập: the fault rules in force, an add form, and removal."""
        session = administered(signed_in(request), bus, instance)
        async with admin_api(request, bus, session) as api:
            found = await api.get(instance, "/admin/faults")
        rules = [] if found is None else found.get("rules", [])
        return page(
            request,
            bus,
            "faults.html",
            instance=instance,
            rules=rules,
            error=error,
            actions=(*FLAG_ACTIONS, "latency"),  # one list of actions: lgsp/faults/schemas.py
        )

    @router.post("/{instance}/faults")
    async def add_fault(request: Request, bus: BusDep, instance: str) -> Response:
        posted = await console.posted(request, bus, instance, back="faults")
        session, form = posted.session, posted.form
        rule: dict[str, Any] = {
            key: str(form[key]).strip()
            for key in ("service", "method", "path", "client_id")
            if str(form.get(key, "")).strip()
        }
        for key in ("status", "latency_ms", "times"):
            if str(form.get(key, "")).strip():
                rule[key] = str(form[key]).strip()
        if form.get("action") == "timeout":
            rule["timeout"] = True
        async with admin_api(request, bus, session) as api:
            await api.call_or_back(
                instance, "POST", "/admin/faults", back="faults", ok=201, json=rule
            )
        return RedirectResponse(f"{PREFIX}/{instance}/faults", status_code=303)

    add_item_action(
        router,
        console,
        "/{instance}/faults/{item}/delete",
        "DELETE /admin/faults/{item}",
        back="faults",
    )

    @router.get("/{instance}/outbox", response_class=HTMLResponse)
    async def outbox(
        request: Request, bus: BusDep, instance: str, state: str = "", error: str = ""
    ) -> Response:
        """Hàng đợi gửi: messages by state, dead letters, re-drive."""
        session = administered(signed_in(request), bus, instance)
        query: dict[str, Any] = {"limit": PAGE_SIZE}
        if state in OUTBOX_STATES:
            query["state"] = state
        async with admin_api(request, bus, session) as api:
            found = await api.get(instance, "/admin/outbox", query)
        messages = [] if found is None else found.get("messages", [])
        for message in messages:  # a path may name a citizen (`/citizens/{cccd}`)
            message["path"] = mask_text(message["path"])
            message["last_error"] = mask_text(message.get("last_error") or "")
        return page(
            request,
            bus,
            "outbox.html",
            instance=instance,
            state=state,
            states=OUTBOX_STATES,
            counts={} if found is None else found.get("counts", {}),
            messages=messages,
            error=error,
        )

    add_item_action(
        router,
        console,
        "/{instance}/outbox/{item}/redrive",
        "POST /admin/outbox/{item}/redrive",
        back="outbox",
        ok=200,
    )

    @router.get("/{instance}/audit", response_class=HTMLResponse)
    async def audit(
        request: Request,
        bus: BusDep,
        instance: str,
        after: int = 0,
        request_id: str = "",
        error: str | None = None,
    ) -> Response:
        """Nhật ký kiểm toán: the instance's hash chain, a page at a time in chain order, or
        one request's records; the export link carries the page's filters."""
        session = administered(signed_in(request), bus, instance)
        filters = {
            name: value.strip()[:128]
            for name in EXPORT_FILTERS
            if (value := request.query_params.get(name, "")).strip()
        }
        query: dict[str, Any] = {**filters, "after": max(after, 0), "limit": PAGE_SIZE}
        if "request_id" in filters:
            query = {"request_id": filters["request_id"]}
        async with admin_api(request, bus, session) as api:
            found = await api.get(instance, "/admin/audit", query)
        records = [] if found is None else found.get("records", [])
        following = records[-1]["seq"] if len(records) == PAGE_SIZE else None
        return page(
            request,
            bus,
            "audit.html",
            instance=instance,
            records=records,
            following=None if request_id.strip() else following,
            request_id=request_id.strip(),
            filters=filters,
            export=f"?{urlencode(filters)}" if filters else "",
            next_query=urlencode({**filters, "after": following or 0}),
            error=error,
        )

    @router.post("/{instance}/audit/verify", response_class=HTMLResponse)
    async def verify_audit(
        request: Request,
        bus: BusDep,
        instance: str,
        csrf: CsrfField = "",
    ) -> Response:
        """Check the instance's chain against the signed checkpoints, as `lgsp audit verify`."""
        session = administered(signed_in(request), bus, instance)
        if not session.admits(csrf):
            return to(f"/{instance}/audit")
        settings = bus.settings
        report = await verify_chain(
            bus.session_factory,
            instance=instance,
            checkpoints=checkpoint_path(settings.data_dir),
            cipher=KeyCipher.existing(settings),
        )
        return page(request, bus, "audit.html", instance=instance, records=[], report=report)

    add_client_routes(router, console)
    add_audit_export_routes(router, console)
    add_catalog_routes(router, console)
    add_record_routes(router, console)
    add_tool_routes(router, console)
    add_verify_routes(router, console)
    return router
