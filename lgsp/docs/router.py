"""`{base}/docs`: Swagger UI for one instance, every asset served by the bus itself.

The page, its script and its style come from the `fastapi-offline` package (Swagger UI 5,
which reads OpenAPI 3.1), so the docs work on a closed network; nothing on the page names
another host (`tests/e2e/test_docs_offline.py` checks it).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from lgsp.auth.tokens import ADMIN_SCOPE
from lgsp.catalog.examples import examples_for
from lgsp.deps import BusDep, InstanceDep
from lgsp.docs.document import docs_document
from lgsp.errors import NotFound
from lgsp.routing.resolver import is_served

if TYPE_CHECKING:
    from jinja2 import Environment

router = APIRouter(include_in_schema=False)

SWAGGER_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
}
"""The only files served under `{base}/docs/assets/`: a fixed list, never a path from the URL."""


@cache
def _templates() -> Environment:
    """Jinja2 and the page's template, loaded at the first page asked for, not at start-up."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("lgsp.docs", "templates"), autoescape=select_autoescape(["html"])
    )


@cache
def _asset_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


@router.get("/docs", response_class=HTMLResponse)
async def docs_page(instance: InstanceDep) -> HTMLResponse:
    """Swagger UI over this instance's document (`docs/openapi.json`)."""
    page = _templates().get_template("swagger.html").render(title=instance.spec.title)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/docs/openapi.json")
async def docs_openapi(request: Request, bus: BusDep, instance: InstanceDep) -> JSONResponse:
    """The gateway's document with each served service's operations (`lgsp.docs.document`)."""
    gateway: dict[str, Any] = request.app.openapi()
    services = [service for service in bus.catalog if is_served(service, instance)]
    base = str(request.scope.get("root_path", ""))
    spec = instance.spec
    examples = examples_for(bus.settings.era, spec.name, spec.seed_code)
    document = docs_document(
        gateway, services, base=base, admin_scope=ADMIN_SCOPE, examples=examples
    )
    return JSONResponse(document)


@router.get("/docs/assets/{name}")
async def docs_asset(name: str) -> FileResponse:
    media_type = SWAGGER_ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"No documentation asset {name}.")
    return FileResponse(
        _asset_dir() / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )
