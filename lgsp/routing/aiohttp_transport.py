"""An httpx transport that sends requests through aiohttp's client, for forwarding under load.

httpx stays the client API (the gateway, the peers and the tests speak `httpx.AsyncClient`); only
the connection pool underneath changes. httpcore's pool loses most of its throughput when
32 requests share it at once (DESIGN.md §3: ~250 req/s forwarded, against ~2.5k through aiohttp's
pool; `benchmarks/transports.py` measures both). `AiohttpTransport` keeps httpx's contract:

- timeouts come from the request's `timeout` extension (so `httpx.Timeout` on the client or per
  request still applies): `connect` bounds connecting, `pool` bounds waiting for a free
  connection, `read` bounds each read; aiohttp has no write timeout;
- failures raise httpx's exceptions (`ConnectError`, `ConnectTimeout`, `ReadTimeout`,
  `RemoteProtocolError`, …), so callers map them as they would httpcore's;
- the body is streamed (`client.stream(...)` reads it chunk by chunk, and may stop early), and
  left encoded: httpx decodes `Content-Encoding` itself;
- no redirects, cookies, proxies from the environment, or headers of aiohttp's own: the request
  goes out with exactly the headers httpx built.

respx's default mocker patches httpcore and does not see this transport; use
`respx.mock(using="httpx")`, which mocks any transport of an `httpx.AsyncClient`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from yarl import URL

CHUNK_SIZE = 64 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One aiohttp `ClientSession` (and its pool), opened on first use in the running loop."""

    def __init__(
        self, *, max_connections: int = 100, keepalive_expiry: float | None = 15.0
    ) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=0,
                keepalive_timeout=self._keepalive_expiry,
                force_close=self._keepalive_expiry == 0,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),
                auto_decompress=False,
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._open()
        timeouts = request.extensions.get("timeout", {})
        headers = [
            (name, value)
            for name, value in request.headers.multi_items()
            if name.lower() != "transfer-encoding"  # the body is sent whole, with its length
        ]
        body = await request.aread()
        try:
            response = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                data=body or None,
                headers=headers,
                skip_auto_headers=("Accept", "Accept-Encoding", "User-Agent", "Content-Type"),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeouts.get("pool"),
                    sock_connect=timeouts.get("connect"),
                    sock_read=timeouts.get("read"),
                ),
            )
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise _as_httpx_error(error, request) from error
        return httpx.Response(
            response.status,
            headers=list(response.raw_headers),
            stream=_ResponseStream(response, request),
            extensions={
                "http_version": f"HTTP/{response.version.major}.{response.version.minor}".encode()
                if response.version
                else b"HTTP/1.1",
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
            request=request,
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(CHUNK_SIZE):
                yield chunk
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise _as_httpx_error(error, self._request) from error

    async def aclose(self) -> None:
        # Fully read: the connection goes back to the pool; otherwise it is closed.
        self._response.release()


def _as_httpx_error(error: Exception, request: httpx.Request) -> httpx.TransportError:
    """aiohttp's failure as the httpx exception httpcore would have raised for it."""
    message = str(error) or type(error).__name__
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        # aiohttp's `connect` also covers the wait for a pooled connection.
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(error, TimeoutError):  # aiohttp's SocketTimeoutError: a read took too long
        return httpx.ReadTimeout(message, request=request)
    if isinstance(error, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message, request=request)
    if isinstance(error, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError)):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(error, aiohttp.ClientResponseError):  # a malformed status line or headers
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)
