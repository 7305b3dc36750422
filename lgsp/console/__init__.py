"""The web console at `/console`: the bus made visible, served by the bus itself (issue 19).

Server-rendered pages (Jinja2) with every asset in the package: no CDN, no build step. The
console is a client of the bus's own admin API, reached in-process with the admin token of
whoever signed in, so it sees exactly what that admin client may see, and every change it makes
is authorised and audited like any other admin call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import Route

from lgsp.console.paths import PREFIX

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI
    from starlette.types import Receive, Scope, Send


def mount_console(app: FastAPI) -> None:
    """`/console` on `app`, its pages built at its first request: the console (Jinja2 and some
    forty routes, ~10 % of a restart's CPU) is not imported by a bus nobody browses."""
    console = _LazyConsole()
    for path in (PREFIX, f"{PREFIX}/{{rest:path}}"):
        app.router.routes.append(Route(path, endpoint=console, include_in_schema=False))


class _LazyConsole:
    """The console's router, made when first called; it routes the request as it would had it
    been included in the app (the app, its middleware and error handlers stay the bus's)."""

    def __init__(self) -> None:
        self._router: APIRouter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from lgsp.console._kit import Refused

        if self._router is None:
            from lgsp.console.router import create_console_router

            self._router = create_console_router()
        try:
            await self._router(scope, receive, send)
        except Refused as refused:  # raised before the screen has answered anything
            await refused.answer(scope, receive, send)
