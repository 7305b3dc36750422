"""httpx over aiohttp's pool keeps httpx's contract, against real servers on loopback.

respx cannot stand in here (it would replace the very transport under test), so each test talks
to a server in this event loop: uvicorn for well-formed answers, a raw socket server for the
malformed ones.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import respx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import SystemRequest
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable
from lgsp.routing.aiohttp_transport import AiohttpTransport
from lgsp.routing.transports import MAX_UPSTREAM_BODY, HttpTransport, http_client
from tests.fixtures.processes import free_port

pytestmark = pytest.mark.anyio

PEERS: set[tuple[str, int]] = set()


async def echo(request: Request) -> JSONResponse:
    assert request.client is not None
    PEERS.add((request.client.host, request.client.port))
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.url.query,
            "body": (await request.body()).decode(),
            "headers": [[k, v] for k, v in request.headers.items()],
        },
        status_code=201,
        headers={"X-Answer": "1"},
    )


READ_TIMEOUT = 0.2
"""The clients' read timeout in the tests of timeouts."""
SLOW_SECONDS = 3 * READ_TIMEOUT
"""How long `/slow` takes to answer: past the read timeout, and all a test waits when its own
timeout replaces the client's (2 s before: the worker idle for nothing)."""


async def slow(_request: Request) -> JSONResponse:
    await asyncio.sleep(SLOW_SECONDS)
    return JSONResponse({})


async def held(_request: Request) -> JSONResponse:
    """An answer that takes longer than any test waits: its connection stays busy."""
    await asyncio.sleep(10)
    return JSONResponse({})


async def zipped(_request: Request) -> Response:
    return Response(gzip.compress(b"xin chao " * 100), headers={"Content-Encoding": "gzip"})


async def cookie(request: Request) -> JSONResponse:
    answer = JSONResponse({"cookie": request.headers.get("cookie")})
    answer.set_cookie("session", "caller-a")
    return answer


async def huge(_request: Request) -> Response:
    return Response(b"x" * (MAX_UPSTREAM_BODY + 1))


APP = Starlette(
    routes=[
        Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/slow", slow),
        Route("/held", held),
        Route("/zipped", zipped),
        Route("/huge", huge),
        Route("/cookie", cookie),
    ]
)


@pytest.fixture
async def server() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(APP, port=port, log_config=None, access_log=False, lifespan="off")
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    while not running.started:
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    # Not waiting for an answer a test gave up on (`/held`'s): seconds of an idle worker each.
    running.should_exit = running.force_exit = True
    await task


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[bytes], Awaitable[str]]]:
    """A server that answers every connection with the given bytes, then closes it."""
    servers: list[asyncio.Server] = []

    async def serve(answer: bytes) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(answer)
            await writer.drain()
            writer.close()

        started = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(started)
        return f"http://127.0.0.1:{started.sockets[0].getsockname()[1]}"

    yield serve
    for started in servers:
        started.close()
        await started.wait_closed()


async def test_the_request_goes_out_as_httpx_built_it(server: str) -> None:
    async with http_client(server, timeout=5) as client:
        response = await client.post(
            "/echo/a%2Fb/%7Ec",
            params={"ten": "Nguyễn Văn A", "trang": "2"},
            content=b'{"x":1}',
            headers={"X-Request-ID": "r-1", "Content-Type": "application/json"},
        )

    assert response.status_code == 201
    assert response.headers["x-answer"] == "1"
    assert response.http_version == "HTTP/1.1"
    seen = response.json()
    assert seen["method"] == "POST"
    assert seen["raw_path"] == "/echo/a%2Fb/%7Ec"  # as httpx encoded it: not re-quoted
    assert seen["query"] == "ten=Nguy%E1%BB%85n+V%C4%83n+A&trang=2"  # httpx's encoding, kept
    assert seen["body"] == '{"x":1}'
    sent = dict(seen["headers"])
    assert sent["x-request-id"] == "r-1"
    assert sent["content-type"] == "application/json"
    assert sent["content-length"] == "7"
    assert sent["user-agent"].startswith("python-httpx/")  # httpx's headers, not aiohttp's
    assert len(seen["headers"]) == len(sent)  # no header twice


async def test_no_header_is_added_to_what_httpx_built(server: str) -> None:
    async with http_client(server, timeout=5) as client:
        on_get = dict((await client.get("/echo/x")).json()["headers"])
        on_post = dict((await client.post("/echo/x", content=b"raw")).json()["headers"])

    assert "content-type" not in on_get
    assert "content-type" not in on_post  # aiohttp would say application/octet-stream
    assert "transfer-encoding" not in on_post


async def test_a_streamed_request_body_is_sent_whole(server: str) -> None:
    async def parts() -> AsyncIterator[bytes]:
        yield b"mot "
        yield b"hai"

    async with http_client(server, timeout=5) as client:
        seen = (await client.post("/echo/x", content=parts())).json()

    assert seen["body"] == "mot hai"
    assert dict(seen["headers"])["content-length"] == "7"


async def test_a_compressed_answer_is_decoded_once_by_httpx(server: str) -> None:
    async with http_client(server, timeout=5) as client:
        response = await client.get("/zipped")

    assert response.headers["content-encoding"] == "gzip"
    assert response.content == b"xin chao " * 100


async def test_connections_are_kept_alive_and_shared_by_concurrent_requests(server: str) -> None:
    PEERS.clear()
    transport = AiohttpTransport(max_connections=4)
    async with httpx.AsyncClient(base_url=server, transport=transport) as client:
        for _ in range(5):
            assert (await client.get("/echo/one")).status_code == 201
        assert len(PEERS) == 1
        answers = await asyncio.gather(*(client.get(f"/echo/{n}") for n in range(40)))

    assert [a.json()["path"] for a in answers] == [f"/echo/{n}" for n in range(40)]
    assert len(PEERS) <= 4


async def test_the_gateway_transport_reads_a_system_at_a_url(server: str) -> None:
    async with http_client(server, timeout=5) as client:
        response = await HttpTransport(client, system="demo").send(
            SystemRequest(method="PUT", path="/echo/z", query=(("a", "1"),), body=b"hi")
        )

    assert response.status == 201
    assert response.content_type == "application/json"
    assert json.loads(response.body)["query"] == "a=1"


async def test_a_slow_answer_is_a_read_timeout(server: str) -> None:
    async with http_client(server, timeout=READ_TIMEOUT) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get("/slow")
        with pytest.raises(UpstreamTimeout):
            await HttpTransport(client, system="demo").send(
                SystemRequest(method="GET", path="/slow")
            )


async def test_a_requests_own_timeout_replaces_the_clients_read_timeout(server: str) -> None:
    """What a bus-internal call with a bound of its own (a reset) relies on."""
    async with http_client(server, timeout=READ_TIMEOUT) as client:
        response = await HttpTransport(client, system="demo").send(
            SystemRequest(method="GET", path="/slow", timeout=60)
        )

    assert response.status == 200


async def test_waiting_too_long_for_a_pooled_connection_is_a_timeout(server: str) -> None:
    transport = AiohttpTransport(max_connections=1)
    async with httpx.AsyncClient(base_url=server, transport=transport) as client:
        busy = asyncio.create_task(client.get("/held", timeout=5))
        await asyncio.sleep(0.2)
        with pytest.raises(httpx.TimeoutException):
            await client.get("/echo/x", timeout=httpx.Timeout(5, pool=0.2))
        busy.cancel()


async def test_a_refused_connection_is_a_connect_error() -> None:
    async with http_client(f"http://127.0.0.1:{free_port()}", timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/x")
        with pytest.raises(UpstreamUnavailable):
            await HttpTransport(client, system="demo").send(SystemRequest(method="GET", path="/"))


@pytest.mark.parametrize(
    "answer",
    [
        b"this is not HTTP\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\ncut short",
        b"",
    ],
    ids=["garbage", "cut-short", "closed"],
)
async def test_a_broken_answer_is_a_protocol_error(
    raw_server: Callable[[bytes], Awaitable[str]], answer: bytes
) -> None:
    async with http_client(await raw_server(answer), timeout=2) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/x")
        with pytest.raises(UpstreamUnavailable):
            await HttpTransport(client, system="demo").send(SystemRequest(method="GET", path="/"))


async def test_an_oversized_answer_is_refused_and_the_client_stays_usable(server: str) -> None:
    async with http_client(server, timeout=10) as client:
        with pytest.raises(UpstreamUnavailable):
            await HttpTransport(client, system="demo").send(
                SystemRequest(method="GET", path="/huge")
            )
        assert (await client.get("/echo/after")).status_code == 201


async def test_a_closed_transport_opens_a_new_pool_when_used_again(server: str) -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(base_url=server, transport=transport) as client:
        assert (await client.get("/echo/1")).status_code == 201
    await transport.aclose()
    async with httpx.AsyncClient(base_url=server, transport=transport) as client:
        assert (await client.get("/echo/2")).status_code == 201


async def test_respx_mocks_this_transport_with_the_httpx_mocker() -> None:
    transport = AiohttpTransport()
    async with httpx.AsyncClient(base_url="http://system.test", transport=transport) as client:
        with respx.mock(using="httpx", base_url="http://system.test") as router:
            router.get("/api/x").mock(return_value=httpx.Response(200, json={"ok": 1}))
            response = await HttpTransport(client, system="demo").send(
                SystemRequest(method="GET", path="/api/x")
            )

    assert json.loads(response.body) == {"ok": 1}


async def test_a_cookie_one_answer_sets_never_rides_on_a_later_request(server: str) -> None:
    async with http_client(server, timeout=2) as client:
        transport = HttpTransport(client, system="demo")
        await transport.send(SystemRequest(method="GET", path="/cookie"))
        second = await transport.send(SystemRequest(method="GET", path="/cookie"))
        await client.get("/cookie")
        through_httpx = await client.get("/cookie")

    assert json.loads(second.body) == {"cookie": None}
    assert through_httpx.json() == {"cookie": None}
    assert not client.cookies
