"""What every console screen shares: the sign-in sessions, rendering a page, the signed-in
admin's calls to the bus's own API, and a form's action (`lgsp.console`)."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.datastructures import FormData

from lgsp.console.paths import PREFIX as PREFIX  # where `mount_console` mounts it
from lgsp.console.sessions import COOKIE, ConsoleSession, SessionStore
from lgsp.deps import BusDep
from lgsp.loopback import INTERNAL_BUS_URL, with_lifespan_state
from lgsp.state import BUS_STATE_KEY, BusState

PAGE_SIZE = 50
TEMPLATES = Environment(
    loader=PackageLoader("lgsp.console", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
)
STALE_FORM = "Phiên đã hết hạn; thử lại."
"""A form whose CSRF token is not the session's: nothing is done."""


class Refused(Exception):
    """The browser goes elsewhere instead (to sign in, to the overview, back to a stale form's
    page or to the page whose admin call was refused): raised by a screen's step before it has
    answered anything, answered by the console's router."""

    def __init__(self, answer: RedirectResponse) -> None:
        super().__init__(answer.headers["location"])
        self.answer = answer


@dataclass(frozen=True)
class Posted:
    """A form posted by the signed-in admin of an instance, its CSRF token checked."""

    session: ConsoleSession
    form: FormData


class Console:
    """One app's console: its sessions, and the steps every screen takes."""

    def __init__(self) -> None:
        self.sessions = SessionStore()

    async def load_session(self, request: Request, bus: BusDep) -> None:
        """The router's dependency: who is signed in, read once per request from the database
        (any worker may have signed them in), for `signed_in` to give every step."""
        request.state.console_session = await self.sessions.get(bus, request.cookies.get(COOKIE))

    def signed_in(self, request: Request) -> ConsoleSession | None:
        session = getattr(request.state, "console_session", None)
        return session if isinstance(session, ConsoleSession) else None

    def page(self, request: Request, bus: BusState, name: str, **context: Any) -> HTMLResponse:
        body = TEMPLATES.get_template(name).render(
            session=self.signed_in(request),
            instances=[spec.name for spec in bus.topology.instances if spec.name in bus.instances],
            **context,
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    def administered(self, request: Request, bus: BusState, instance: str) -> ConsoleSession:
        """The session, if its client administers `instance`; else `Refused`."""
        return administered(self.signed_in(request), bus, instance)

    async def posted(
        self, request: Request, bus: BusState, instance: str, *, back: str, max_fields: int = 20
    ) -> Posted:
        """The form, if its sender administers `instance` and it carries the session's CSRF
        token; else `Refused`, back to the page `back` saying so."""
        session = self.administered(request, bus, instance)
        form = await request.form(max_fields=max_fields)
        if not session.admits(str(form.get("csrf", ""))):
            raise Refused(to(f"/{instance}/{back}", error=STALE_FORM))
        return Posted(session, form)

    async def act(
        self,
        request: Request,
        bus: BusState,
        instance: str,
        csrf: str,
        *,
        back: str,
        path: str,
        method: str = "POST",
        ok: int | None = None,
        json: Any = None,
    ) -> Response:
        """A form's action: the signed-in admin of `instance`, the form's CSRF token, one admin API
        call, then back to the page `back` (with the problem when the answer is not `ok`)."""
        session = self.administered(request, bus, instance)
        if not session.admits(csrf):
            return to(f"/{instance}/{back}", error=STALE_FORM)
        async with admin_api(request, bus, session) as api:
            await api.call_or_back(instance, method, path, back=back, ok=ok, json=json)
        return RedirectResponse(f"{PREFIX}/{instance}/{back}", status_code=303)


CsrfField = Annotated[str, Form(max_length=64)]
"""A form's CSRF token, as a route reads it; missing reads as "", which no session admits."""


def add_item_action(
    router: APIRouter, console: Console, route: str, call: str, *, back: str, ok: int | None = None
) -> None:
    """A button on one numbered item of a page (a fault rule, an outbox message): `call` is the
    admin API call it makes (`Console.act`), `DELETE /admin/faults/{item}`, where `{item}` is
    the id that `route`'s `{item}` was given."""
    method, api_path = call.split(" ")

    async def act_on_item(
        request: Request, bus: BusDep, instance: str, item: int, csrf: CsrfField = ""
    ) -> Response:
        path = api_path.format(item=item)
        return await console.act(
            request, bus, instance, csrf, back=back, method=method, path=path, ok=ok
        )

    router.add_api_route(route, act_on_item, methods=["POST"])


def administered(session: ConsoleSession | None, bus: BusState, instance: str) -> ConsoleSession:
    """`session`, if it is signed in and its client administers `instance`; else `Refused`."""
    if session is None:
        raise Refused(to("/login"))
    if instance not in bus.instances or instance not in session.tokens:
        raise Refused(to("", error=f"Client {session.client_id} không quản trị {instance}."))
    return session


class AdminApi:
    """The admin API of every instance, as the signed-in client, over one in-process client."""

    def __init__(self, http: httpx.AsyncClient, session: ConsoleSession, bus: BusState) -> None:
        self.http = http
        self.session = session
        self.bus = bus

    async def call(self, instance: str, method: str, path: str, **options: Any) -> httpx.Response:
        base = self.bus.instances[instance].spec.mount_path
        headers = {"Authorization": f"Bearer {self.session.tokens[instance]}"}
        return await self.http.request(method, f"{base}{path}", headers=headers, **options)

    async def call_or_back(
        self, instance: str, method: str, path: str, *, back: str, ok: int | None, **options: Any
    ) -> httpx.Response:
        """`call`, for a screen that goes on with the answer: any other than `ok` (None: any) is
        `Refused`, back to the page `back` with its problem, and the screen does nothing more."""
        answer = await self.call(instance, method, path, **options)
        if ok is not None and answer.status_code != ok:
            raise Refused(to(f"/{instance}/{back}", error=problem_text(answer)))
        return answer

    async def get(
        self, instance: str, path: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        answer = await self.call(instance, "GET", path, params=params)
        if answer.status_code != 200:
            return None
        found: dict[str, Any] = answer.json()
        return found


@asynccontextmanager
async def bus_client(request: Request, bus: BusState) -> AsyncIterator[httpx.AsyncClient]:
    """The bus itself, in-process: the console calls the admin API as its signed-in client,
    from the browser's address, so that the token endpoint's throttle counts that browser's
    failures (as 127.0.0.1, one browser's wrong secrets locked every local caller out:
    SECURITY-PROBE 2026-12-07 #6)."""
    app = with_lifespan_state(request.app, {BUS_STATE_KEY: bus})
    browser = request.client
    address = (browser.host, browser.port) if browser else ("127.0.0.1", 0)
    transport = httpx.ASGITransport(app=app, client=address)
    async with httpx.AsyncClient(transport=transport, base_url=INTERNAL_BUS_URL) as http:
        yield http


@asynccontextmanager
async def admin_api(
    request: Request, bus: BusState, session: ConsoleSession
) -> AsyncIterator[AdminApi]:
    async with bus_client(request, bus) as http:
        yield AdminApi(http, session, bus)


def quick_sign_in(request: Request, bus: BusState) -> bool:
    """One-click sign-in: the dev profile, and a browser on this machine."""
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host in ("localhost", "testclient")
    return bus.settings.profile == "dev" and loopback


def database(bus: BusState) -> str:
    return bus.engine.url.render_as_string(hide_password=True)


def problem_text(answer: httpx.Response) -> str:
    try:
        problem = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or answer.status_code)[:300]
    return f"HTTP {answer.status_code}"


def to(path: str, **params: str) -> RedirectResponse:
    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(f"{PREFIX}{path}{query}", status_code=303)
