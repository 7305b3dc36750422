"""`/console/{instance}/clients…`: Client và quyền truy cập — who may call the instance.

A client of `{base}/admin/clients`: list, create (the secret is shown on the answer page once,
never put in a URL), revoke, and each service's methods as check boxes. The organisation a
client acts for is set when it is made, as `lgsp clients create --organisation`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from lgsp.console._kit import Console, admin_api
from lgsp.deps import BusDep
from lgsp.state import BusState

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALL = "*"
MAX_FORM_FIELDS = 200
"""A form names at most every service's methods once; anything longer is not the console's."""


def rights_from_form(form: FormData, services: list[str]) -> dict[str, str]:
    """`right.{service}` check boxes (`*` or method names) → the API's rights; a service
    with no box ticked is left out; names the form did not offer are ignored."""
    rights: dict[str, str] = {}
    for service in services:
        ticked = {str(value) for value in form.getlist(f"right.{service}")}
        if ALL in ticked:
            rights[service] = ALL
        elif methods := [m for m in METHODS if m in ticked]:
            rights[service] = ",".join(methods)
    return rights


def add_client_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/clients")
    async def clients(request: Request, bus: BusDep, instance: str, error: str = "") -> Response:
        """Client và quyền: the instance's clients, a form to make one."""
        return await _clients_page(request, bus, console, instance, error=error)

    @router.post("/{instance}/clients")
    async def create_client(request: Request, bus: BusDep, instance: str) -> Response:
        posted = await console.posted(
            request, bus, instance, back="clients", max_fields=MAX_FORM_FIELDS
        )
        session, form = posted.session, posted.form
        body: dict[str, Any] = {
            "name": str(form.get("name", "")).strip()[:200],
            "rights": rights_from_form(form, _services(bus)),
            "is_admin": form.get("is_admin") == "on",
        }
        if organisation := str(form.get("organisation", "")).strip()[:64]:
            body["organisation"] = organisation
        async with admin_api(request, bus, session) as api:
            answer = await api.call_or_back(
                instance, "POST", "/admin/clients", back="clients", ok=201, json=body
            )
        # Rendered here, not redirected to: the secret must never sit in a URL or a history.
        return await _clients_page(request, bus, console, instance, created=answer.json())

    @router.post("/{instance}/clients/{client_id}/revoke")
    async def revoke_client(
        request: Request, bus: BusDep, instance: str, client_id: str
    ) -> Response:
        form = await request.form(max_fields=MAX_FORM_FIELDS)
        path = f"/admin/clients/{_segment(client_id)}/revoke"
        csrf = str(form.get("csrf", ""))
        return await console.act(request, bus, instance, csrf, back="clients", path=path, ok=200)

    @router.post("/{instance}/clients/{client_id}/rights")
    async def replace_rights(
        request: Request, bus: BusDep, instance: str, client_id: str
    ) -> Response:
        form = await request.form(max_fields=MAX_FORM_FIELDS)
        return await console.act(
            request,
            bus,
            instance,
            str(form.get("csrf", "")),
            back="clients",
            method="PUT",
            path=f"/admin/clients/{_segment(client_id)}/rights",
            json={"rights": rights_from_form(form, _services(bus))},
            ok=200,
        )


async def _clients_page(
    request: Request,
    bus: BusState,
    console: Console,
    instance: str,
    *,
    error: str = "",
    created: dict[str, Any] | None = None,
) -> Response:
    session = console.administered(request, bus, instance)
    async with admin_api(request, bus, session) as api:
        found = await api.get(instance, "/admin/clients")
    return console.page(
        request,
        bus,
        "clients.html",
        instance=instance,
        clients=[] if found is None else found.get("clients", []),
        services=_services(bus),
        methods=METHODS,
        error=error,
        created=created,
    )


def _services(bus: BusState) -> list[str]:
    return sorted({service.id for service in bus.catalog})


def _segment(client_id: str) -> str:
    """A client id as one path segment of the admin API (the API refuses anything else)."""
    return "".join(c for c in client_id[:64] if c.isascii() and (c.isalnum() or c in "._:-"))
