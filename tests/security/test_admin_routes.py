"""Every `/admin/*` route of the gateway needs an admin client and the `admin` scope.

The routes are read from the gateway app itself, not listed by hand, so a route added later is
checked without anyone remembering to add it here.
"""

from __future__ import annotations

import re
from functools import cache

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from lgsp.app import create_gateway_app
from lgsp.topology import load_topology
from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio


@cache
def admin_routes() -> list[tuple[str, str]]:
    """(method, path template) of each `/admin` route of a province's and of NDXP's gateway.

    Built when a test first asks (a gateway app per instance): on import, every xdist worker
    would pay for it while collecting, the one that runs this module aside."""
    found: set[tuple[str, str]] = set()
    for spec in load_topology(None).instances:
        for route in iter_route_contexts(create_gateway_app(spec).routes):
            path = route.path or ""
            if path == "/admin" or path.startswith("/admin/"):
                found |= {(method, path) for method in route.methods or ()}
    return sorted(found)


def test_the_admin_routes_are_found_in_the_app() -> None:
    """Guards the enumeration itself: if it found nothing, the test below would prove nothing."""
    assert ("POST", "/admin/revoked-tokens") in admin_routes()
    assert ("POST", "/admin/reset") in admin_routes()
    assert len(admin_routes()) >= 10


def concrete(path: str) -> str:
    return KG + re.sub(r"\{[^}]+\}", "1", path)


async def test_every_admin_route_refuses_no_token_401_and_a_non_admin_token_403(
    client: httpx.AsyncClient, vendor_token: str, narrowed_admin_token: str
) -> None:
    callers = {
        "no token": ({}, 401, "INVALID_TOKEN"),
        "non-admin client": (bearer(vendor_token), 403, "ACCESS_DENIED"),
        "admin client without the admin scope": (
            bearer(narrowed_admin_token),
            403,
            "ACCESS_DENIED",
        ),
    }
    wrong = []
    for method, path in admin_routes():
        for who, (headers, status, code) in callers.items():
            # A JSON body, so that no route refuses the body before it checks the caller.
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            response = await client.request(
                method,
                concrete(path),
                content=body,
                headers={**headers, "Content-Type": "application/json"},
            )
            problem = (
                response.json()
                if response.headers.get("content-type", "").endswith("problem+json")
                else {}
            )
            if (response.status_code, problem.get("code")) != (status, code):
                wrong.append(f"{method} {path} with {who}: {response.status_code} {problem}")

    assert not wrong, "\n".join(wrong)
