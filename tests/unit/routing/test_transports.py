"""Both ways of reaching an owning system answer alike, and fail with the same problems."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, NamedTuple

import anyio
import httpx
import pytest
import respx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import SystemRequest
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable
from lgsp.routing.transports import MAX_UPSTREAM_BODY, HttpTransport, InProcessTransport

pytestmark = pytest.mark.anyio


async def echo(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "body": (await request.body()).decode(),
            "content_type": request.headers.get("content-type"),
        },
        status_code=201,
    )


async def headers(request: Request) -> JSONResponse:
    return JSONResponse(
        {name: request.headers.getlist(name) for name in ("x-request-id", "accept")}
    )


async def slow(_request: Request) -> JSONResponse:
    await asyncio.sleep(5)
    return JSONResponse({})


async def broken(_request: Request) -> JSONResponse:
    raise RuntimeError("the mock fell over")


async def huge(_request: Request) -> Response:
    return Response(b"x" * (MAX_UPSTREAM_BODY + 1))


APP = Starlette(
    routes=[
        Route("/echo/{rest:path}", echo, methods=["GET", "POST"]),
        Route("/headers", headers),
        Route("/slow", slow),
        Route("/broken", broken),
        Route("/huge", huge),
    ]
)


def in_process(timeout: float = 2.0) -> InProcessTransport:
    return InProcessTransport(APP, system="demo", host="demo.test", timeout=timeout)


async def test_in_process_requests_see_the_lifespan_state_as_under_a_server() -> None:
    async def read_state(request: Request) -> JSONResponse:
        keys = sorted(vars(request.state)["_state"])
        request.state.scratch = "per request"  # must not leak into the next request
        return JSONResponse({"store": request.state.store, "keys": keys})

    app = Starlette(routes=[Route("/", read_state)])
    transport = InProcessTransport(
        app, system="demo", host="demo.test", timeout=2, state={"store": "seeded"}
    )

    first = await transport.send(SystemRequest(method="GET", path="/"))
    second = await transport.send(SystemRequest(method="GET", path="/"))

    assert httpx.Response(200, content=first.body).json()["store"] == "seeded"
    assert httpx.Response(200, content=second.body).json()["keys"] == ["store"]


async def test_in_process_call_passes_method_path_query_body_and_headers() -> None:
    response = await in_process().send(
        SystemRequest(
            method="POST",
            path="/echo/a/b",
            query=(("trang", "2"),),
            body=b'{"x":1}',
            headers={"Content-Type": "application/json"},
        )
    )

    assert response.status == 201
    assert response.content_type == "application/json"
    assert httpx.Response(200, content=response.body).json() == {
        "method": "POST",
        "path": "/echo/a/b",
        "query": {"trang": "2"},
        "body": '{"x":1}',
        "content_type": "application/json",
    }


WITH_ADAPTERS_HEADERS = SystemRequest(
    method="GET", path="/headers", headers={"X-Request-ID": "adapter", "Accept": "text/xml"}
)
"""A request whose adapter set a header of the name the bus sets too (`extra_headers`)."""


async def test_in_process_call_sends_the_extra_headers_over_the_requests_own() -> None:
    response = await in_process().send(WITH_ADAPTERS_HEADERS, {"X-Request-ID": "r-1"})

    assert httpx.Response(200, content=response.body).json() == {
        "x-request-id": ["r-1"],
        "accept": ["text/xml"],
    }


@pytest.mark.parametrize(
    ("path", "error"),
    [("/slow", UpstreamTimeout), ("/broken", UpstreamUnavailable), ("/huge", UpstreamUnavailable)],
)
async def test_in_process_failures_map_to_upstream_problems(
    path: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await in_process(timeout=0.2).send(SystemRequest(method="GET", path=path))


async def test_a_system_that_fails_to_answer_leaves_its_cause_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The caller gets a bare 502; the operator needs the cause (a CI reset of an embedded
    system failed twice with nothing else to go on)."""
    with caplog.at_level(logging.WARNING, logger="lgsp.routing.transports"):
        with pytest.raises(UpstreamUnavailable):
            await in_process().send(SystemRequest(method="GET", path="/broken"))

    (record,) = [r for r in caplog.records if r.name == "lgsp.routing.transports"]
    assert record.getMessage() == "system demo failed to answer"
    assert record.exc_info is not None
    assert "the mock fell over" in str(record.exc_info[1])


async def test_a_system_past_its_timeout_is_answered_for_but_not_cut_short() -> None:
    """A remote system goes on when its caller gives up: so does an embedded one, whose
    transaction would otherwise be cut short (`kit.deadline`)."""
    release, ended = asyncio.Event(), asyncio.Event()

    async def lasting(_request: Request) -> JSONResponse:
        await release.wait()
        ended.set()
        return JSONResponse({})

    app = Starlette(routes=[Route("/lasting", lasting)])
    transport = InProcessTransport(app, system="demo", host="demo.test", timeout=0.01)

    with pytest.raises(UpstreamTimeout):
        await transport.send(SystemRequest(method="GET", path="/lasting"))
    release.set()

    with anyio.fail_after(5):  # a hang guard: cut short, the system never reaches its end
        await ended.wait()


class Answer(NamedTuple):
    status: int
    body: bytes
    media_type: str = "application/json"
    document: Any = None


def direct_echo(method: str, path: str) -> Answer | None:
    """A system's plain function: answers `/echo/…` itself, leaves the rest to its app."""
    if not path.startswith("/echo/"):
        return None
    if path == "/echo/broken":
        raise RuntimeError("the plain function fell over")
    if path == "/echo/huge":
        return Answer(200, b"x" * (MAX_UPSTREAM_BODY + 1))
    if path == "/echo/built":
        return Answer(200, b'{"echo":"built"}', document={"echo": "built"})
    return Answer(203, f"{method} {path}".encode(), "text/plain")


def with_direct() -> InProcessTransport:
    return InProcessTransport(APP, system="demo", host="demo.test", timeout=2.0, direct=direct_echo)


async def test_in_process_call_takes_the_systems_plain_function_when_it_answers() -> None:
    response = await with_direct().send(SystemRequest(method="GET", path="/echo/a"))

    assert (response.status, response.body, response.content_type) == (
        203,
        b"GET /echo/a",
        "text/plain",
    )


async def test_in_process_call_hands_the_adapter_the_json_value_the_function_built() -> None:
    response = await with_direct().send(SystemRequest(method="GET", path="/echo/built"))

    assert (response.body, response.document) == (b'{"echo":"built"}', {"echo": "built"})
    assert (await with_direct().send(SystemRequest(method="GET", path="/echo/a"))).document is None


async def test_in_process_call_goes_to_the_app_when_the_plain_function_does_not_answer() -> None:
    transport = with_direct()

    other = await transport.send(SystemRequest(method="GET", path="/nowhere"))
    with_body = await transport.send(SystemRequest(method="POST", path="/echo/a", body=b"{}"))

    assert (other.status, other.body) == (404, b"Not Found")  # the app's router answered
    assert with_body.status == 201  # the plain function never sees a body
    assert httpx.Response(200, content=with_body.body).json()["body"] == "{}"


@pytest.mark.parametrize("path", ["/echo/broken", "/echo/huge"])
async def test_in_process_plain_function_failures_map_to_upstream_unavailable(path: str) -> None:
    with pytest.raises(UpstreamUnavailable):
        await with_direct().send(SystemRequest(method="GET", path=path))


@respx.mock(base_url="http://system.test", assert_all_called=True)
async def test_http_transport_sends_the_request_as_built(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("/base/api/x").mock(return_value=httpx.Response(200, json={"ok": 1}))
    async with httpx.AsyncClient(
        base_url="http://system.test/base", headers={"Accept": "application/json"}
    ) as client:
        response = await HttpTransport(client, system="demo").send(
            SystemRequest(
                method="POST",
                path="/api/x",
                query=(("a", "1"), ("a", "2")),
                body=b"hi",
                headers={"X-Request-ID": "r-1", "accept": "application/xml"},
            )
        )

    assert response.status == 200
    assert response.content_type == "application/json"
    sent = route.calls.last.request
    assert sent.url.path == "/base/api/x"
    assert sent.url.params.get_list("a") == ["1", "2"]
    assert sent.content == b"hi"
    assert sent.headers["x-request-id"] == "r-1"
    assert sent.headers.get_list("accept") == ["application/xml"]  # the request's own wins
    assert sent.headers["user-agent"].startswith("python-httpx/")  # the client's defaults stay
    assert "authorization" not in sent.headers


@respx.mock(base_url="http://system.test", assert_all_called=True)
async def test_http_transport_sends_the_extra_headers_over_the_requests_own(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get("/headers").mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient(base_url="http://system.test") as client:
        await HttpTransport(client, system="demo").send(
            WITH_ADAPTERS_HEADERS, {"X-Request-ID": "r-1"}
        )

    sent = route.calls.last.request
    assert sent.headers.get_list("x-request-id") == ["r-1"]
    assert sent.headers.get_list("accept") == ["text/xml"]


@respx.mock(base_url="http://system.test", assert_all_called=True)
async def test_a_requests_own_timeout_replaces_the_read_timeout_of_the_client(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post("/reset").mock(return_value=httpx.Response(200))
    async with httpx.AsyncClient(base_url="http://system.test", timeout=2) as client:
        await HttpTransport(client, system="demo").send(
            SystemRequest(method="POST", path="/reset", timeout=60)
        )

    sent = route.calls.last.request.extensions["timeout"]
    assert (sent["read"], sent["connect"], sent["pool"]) == (60, 2, 2)


async def test_an_in_process_requests_own_timeout_replaces_the_transports() -> None:
    release = asyncio.Event()

    async def waiting(_request: Request) -> JSONResponse:
        await release.wait()
        return JSONResponse({"waited": True})

    app = Starlette(routes=[Route("/waiting", waiting)])
    transport = InProcessTransport(app, system="demo", host="demo.test", timeout=0.001)
    asyncio.get_running_loop().call_later(0.05, release.set)

    answer = await transport.send(SystemRequest(method="GET", path="/waiting", timeout=60))

    assert answer.status == 200


@pytest.mark.parametrize(
    ("raised", "error"),
    [
        (httpx.ConnectError("refused"), UpstreamUnavailable),
        (httpx.ReadTimeout("slow"), UpstreamTimeout),
        (httpx.RemoteProtocolError("garbage"), UpstreamUnavailable),
    ],
)
async def test_http_transport_failures_map_to_upstream_problems(
    raised: Exception, error: type[Exception]
) -> None:
    with respx.mock(base_url="http://system.test", assert_all_called=True) as router:
        router.get("/api/x").mock(side_effect=raised)
        async with httpx.AsyncClient(base_url="http://system.test") as client:
            with pytest.raises(error):
                await HttpTransport(client, system="demo").send(
                    SystemRequest(method="GET", path="/api/x")
                )


@respx.mock(assert_all_called=True)
async def test_http_transport_keeps_every_character_of_a_segment_in_its_segment(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.route(host="system.test").mock(return_value=httpx.Response(204))
    async with httpx.AsyncClient(base_url="http://system.test/base/") as client:
        await HttpTransport(client, system="demo").send(
            SystemRequest(method="GET", path="/hồ sơ/100%?x=1#top", query=(("a", "1"),))
        )

    sent = route.calls.last.request
    assert sent.url.raw_path == b"/base/h%E1%BB%93%20s%C6%A1/100%25%3Fx=1%23top?a=1"
    assert sent.url.path == "/base/hồ sơ/100%?x=1#top"
