"""A lean HTTP/1.1 client for the gateway's calls to systems and peers over plain HTTP.

The hop over HTTP spent more CPU in its client than in the gateway's own work: httpx builds a
`Request`, URL and header objects, runs its auth, redirect and cookie steps, and hands the
request to aiohttp, which builds its own request, writer, reader and timers (issue 21: the
client was a third of the forwarding gateway's CPU). A gateway forwards one request at a time
per connection, with the whole body in hand, to a few known hosts; this client does only that:
a pool of keep-alive connections per origin, requests written in one `write`, answers parsed by
llhttp (`httptools`, uvicorn's parser), the body read whole up to a bound.

It keeps the contract of the client it stands in for (`lgsp.routing.aiohttp_transport`):
timeouts as httpx's (`pool` bounds waiting for a free connection, `connect` the connecting,
`read` each wait for bytes of the answer); failures raised as httpx's exceptions
(`ConnectError`, `ConnectTimeout`, `ReadTimeout`, `RemoteProtocolError`, `PoolTimeout`), so
callers map them as before; no cookies, redirects or proxies; exactly the headers given, plus
`Host` and `Content-Length`. A connection the peer closed while idle is replaced; a request
that met such a close before any byte of its answer is sent once more on a new connection when
its method is idempotent (RFC 9110 §9.2.2), as aiohttp and httpcore do. The body comes back
encoded as sent (no `Content-Encoding` decoding: the gateway passes bytes on).

`HttpTransport` uses it for `http://` URLs (`http_client`); `https://` stays on aiohttp, whose
TLS handling is tested.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

import httptools
import httpx

from kit.values import value_object

if TYPE_CHECKING:
    from lgsp.routing.aiohttp_transport import AiohttpTransport

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
MAX_HEAD_BYTES = 64 * 1024
"""The most an answer's header fields may take (names and values), as the bus's own server
bounds a request's (`LGSP_SERVER_HEADER_MAX_BYTES`): llhttp itself sets no bound."""
MAX_HEADERS = 200


@value_object
class Answer:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    content_type: bytes | None = None
    """The first `Content-Type` field's value, noted as the fields were parsed."""
    codings: tuple[bytes, ...] = ()
    """Each `Content-Encoding` field's value, in order (each may list several, by commas)."""


_DELIMITING, _CONTENT_TYPE, _CONTENT_ENCODING = 0, 1, 2
_NOTED_FIELDS = {
    b"content-length": _DELIMITING,
    b"transfer-encoding": _DELIMITING,
    b"content-type": _CONTENT_TYPE,
    b"content-encoding": _CONTENT_ENCODING,
}
"""The answer's header fields the connection notes as they are parsed (lower case): what
delimits the body, and what the gateway reads of the answer, so no caller walks the fields
again (issue 21)."""


class TooLarge(Exception):
    """The answer's body passed the caller's bound; the connection is closed."""


class _Connection(asyncio.Protocol):
    """One keep-alive connection: at most one exchange at a time."""

    __slots__ = (
        "_transport",
        "_parser",
        "_loop",
        "_waiter",
        "_status",
        "_headers",
        "_chunks",
        "_size",
        "_head_size",
        "_max_body",
        "_received",
        "_done",
        "_delimited",
        "_keep_alive",
        "closed",
        "idle_since",
        "_read_timeout",
        "_timer",
        "_last_read",
        "_content_type",
        "_codings",
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []
        self._size = 0
        self._head_size = 0
        self._max_body = 0
        self._received = False
        self._done = False
        self._delimited = False
        self._keep_alive = True
        self.closed = False
        self.idle_since = 0.0
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._content_type: bytes | None = None
        self._codings: list[bytes] = []

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:  # bytes nobody asked for: the connection is not reusable
            self.close()
            return
        self._received = True
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("the peer switched protocols"))
        except httptools.HttpParserError as error:
            # A callback's own exception comes wrapped (HttpParserCallbackError), its cause kept.
            if isinstance(error.__context__, TooLarge):
                self._fail(error.__context__)
            else:
                self._fail(httpx.RemoteProtocolError(f"malformed answer: {error}"))
        except TooLarge as error:
            self._fail(error)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if self._waiter is not None and not self._waiter.done():
            if self._status >= 200 and not self._delimited:  # an answer ended by the close
                self._keep_alive = False
                self.on_message_complete()
            if self._waiter is not None and not self._waiter.done():
                message = "the peer closed the connection before answering in full"
                error = httpx.RemoteProtocolError(message) if self._received else None
                self._waiter.set_exception(error or _Disconnected(message))

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value)
        if self._head_size > MAX_HEAD_BYTES or len(self._headers) >= MAX_HEADERS:
            raise TooLarge
        self._headers.append((name, value))
        noted = _NOTED_FIELDS.get(name.lower())
        if noted is None:
            return
        if noted == _DELIMITING:
            self._delimited = True
        elif noted == _CONTENT_TYPE:
            if self._content_type is None:
                self._content_type = value
        else:
            self._codings.append(value)

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._max_body:
            raise TooLarge
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if 100 <= self._status < 200:  # an interim answer (100 Continue): the final one follows
            self._status, self._headers, self._chunks, self._size = 0, [], [], 0
            self._head_size, self._delimited = 0, False
            self._content_type, self._codings = None, []
            return
        self._done = True
        # The read timer is left to lapse: the next exchange on this connection reuses it
        # (`exchange`), and one that finds no exchange ends (`_check_read`).
        waiter, self._waiter = self._waiter, None
        answer = Answer(
            self._status,
            self._headers,
            b"".join(self._chunks),
            self._content_type,
            tuple(self._codings),
        )
        if not self._keep_alive:
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    # the exchange

    def exchange(
        self, head_and_body: bytes, *, max_body: int, read_timeout: float | None
    ) -> asyncio.Future[Answer]:
        assert self._transport is not None  # noqa: S101 - connected before use
        self._waiter = self._loop.create_future()
        self._status, self._headers, self._chunks, self._size = 0, [], [], 0
        self._head_size, self._max_body, self._received, self._done = 0, max_body, False, False
        self._delimited = False
        self._content_type, self._codings = None, []
        self._read_timeout = read_timeout
        self._last_read = now = self._loop.time()
        if read_timeout is not None:
            # One timer a connection, not one an exchange: one still pending from an exchange
            # before fires no later than this one's bound, and then looks again from this
            # exchange's last byte (`_check_read`). Scheduling and cancelling a timer on every
            # call cost a twentieth of the peer call's instructions (issue 21).
            timer = self._timer
            if timer is None or timer.when() > now + read_timeout:
                if timer is not None:
                    timer.cancel()
                self._timer = self._loop.call_at(now + read_timeout, self._check_read)
        self._transport.write(head_and_body)
        return self._waiter

    @property
    def reusable(self) -> bool:
        return not self.closed and self._done and self._keep_alive and self._waiter is None

    def close(self) -> None:
        self.closed = True
        self._cancel_timer()
        if self._transport is not None:
            self._transport.close()

    def _check_read(self) -> None:
        """Fail the exchange when no byte came for `read_timeout`; else look again later. With
        no exchange under way (its answer came), the timer ends here."""
        self._timer = None
        if self._waiter is None or self._read_timeout is None:
            return
        due = self._last_read + self._read_timeout
        if self._loop.time() >= due:
            self._fail(httpx.ReadTimeout("no answer within the read timeout"))
        else:
            self._timer = self._loop.call_at(due, self._check_read)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class _Disconnected(httpx.RemoteProtocolError):
    """Closed before a byte of the answer came: the request may be sent again if idempotent."""


KEEPALIVE_EXPIRY = 4.0
"""Seconds an idle connection is kept: under the 5 s after which uvicorn (and so `lgsp serve`)
closes one, so that a call rarely meets a close in flight, which only an idempotent call may
survive (by being sent again)."""


class Http1Pool:
    """Keep-alive connections to one origin (`host`, `port`), at most `max_connections`."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        max_connections: int = 100,
        keepalive_expiry: float = KEEPALIVE_EXPIRY,
    ) -> None:
        self.host = host
        self.port = port
        self._max = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._idle: deque[_Connection] = deque()
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def request(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        *,
        connect: float | None,
        read: float | None,
        pool: float | None,
        max_body: int,
    ) -> Answer:
        """`method target` with `headers` (`Host` among them) and `body`; `target` is the
        encoded path and query. Raises httpx's exceptions, or `TooLarge`."""
        lines = [f"{method} {target} HTTP/1.1".encode()]
        for name, value in headers:
            if name.lower() in SET_HERE:
                continue
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise httpx.LocalProtocolError(f"header {name!r} holds a line break")
            lines.append(f"\r\n{name}: {value}".encode("latin-1"))
        if body or method not in NO_BODY_EXPECTED:
            lines.append(f"\r\nContent-Length: {len(body)}".encode())
        lines.append(b"\r\n\r\n")
        lines.append(body)
        return await self.send(
            b"".join(lines), method, connect=connect, read=read, pool=pool, max_body=max_body
        )

    async def send(
        self,
        message: bytes,
        method: str,
        *,
        connect: float | None,
        read: float | None,
        pool: float | None,
        max_body: int,
    ) -> Answer:
        """A request rendered already (`message`: its request line, header fields, blank line
        and body, as `request` renders them; `method` is its method), its answer read."""
        for attempt in (1, 2):
            # An idle connection is taken without a coroutine of its own: the usual case.
            connection = self._idle_connection()
            reused = connection is not None
            if connection is None:
                connection, reused = await self._acquire(connect, pool)
            try:
                answer = await connection.exchange(message, max_body=max_body, read_timeout=read)
            except _Disconnected:
                self._release(connection)
                if attempt == 1 and reused and method in IDEMPOTENT:
                    continue  # the peer closed an idle connection as we used it: once more
                raise
            except BaseException:
                connection.close()
                self._release(connection)
                raise
            self._release(connection)
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _idle_connection(self) -> _Connection | None:
        """The most recently used idle connection still open and within its expiry (the
        likeliest to be alive), those past it closed; None when there is none."""
        if not self._idle:
            return None
        now = asyncio.get_running_loop().time()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < self._keepalive_expiry:
                return connection
            self._drop(connection)
        return None

    async def _acquire(self, connect: float | None, pool: float | None) -> tuple[_Connection, bool]:
        loop = asyncio.get_running_loop()
        while True:
            connection = self._idle_connection()
            if connection is not None:
                return connection, True
            if self._closed:
                raise httpx.ConnectError("the client is closed")
            if self._open < self._max:
                break
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(pool):
                    await waiter
            except TimeoutError:
                raise httpx.PoolTimeout("no free connection in time") from None
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._open += 1
        try:
            async with asyncio.timeout(connect):
                _, connection = await loop.create_connection(
                    lambda: _Connection(loop), self.host, self.port
                )
        except BaseException as error:
            self._open -= 1
            self._wake_one()
            where = f"{self.host}:{self.port}"
            if isinstance(error, TimeoutError):
                raise httpx.ConnectTimeout(f"could not connect to {where} in time") from None
            if isinstance(error, OSError):
                raise httpx.ConnectError(f"{where}: {error}") from None
            raise
        return connection, False

    def _release(self, connection: _Connection) -> None:
        if connection.reusable and not self._closed:
            connection.idle_since = asyncio.get_running_loop().time()
            self._idle.append(connection)
        else:
            self._drop(connection)
        self._wake_one()

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._open -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._drop(self._idle.pop())


SET_HERE = frozenset({"content-length", "transfer-encoding"})
"""Headers this client writes itself: the body always goes whole, with its length."""
NO_BODY_EXPECTED = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})


class Http1Transport(httpx.AsyncBaseTransport):
    """httpx's transport on `Http1Pool`s, one per origin; `https://` (and `HEAD`, whose answer
    this parser cannot delimit) go through aiohttp's pool instead."""

    def __init__(
        self, *, max_connections: int = 100, keepalive_expiry: float = KEEPALIVE_EXPIRY
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._pools: dict[tuple[str, int], Http1Pool] = {}
        self._other: AiohttpTransport | None = None

    def pool(self, host: str, port: int) -> Http1Pool:
        """The pool for `http://host:port`, opened on first use."""
        found = self._pools.get((host, port))
        if found is None:
            found = self._pools[(host, port)] = Http1Pool(
                host,
                port,
                max_connections=self._max_connections,
                keepalive_expiry=self._keepalive_expiry,
            )
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http" or request.method == "HEAD":
            if self._other is None:
                # Imported here: aiohttp is a tenth of the bus's start-up, and most buses
                # reach no system over https.
                from lgsp.routing.aiohttp_transport import AiohttpTransport

                self._other = AiohttpTransport(
                    max_connections=self._max_connections,
                    keepalive_expiry=self._keepalive_expiry,
                )
            return await self._other.handle_async_request(request)
        timeouts = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            answer = await self.pool(url.host, url.port or 80).request(
                request.method,
                url.raw_path.decode("ascii"),
                request.headers.multi_items(),
                body,
                connect=timeouts.get("connect"),
                read=timeouts.get("read"),
                pool=timeouts.get("pool"),
                max_body=MAX_BODY,
            )
        except TooLarge:
            raise httpx.RemoteProtocolError(
                f"the answer is larger than {MAX_BODY} bytes", request=request
            ) from None
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": b"HTTP/1.1"},
            request=request,
        )

    async def aclose(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self._other is not None:
            await self._other.aclose()


MAX_BODY = 64 * 1024 * 1024
"""The largest answer read through httpx's API (`HttpTransport` sets its own, smaller bound)."""
