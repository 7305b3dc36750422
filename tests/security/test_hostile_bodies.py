"""Bodies of the wrong media type (415) and JSON nested past any stack (a 4xx problem, never a
RecursionError turned 500), for every operation that takes a body: read from the catalog and
the adapters' contracts, from the gateway's own routes, and from each mock system's routes.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from adapters import CONTRACTS
from adapters.base import SystemRequest
from adapters.qlvb import document_key
from lgsp.app import create_gateway_app
from lgsp.composition import MOCK_SYSTEMS
from lgsp.routing.systems import SystemContext
from lgsp.settings import Settings
from lgsp.state import BusState
from lgsp.topology import InstanceSpec, load_topology
from tests.fixtures.bus import KG, bearer, bus_client_token, system_caller
from tests.security.test_admin_routes import concrete

pytestmark = pytest.mark.anyio

JSON = "application/json"
XML = "application/xml"
PROBLEM = "application/problem+json"
# A well-formed value for each path parameter, so that only the body can be refused.
SAMPLE_PARAMETERS = {
    "cccd": "091048993438",
    "code": "000.00.07.H33-250602-0001",
    "id": document_key("000.00.01.H33,2025/06/02,1/STP-TT"),
}
DEEP_JSON = {
    "arrays-past-the-stack": b"[" * 100_000,
    "objects-past-the-stack": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "objects-within-the-stack": b'{"a":' * 900 + b"1" + b"}" * 900,
}


def body_operations(bus: BusState) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """(method, path, accepted media types, the bus's own client that calls it if only those
    may) of every catalog operation that takes a body."""
    found: list[tuple[str, str, tuple[str, ...], str | None]] = []
    for service in bus.catalog:
        for operation in service.operations:
            contract = CONTRACTS[service.adapter].get(operation.id)
            if contract is None or contract.request is None:
                continue
            path = re.sub(r"\{([^}]+)\}", lambda m: SAMPLE_PARAMETERS[m.group(1)], operation.path)
            found.append(
                (
                    operation.method,
                    f"{KG}/{service.id}/{service.version}{path}",
                    contract.request_media_types,
                    system_caller(service) if operation.callers == "system" else None,
                )
            )
    return found


async def caller_headers(
    client: httpx.AsyncClient, settings: Settings, demo_token: str, caller: str | None
) -> dict[str, str]:
    if caller is None:
        return bearer(demo_token)
    return bearer(await bus_client_token(client, settings, caller))


def problem_code(response: httpx.Response) -> str | None:
    if response.headers.get("content-type") != PROBLEM:
        return None
    code: str = response.json()["code"]
    return code


async def test_every_body_operation_refuses_a_media_type_it_does_not_take_with_415(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, settings: Settings
) -> None:
    operations = body_operations(bus)
    assert len(operations) >= 10  # the enumeration found the catalog
    wrong = []
    for method, path, accepted, caller in operations:
        headers = await caller_headers(client, settings, demo_token, caller)
        for media_type in ["text/plain", "multipart/form-data; boundary=x", JSON, XML]:
            if media_type in accepted:
                continue
            response = await client.request(
                method,
                path,
                content=b"{}",
                headers={**headers, "Content-Type": media_type},
            )
            outcome = (response.status_code, problem_code(response))
            if outcome != (415, "UNSUPPORTED_MEDIA_TYPE"):
                wrong.append(f"{method} {path} as {media_type}: {outcome}")

    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("body", DEEP_JSON.values(), ids=DEEP_JSON.keys())
async def test_deep_json_to_every_json_operation_is_a_4xx_problem(
    client: httpx.AsyncClient, demo_token: str, bus: BusState, settings: Settings, body: bytes
) -> None:
    wrong = []
    for method, path, accepted, caller in body_operations(bus):
        if JSON not in accepted:
            continue
        headers = await caller_headers(client, settings, demo_token, caller)
        response = await client.request(
            method, path, content=body, headers={**headers, "Content-Type": JSON}
        )
        if not 400 <= response.status_code < 500 or problem_code(response) is None:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")

    assert not wrong, "\n".join(wrong)


def gateway_body_routes() -> list[tuple[str, str]]:
    """(method, path) of each route of the gateway's own that reads a JSON body."""
    spec = load_topology(None).instances[0]
    return sorted(
        (method, route.path or "")
        for route in iter_route_contexts(create_gateway_app(spec).routes)
        if getattr(route, "body_field", None) is not None
        for method in route.methods or ()
    )


def test_the_gateways_json_routes_are_found() -> None:
    assert ("POST", "/admin/revoked-tokens") in gateway_body_routes()


@pytest.mark.parametrize("body", DEEP_JSON.values(), ids=DEEP_JSON.keys())
async def test_deep_json_to_the_gateways_own_json_routes_is_a_4xx_problem(
    client: httpx.AsyncClient, demo_token: str, body: bytes
) -> None:
    wrong = []
    for method, path in gateway_body_routes():
        response = await client.request(
            method,
            concrete(path),
            content=body,
            headers={**bearer(demo_token), "Content-Type": JSON},
        )
        if not 400 <= response.status_code < 500 or problem_code(response) is None:
            wrong.append(f"{method} {path}: {response.status_code} {response.text[:200]}")

    assert not wrong, "\n".join(wrong)


def mock_body_routes(system: str) -> list[tuple[str, str]]:
    """(method, path) of each route of a mock system that may take a body, from its own app.

    Some read the body themselves, so every POST, PUT and PATCH counts, except the bus's own
    control routes (`/_lgsp/…`), which take none.
    """
    owner = InstanceSpec(name="x", kind="province", title="x", province_code="91")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    app = MOCK_SYSTEMS[system].factory(SystemContext(owner, settings))
    return sorted(
        (method, re.sub(r"\{[^}]+\}", "1", route.path or ""))
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method in ("POST", "PUT", "PATCH") and not (route.path or "").startswith("/_lgsp/")
    )


@pytest.mark.parametrize("body", DEEP_JSON.values(), ids=DEEP_JSON.keys())
async def test_deep_json_sent_straight_to_each_mock_system_is_a_4xx(
    bus: BusState, body: bytes
) -> None:
    """A mock also runs on its own (multi-process mode) or behind an integrator's code."""
    wrong, tried = [], 0
    for instance in bus.instances.values():
        for name, transport in instance.systems.items():
            for method, path in mock_body_routes(name):
                tried += 1
                answer = await transport.send(
                    SystemRequest(method, path, body=body, headers={"Content-Type": JSON})
                )
                if not 400 <= answer.status < 500:
                    wrong.append(f"{instance.spec.name} {name} {method} {path}: {answer.status}")

    assert tried >= 10
    assert not wrong, "\n".join(wrong)
