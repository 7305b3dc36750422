"""The dispatch takes service calls straight to their instance and leaves everything else alone."""

from __future__ import annotations

from typing import Any, cast

import pytest
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive, Scope, Send

from adapters import ADAPTERS
from lgsp.catalog.loader import Catalog, load_catalog
from lgsp.routing.dispatch import MATCHED_SCOPE_KEY, HopRequest, InvocationDispatch
from lgsp.settings import Settings
from lgsp.state import BUS_STATE_KEY, BusState

pytestmark = pytest.mark.anyio

KG, TG = "/lgsp/kiengiang", "/lgsp/tiengiang"


class Recorder:
    """An ASGI app that keeps the scope of each call it gets."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(dict(scope))


@pytest.fixture
def bus() -> BusState:
    """A bus state holding only what the dispatch reads: the real catalog."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    unused = cast(Any, None)
    return BusState(
        settings=settings,
        topology=unused,
        engine=unused,
        session_factory=unused,
        catalog=load_catalog(settings.catalog_dir, known_adapters=set(ADAPTERS)),
        adapters={},
        audit_writer=unused,
        client_cache=unused,
        login_limiter=unused,
        instances={},
        faults=unused,
    )


async def dispatch(
    bus: BusState, method: str, path: str, root_path: str = ""
) -> tuple[Recorder, dict[str, Recorder]]:
    mounts, lean = Recorder(), {KG: Recorder(), TG: Recorder()}
    app = InvocationDispatch(mounts, gateways=lean, reserved={"admin", "services", "docs"})
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "state": {BUS_STATE_KEY: bus},
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        raise AssertionError("the recorders answer nothing")

    await app(scope, receive, send)
    return mounts, lean


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def test_a_service_call_goes_to_its_instance_with_the_mounts_scope(
    bus: BusState, method: str
) -> None:
    mounts, lean = await dispatch(bus, method, f"{TG}/dancu/v1/citizens/082153253002")

    assert mounts.scopes == []
    assert lean[KG].scopes == []
    (scope,) = lean[TG].scopes
    assert scope["root_path"] == TG
    assert scope["app_root_path"] == ""
    assert scope["path"] == f"{TG}/dancu/v1/citizens/082153253002"
    # Matched once: the lean app takes the parameters of this path from the scope.
    assert scope[MATCHED_SCOPE_KEY] == (
        f"{TG}/dancu/v1/citizens/082153253002",
        {"service_id": "dancu", "version": "v1", "path": "citizens/082153253002"},
    )


async def test_a_root_path_given_by_the_server_is_kept_in_front_of_the_instances(
    bus: BusState,
) -> None:
    _, lean = await dispatch(bus, "GET", f"/bus{KG}/dvc/v1/procedures", root_path="/bus")

    (scope,) = lean[KG].scopes
    assert (scope["root_path"], scope["app_root_path"]) == (f"/bus{KG}", "/bus")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"{KG}/nosuch/v1/x"),  # no service of the catalog: the FastAPI route's 404
        ("GET", f"{KG}/admin/audit/x"),  # the gateway's own endpoints
        ("GET", f"{KG}/services/dancu/v1/openapi.json"),
        ("GET", f"{KG}/dancu/v1"),  # not the route's pattern
        ("GET", f"{KG}/dancu"),
        ("GET", f"{KG}/dancu/v1/citizens/1\nx"),  # no match of the route's `{path:path}` either
        ("TRACE", f"{KG}/dancu/v1/citizens/1"),  # not a method of the route: its 405
        ("GET", f"{KG}x/dancu/v1/citizens/1"),  # another mount's prefix, not a path segment
        ("GET", "/lgsp/binhdinh/dancu/v1/citizens/1"),  # an instance this process does not serve
        ("GET", "/healthz"),
    ],
)
async def test_everything_else_goes_through_the_mounts(
    bus: BusState, method: str, path: str
) -> None:
    mounts, lean = await dispatch(bus, method, path)

    assert len(mounts.scopes) == 1
    assert lean[KG].scopes == []
    assert lean[TG].scopes == []


async def test_a_service_named_like_a_gateway_endpoint_is_left_to_fastapi(bus: BusState) -> None:
    """A catalog service called `services` would lose to `/services/{id}/{version}/…` there."""
    bus.catalog = Catalog([next(iter(bus.catalog)).model_copy(update={"id": "services"})])

    mounts, lean = await dispatch(bus, "GET", f"{KG}/services/v1/x/openapi.json")

    assert len(mounts.scopes) == 1
    assert lean[KG].scopes == []


def receiving(*messages: Message) -> Receive:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0)

    return receive


async def test_a_hop_request_reads_its_body_from_every_part_once() -> None:
    """`HopRequest` reads the body as Starlette's request does, without its async generator."""
    request = HopRequest(
        {"type": "http", "method": "POST", "headers": []},
        receiving(
            {"type": "http.request", "body": b'{"a":', "more_body": True},
            {"type": "http.request", "body": b"", "more_body": True},
            {"type": "http.request", "body": b"1}", "more_body": False},
        ),
    )

    assert await request.body() == b'{"a":1}'
    assert await request.json() == {"a": 1}  # the body read again, not the drained `receive`
    assert [chunk async for chunk in request.stream()] == [b'{"a":1}', b""]


async def test_a_hop_request_whose_client_went_away_raises_client_disconnect() -> None:
    request = HopRequest(
        {"type": "http", "method": "POST", "headers": []},
        receiving(
            {"type": "http.request", "body": b"part", "more_body": True},
            {"type": "http.disconnect"},
        ),
    )

    with pytest.raises(ClientDisconnect):
        await request.body()
