"""The one OpenAPI document the docs page shows for an instance.

FastAPI's own document of a gateway lists each service as one catch-all path
(`/{service_id}/{version}/{path}`); integrators want the operations. This module swaps that path
for every operation of every service the instance serves (`lgsp.catalog.contract`), with the
instance's own examples, points the servers at the instance, and declares the OAuth2
client-credentials flow of `{base}/token`, so that Swagger UI's Authorize fetches a token and
sends it on every call.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from typing import Any

from lgsp.catalog.contract import service_document
from lgsp.catalog.examples import Example
from lgsp.catalog.schemas import ServiceSpec
from lgsp.routing.router import INVOCATION_PATH

ADMIN_SCOPE_TITLE = "Admin endpoints of the instance (admin clients only)"
CATCH_ALL = re.sub(r":\w+}", "}", INVOCATION_PATH)
"""The invocation route as OpenAPI spells it (`{path}`, without Starlette's `:path`)."""


def docs_document(
    gateway: dict[str, Any],
    services: Iterable[ServiceSpec],
    *,
    base: str,
    admin_scope: str,
    examples: Mapping[str, Example],
) -> dict[str, Any]:
    """The gateway's document with each service's operations instead of the catch-all path.

    `base` is the instance's path as the browser reaches it (`/lgsp/cantho`, or under a root
    path): relative, so the page works on whatever host and port serves it. `examples` are the
    instance's (`lgsp.catalog.examples.examples_for`).
    """
    document = copy.deepcopy(gateway)
    document["paths"] = {
        path: item for path, item in document.get("paths", {}).items() if path != CATCH_ALL
    }
    components = document.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    scopes: dict[str, str] = {admin_scope: ADMIN_SCOPE_TITLE}
    tags: list[dict[str, str]] = list(document.get("tags", []))
    for service in services:
        contract = service_document(service, examples, server=base)
        tag = f"{service.id} {service.version}"
        tags.append({"name": tag, "description": service.title})
        scopes[service.id] = service.title
        renamed = _merge_schemas(schemas, contract["components"]["schemas"], prefix=service.id)
        for path, item in contract["paths"].items():
            for operation in item.values():
                operation["tags"] = [tag]
                own = operation["operationId"]
                operation["operationId"] = f"{service.id}_{service.version}_{own}"
            document["paths"][path] = _renamed_refs(item, renamed)
    document["tags"] = tags
    document["servers"] = [{"url": base, "description": "this instance"}]
    components["securitySchemes"] = {
        "oauth2": {
            "type": "oauth2",
            "description": "Client credentials of a client of this instance (`lgsp clients`).",
            "flows": {"clientCredentials": {"tokenUrl": f"{base}/token", "scopes": scopes}},
        }
    }
    document["security"] = [{"oauth2": []}]
    return document


def _merge_schemas(into: dict[str, Any], schemas: dict[str, Any], *, prefix: str) -> dict[str, str]:
    """Add `schemas`; a name already taken by another shape is prefixed. Returns the renames."""
    renamed: dict[str, str] = {}
    for name, schema in schemas.items():
        if name in into and into[name] != schema:
            renamed[name] = f"{prefix}_{name}"
    for name, schema in schemas.items():
        into[renamed.get(name, name)] = _renamed_refs(schema, renamed)
    return renamed


def _renamed_refs(value: Any, renamed: dict[str, str]) -> Any:
    if not renamed:
        return value
    if isinstance(value, dict):
        return {
            key: (_renamed_ref(item, renamed) if key == "$ref" else _renamed_refs(item, renamed))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_renamed_refs(item, renamed) for item in value]
    return value


def _renamed_ref(ref: Any, renamed: dict[str, str]) -> Any:
    prefix = "#/components/schemas/"
    if isinstance(ref, str) and ref.startswith(prefix):
        name = ref[len(prefix) :]
        return prefix + renamed.get(name, name)
    return ref
