"""The lean HTTP/1.1 pool under `HttpTransport` (lgsp/routing/http1.py), against servers on
loopback: what it writes, how it reads answers however they are delimited, and how it reuses,
replaces and bounds its connections. The contract it shares with aiohttp's transport (errors,
timeouts, sizes, cookies) is tested through `http_client` in test_aiohttp_transport.py."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from adapters.base import SystemRequest
from lgsp.errors import UpstreamUnavailable
from lgsp.routing.http1 import Http1Pool
from lgsp.routing.transports import HttpTransport, http_client

pytestmark = pytest.mark.anyio

Handler = Callable[[bytes, int], bytes | None]
"""What a test server answers to the request head it read, the n-th on its connection (from 1);
None closes the connection without answering."""


class Server:
    """A raw HTTP/1.1 server on loopback: what it was sent, on how many connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.heads: list[bytes] = []
        self.connections = 0
        self.url = ""
        self._server: asyncio.Server | None = None

    async def start(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        count = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                count += 1
                self.heads.append(head + body)
                answer = self.handler(head, count)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"connection: close" in answer.lower():
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


Serve = Callable[[Handler], Awaitable[Server]]
"""Starts a `Server` that answers with the handler; the `serve` fixture stops it."""


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    started: list[Server] = []

    async def start(handler: Handler) -> Server:
        server = await Server(handler).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@asynccontextmanager
async def pool_to(server: Server, **limits: Any) -> AsyncIterator[Http1Pool]:
    """A lean pool of connections to `server` alone, closed when the block ends."""
    pool = Http1Pool("127.0.0.1", int(server.url.rsplit(":", 1)[1]), **limits)
    try:
        yield pool
    finally:
        pool.close()


def ok(body: bytes = b'{"ok":1}', *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join([*head, *extra]) + "\r\n\r\n").encode() + body


async def test_a_call_goes_out_with_the_headers_httpx_would_send(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    async with http_client(server.url + "/base/", timeout=5) as client:
        await HttpTransport(client, system="demo").send(
            SystemRequest(
                method="POST",
                path="/a b/ờ?#",
                query=(("ten", "Nguyễn Văn A"),),
                body=b'{"x":1}',
                headers={"X-Request-ID": "r-1", "Content-Type": "application/json"},
            )
        )
        await client.post(
            "/a%20b/%E1%BB%9D%3F%23",
            params={"ten": "Nguyễn Văn A"},
            content=b'{"x":1}',
            headers={"X-Request-ID": "r-1", "Content-Type": "application/json"},
        )

    lean, through_httpx = server.heads
    assert lean.split(b"\r\n")[0] == (
        b"POST /base/a%20b/%E1%BB%9D%3F%23?ten=Nguy%E1%BB%85n+V%C4%83n+A HTTP/1.1"
    )
    assert lean.split(b"\r\n")[0] == through_httpx.split(b"\r\n")[0]
    assert sorted(lean.lower().split(b"\r\n")) == sorted(through_httpx.lower().split(b"\r\n"))
    assert lean.endswith(b'\r\n\r\n{"x":1}')


async def test_a_pooled_call_sends_the_extra_headers_over_the_requests_own(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    async with http_client(server.url, timeout=5) as client:
        await HttpTransport(client, system="demo").send(
            SystemRequest(method="GET", path="/", headers={"X-Request-ID": "adapter"}),
            {"X-Request-ID": "r-1"},
        )

    (head,) = server.heads
    assert [line for line in head.lower().split(b"\r\n") if b"x-request-id" in line] == [
        b"x-request-id: r-1"
    ]


async def test_connections_are_kept_alive_and_bounded(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    async with pool_to(server, max_connections=3) as pool:

        async def call() -> int:
            answer = await pool.request(
                "GET",
                "/x",
                [("Host", "h")],
                connect=5,
                read=5,
                pool=5,
                max_body=1000,
            )
            return answer.status

        for _ in range(5):
            assert await call() == 200
        assert server.connections == 1
        assert await asyncio.gather(*(call() for _ in range(30))) == [200] * 30
        assert server.connections <= 3


async def test_an_idle_connection_the_server_dropped_is_replaced_for_an_idempotent_call(
    serve: Serve,
) -> None:
    # The server answers the first request of each connection, and closes it on the second
    # without a word: what a server's keep-alive timeout does to a request sent as it closes.
    server = await serve(lambda head, n: ok() if n == 1 else None)
    async with http_client(server.url, timeout=5) as client:
        transport = HttpTransport(client, system="demo")
        await transport.send(SystemRequest(method="GET", path="/1"))
        answer = await transport.send(SystemRequest(method="GET", path="/2"))
        assert answer.status == 200
        assert server.connections == 2  # the second call went again, on a new connection

        with pytest.raises(UpstreamUnavailable):  # a POST may have been acted on: not repeated
            await transport.send(SystemRequest(method="POST", path="/3", body=b"x"))
    assert [h.split(b" ")[1] for h in server.heads] == [b"/1", b"/2", b"/2", b"/3"]


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nxin chao",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nxin \r\n4\r\nchao\r\n0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\nxin chao",
    ],
    ids=["ended-by-close", "chunked", "after-100-continue"],
)
async def test_an_answer_is_read_however_it_is_delimited(serve: Serve, answer: bytes) -> None:
    server = await serve(lambda head, n: answer)
    async with http_client(server.url, timeout=5) as client:
        transport = HttpTransport(client, system="demo")
        for _ in range(2):
            response = await transport.send(SystemRequest(method="GET", path="/"))
            assert (response.status, response.body) == (200, b"xin chao")
            assert response.content_type == "text/plain"


async def test_a_connection_the_server_closes_after_its_answer_is_not_used_again(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok(b"{}", "Connection: close"))
    async with http_client(server.url, timeout=5) as client:
        transport = HttpTransport(client, system="demo")
        for _ in range(3):
            assert (await transport.send(SystemRequest(method="GET", path="/"))).status == 200
    assert server.connections == 3


async def test_a_compressed_answer_is_passed_on_decoded(
    serve: Serve,
) -> None:
    body = gzip.compress(b'{"ten":"xin chao"}')
    server = await serve(lambda head, n: ok(body, "Content-Encoding: gzip"))
    async with http_client(server.url, timeout=5) as client:
        response = await HttpTransport(client, system="demo").send(
            SystemRequest(method="GET", path="/")
        )
    assert json.loads(response.body) == {"ten": "xin chao"}
    assert b"accept-encoding: gzip" in server.heads[0].lower()


async def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    async with http_client(server.url, timeout=5) as client:
        with pytest.raises(UpstreamUnavailable):
            await HttpTransport(client, system="demo").send(
                SystemRequest(method="GET", path="/", headers={"X-A": "1\r\nX-Injected: 2"})
            )
    assert server.heads == []


async def test_a_head_request_goes_through_httpx_and_is_answered(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok().split(b"\r\n\r\n")[0] + b"\r\n\r\n")
    async with http_client(server.url, timeout=5) as client:
        response = await HttpTransport(client, system="demo").send(
            SystemRequest(method="HEAD", path="/")
        )
        assert response.status == 200
        assert (await client.head("/")).status_code == 200


async def test_a_closed_client_refuses_new_calls(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    client = http_client(server.url, timeout=5)
    transport = HttpTransport(client, system="demo")
    assert (await transport.send(SystemRequest(method="GET", path="/"))).status == 200
    await client.aclose()
    with pytest.raises(UpstreamUnavailable):
        await transport.send(SystemRequest(method="GET", path="/"))
    assert server.connections == 1


async def test_a_connection_idle_past_the_expiry_is_replaced_not_reused(
    serve: Serve,
) -> None:
    server = await serve(lambda head, n: ok())
    async with pool_to(server, keepalive_expiry=0.05) as pool:
        for pause in (0.0, 0.2):
            await asyncio.sleep(pause)
            answer = await pool.request(
                "POST", "/x", [("Host", "h")], b"", connect=5, read=5, pool=5, max_body=100
            )
            assert answer.status == 200
    assert server.connections == 2


@pytest.mark.parametrize(
    "extra",
    [
        [f"X-Big: {'a' * 70_000}"],  # one field past the bound
        [f"X-Many-{i}: x" for i in range(300)],  # more fields than the bound
    ],
)
async def test_an_answer_whose_header_block_passes_the_bound_is_refused(
    serve: Serve, extra: list[str]
) -> None:
    """llhttp bounds no header block: a system that sends headers without end is cut off."""
    server = await serve(lambda head, n: ok(b"{}", *extra))
    async with http_client(server.url, timeout=5) as client:
        transport = HttpTransport(client, system="demo")
        with pytest.raises(UpstreamUnavailable, match="answered too much"):
            await transport.send(SystemRequest(method="GET", path="/"))


async def test_a_kept_alive_connections_next_call_times_out_at_its_own_read_timeout(
    serve: Serve,
) -> None:
    """A connection's next call, with a shorter read timeout than its first, times out at its
    own: no timer of the first call's outlives it."""
    server = await serve(lambda head, n: ok() if n == 1 else b"HTTP/1.1 200 OK\r\n")
    async with pool_to(server) as pool:
        first = await pool.request(
            "GET", "/", [("Host", "x")], connect=5, read=60, pool=5, max_body=100
        )
        assert first.status == 200
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await pool.request(
                "GET", "/", [("Host", "x")], connect=5, read=0.3, pool=5, max_body=100
            )
        assert asyncio.get_running_loop().time() - started < 5
    assert server.connections == 1


async def test_a_connections_calls_share_one_read_timer(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A timer scheduled and cancelled on every call cost a twentieth of a peer call's
    instructions: the calls of one connection, each within the bound, schedule one."""
    server = await serve(lambda head, n: ok())
    loop = asyncio.get_running_loop()
    scheduled: list[float] = []  # read timers (not the connect timeout's)
    call_at = loop.call_at

    def counted(when: float, callback: Any, *args: Any, **options: Any) -> asyncio.TimerHandle:
        if getattr(callback, "__name__", "") == "_check_read":
            scheduled.append(when)
        return call_at(when, callback, *args, **options)

    monkeypatch.setattr(loop, "call_at", counted)
    async with pool_to(server) as pool:
        for _ in range(10):
            answer = await pool.request(
                "GET", "/", [("Host", "x")], connect=5, read=30, pool=5, max_body=100
            )
            assert answer.status == 200
    assert server.connections == 1
    assert len(scheduled) == 1


async def test_a_read_timer_left_by_an_earlier_call_times_the_next_from_its_own_start(
    serve: Serve,
) -> None:
    """The timer the first call left fires during the second, which has waited less than its
    bound: it looks again from the second call's start, and fails it only at its bound."""
    server = await serve(lambda head, n: ok() if n == 1 else b"HTTP/1.1 200 OK\r\n")
    async with pool_to(server) as pool:
        first = await pool.request(
            "GET", "/", [("Host", "x")], connect=5, read=0.6, pool=5, max_body=100
        )
        assert first.status == 200
        await asyncio.sleep(0.3)
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await pool.request(
                "GET", "/", [("Host", "x")], connect=5, read=0.6, pool=5, max_body=100
            )
        waited = asyncio.get_running_loop().time() - started
        assert 0.55 <= waited < 5
    assert server.connections == 1
