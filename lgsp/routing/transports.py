"""How a gateway reaches the system that owns a service: in-process, or over HTTP.

Both speak `SystemRequest` → `SystemResponse` and map their failures to the same problems
(502 `UPSTREAM_UNAVAILABLE`, 504 `UPSTREAM_TIMEOUT`). The in-process transport calls a mounted
mock's ASGI app directly — no sockets and no HTTP client machinery, which on the hot path cost
more than the mock itself (DESIGN.md §3, "Forwarding over HTTP must be fast").
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote, urlencode

import httpx
from starlette.types import ASGIApp, Message

from adapters.base import SystemRequest, SystemResponse
from kit.deadline import within
from lgsp.errors import UpstreamTimeout, UpstreamUnavailable
from lgsp.routing.http1 import NO_BODY_EXPECTED, SET_HERE, Http1Pool, Http1Transport, TooLarge

logger = logging.getLogger(__name__)

MAX_UPSTREAM_BODY = 16 * 1024 * 1024
"""The most an upstream's answer may be, before and after its `Content-Encoding` is decoded."""
MAX_CODINGS = 3
"""The most content codings an answer may stack (`gzip, gzip, ...`): each costs a decoding."""
INLINE_DECODED = 256 * 1024
"""The most an answer decodes to on the event loop; a larger one is decoded again in a worker
thread (zlib lets go of the GIL), as a bomb's 16 MiB took 80 ms of the loop."""
MAX_UPSTREAM_CONNECTIONS = 100
PATH_SAFE = "/:@!$&'()*+,;=~"
"""Characters a path keeps as they are (RFC 3986 `pchar` and `/`, less `%`)."""


class SystemTransport(Protocol):
    async def send(
        self, request: SystemRequest, extra_headers: Mapping[str, str] | None = None
    ) -> SystemResponse:
        """`extra_headers`: the bus's own (request id, origin, idempotency key), sent with the
        adapter's and over any of the same name; beside the request rather than in a copy of
        it, which the hop would build on every call only to merge them (issue 21)."""


@runtime_checkable
class OpensLate(Protocol):
    """An embedded system's app that may still be opening when it is first called (the bus
    opens its systems in the background, `lgsp.composition.DeferredSystems`)."""

    async def until_open(self) -> None: ...


class DirectAnswer(Protocol):
    """What an embedded system's plain function answers: all the hop keeps of an answer."""

    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def media_type(self) -> str: ...
    @property
    def document(self) -> Any:
        """The JSON value `body` renders, or None: handed to the adapter (`SystemResponse`)."""


DirectCall = Callable[[str, str], DirectAnswer | None]
"""A plain function an embedded system offers beside its ASGI app, for requests it answers from
their method and path alone (a lookup in memory): the answer its app would give, else None."""


class InProcessTransport:
    """Calls an ASGI app in this process, as a server would, with a timeout and a size bound.

    `state` is what the app's lifespan yielded (the caller runs the lifespan), handed to every
    request as ASGI lifespan state, so a mock behaves the same here as under uvicorn.

    `direct`, when the system offers one, is asked first: a body-less request it answers costs
    a function call instead of an ASGI call through the app's stack (issue 21: a sixth of the
    hop's CPU). It runs synchronously, so no timeout can apply to it; what it raises is the
    same 502 as what the app raises.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        system: str,
        host: str,
        timeout: float,
        state: dict[str, Any] | None = None,
        direct: DirectCall | None = None,
    ) -> None:
        self._app = app
        self._system = system
        self._host = host.encode()
        self._timeout = timeout
        self._state = state or {}
        self._direct = direct
        opening: object = app
        self._opening = opening if isinstance(opening, OpensLate) else None

    async def send(
        self, request: SystemRequest, extra_headers: Mapping[str, str] | None = None
    ) -> SystemResponse:
        if self._direct is not None and not request.body:
            try:
                answer = self._direct(request.method, request.path)
            except Exception:
                logger.warning("system %s failed to answer", self._system, exc_info=True)
                raise UpstreamUnavailable(f"System {self._system} failed to answer.") from None
            if answer is not None:
                if len(answer.body) > MAX_UPSTREAM_BODY:
                    raise UpstreamUnavailable(f"System {self._system} answered too much.")
                # By position: `document` as a keyword cost a third more (issue 21).
                return SystemResponse(
                    answer.status, answer.body, answer.media_type, answer.document
                )
        headers = [(b"host", self._host)]
        given = _headers(request, extra_headers)
        headers += [(k.lower().encode(), v.encode()) for k, v in given.items()]
        if request.body:
            headers.append((b"content-length", str(len(request.body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": "http",
            "path": request.path,
            "raw_path": request.path.encode(),
            "query_string": urlencode(request.query).encode(),
            "root_path": "",
            "headers": headers,
            "client": None,
            "server": None,
            "state": dict(self._state),  # what its lifespan yielded, copied per request
        }
        body_sent = False
        status, content_type, chunks, size = 500, None, [], 0

        async def receive() -> Message:
            nonlocal body_sent
            if body_sent:
                return {"type": "http.disconnect"}
            body_sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        async def send(message: Message) -> None:
            nonlocal status, content_type, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"content-type":
                        content_type = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size > MAX_UPSTREAM_BODY:
                    raise UpstreamUnavailable(f"System {self._system} answered too much.")
                chunks.append(message.get("body", b""))

        if self._opening is not None:
            # The system's start-up is the bus's own, not an answer the system is slow to give:
            # under load it took longer than a short upstream timeout, and the call was a 504.
            await self._opening.until_open()
        try:
            # Not cancelled at the timeout: its transaction would be cut short (kit.deadline).
            await within(request.timeout or self._timeout, self._app(scope, receive, send))
        except TimeoutError:
            raise UpstreamTimeout(f"System {self._system} did not answer in time.") from None
        except UpstreamUnavailable:
            raise
        except Exception:
            # The caller sees only a 502; the cause is the operator's (masked, as every log).
            logger.warning("system %s failed to answer", self._system, exc_info=True)
            raise UpstreamUnavailable(f"System {self._system} failed to answer.") from None
        return SystemResponse(status=status, body=b"".join(chunks), content_type=content_type)


def http_client(base_url: str, *, timeout: float) -> httpx.AsyncClient:
    """The client for a system or a peer gateway at `base_url`: httpx on a lean HTTP/1.1 pool.

    httpcore's pool, httpx's default, forwards a tenth of what the upstream serves at
    32 connections; aiohttp's, under the same `httpx.AsyncClient`, three times more
    (`benchmarks/transports.py`), and `lgsp.routing.http1`'s pool more again, at a tenth of
    aiohttp's CPU per call. `HttpTransport` calls that pool directly, past httpx; `https://`
    goes through aiohttp. The caller closes the client.

    The client keeps no cookies: it is shared by every caller of the gateway, so a cookie one
    call's answer set would otherwise ride along on every later caller's request.
    """
    return PooledClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout),
        transport=Http1Transport(max_connections=MAX_UPSTREAM_CONNECTIONS),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )


class PooledClient(httpx.AsyncClient):
    """httpx's client on an `Http1Transport`, which `HttpTransport` calls without httpx."""

    def __init__(self, *, transport: Http1Transport, **options: Any) -> None:
        super().__init__(transport=transport, **options)
        self.pooled = transport


class HttpTransport:
    """A system reached at a URL (another process, or an integrator's real system).

    Over a `PooledClient` at an `http://` URL, a call goes straight to the client's HTTP/1.1
    pool with the headers httpx would have sent (issue 21: httpx's request, URL and header
    objects and its auth, redirect and cookie steps cost more CPU than the pool); any other
    client (a test's mock transport, the bus's own loopback) is called through httpx.
    """

    def __init__(
        self, client: httpx.AsyncClient, *, system: str, client_headers: bool = True
    ) -> None:
        """`client_headers=False`: over the pool, none of the client's default header fields
        (httpx's `Accept`, `Accept-Encoding`, `Connection`, `User-Agent`), only `Host` and the
        request's own: a peer gateway reads none of them, and parses, scans and journals each
        field it is sent (issue 21)."""
        self._client = client
        self._system = system
        # What `client.build_request` would merge in on every call, worked out once: it cost
        # half of the client's time on the hop (URL joining above all).
        self._base_url = str(client.base_url).rstrip("/") + "/"
        self._headers = client.headers
        self._timeout = client.timeout.as_dict()
        self._pool: Http1Pool | None = None
        base = client.base_url
        if isinstance(client, PooledClient) and base.scheme == "http" and base.host:
            self._pool = client.pooled.pool(base.host, base.port or 80)
            self._base_path = base.raw_path.decode("ascii").split("?", 1)[0].rstrip("/") + "/"
            # httpx's default headers (Accept, Accept-Encoding, User-Agent, ...) after `Host`,
            # as httpx orders them; the request's own replace any of the same name.
            self._fixed = [("Host", base.netloc.decode("ascii"))]
            if client_headers:
                self._fixed += list(client.headers.items())
            self._fixed_names = {name.lower() for name, _ in self._fixed}
            # Rendered once, as `Http1Pool.request` would render them, line breaks refused.
            self._fixed_head = _rendered_fields(self._fixed)
            self._connect = self._timeout["connect"]
            self._read = self._timeout["read"]
            self._pool_timeout = self._timeout["pool"]

    async def send(
        self, request: SystemRequest, extra_headers: Mapping[str, str] | None = None
    ) -> SystemResponse:
        """The adapter's request as built: the caller's own headers and token never cross."""
        given = _headers(request, extra_headers)
        pool = self._pool
        if pool is not None and request.method != "HEAD":
            # Rendered, sent and read here rather than in a coroutine of its own (issue 21).
            message = self._rendered(request, given)
            read = self._read if request.timeout is None else request.timeout
            try:
                answer = await pool.send(
                    message,
                    request.method,
                    connect=self._connect,
                    read=read,
                    pool=self._pool_timeout,
                    max_body=MAX_UPSTREAM_BODY,
                )
            except TooLarge:
                raise UpstreamUnavailable(f"System {self._system} answered too much.") from None
            except httpx.TimeoutException:
                raise UpstreamTimeout(f"System {self._system} did not answer in time.") from None
            except httpx.TransportError:
                raise UpstreamUnavailable(f"System {self._system} could not be reached.") from None
            content_type = answer.content_type
            body = answer.body
            if answer.codings:  # decoded as httpx would: the gateway passes on what it meant
                codings = [c for v in answer.codings for c in v.decode("latin-1").split(",")]
                body = await _decoded(self._system, codings, body)
            return SystemResponse(
                status=answer.status,
                body=body,
                content_type=None if content_type is None else content_type.decode("latin-1"),
            )
        headers = self._headers.copy()
        headers.update(given)
        outgoing = httpx.Request(
            request.method,
            # Paths are decoded text: encoded again, so that a `?`, `#` or `%` in a segment
            # stays in its segment.
            self._base_url + quote(request.path.lstrip("/"), safe=PATH_SAFE),
            params=list(request.query) or None,
            content=request.body or None,
            headers=headers,
            extensions={"timeout": _timeouts(self._timeout, request.timeout)},
        )
        try:
            response = await self._client.send(outgoing, stream=True)
            try:
                chunks, size = [], 0
                # Raw, not httpx's decoded bytes: its decoders inflate a chunk whole, however
                # much it expands to (security finding 5); `_decoded` bounds what they make.
                # Its stream, not `aiter_raw`, which refuses an answer a test's transport
                # built whole (httpx counts that as read already).
                stream = response.stream
                raw = stream if isinstance(stream, httpx.AsyncByteStream) else response.aiter_raw()
                async for chunk in raw:
                    size += len(chunk)
                    if size > MAX_UPSTREAM_BODY:
                        raise UpstreamUnavailable(f"System {self._system} answered too much.")
                    chunks.append(chunk)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"System {self._system} did not answer in time.") from None
        except httpx.TransportError:
            raise UpstreamUnavailable(f"System {self._system} could not be reached.") from None
        body = b"".join(chunks)
        codings = response.headers.get_list("content-encoding", split_commas=True)
        if codings:
            body = await _decoded(self._system, codings, body)
        return SystemResponse(
            status=response.status_code,
            body=body,
            content_type=response.headers.get("content-type"),
        )

    def _rendered(self, request: SystemRequest, given: Mapping[str, str]) -> bytes:
        """The request rendered in one string (the fixed fields rendered once), for the pool
        to write: what `Http1Pool.request` sends for the same fields, for a third of its CPU
        on the hop (issue 21). A line break in a field is refused before a byte is sent."""
        path = request.path.lstrip("/")
        # A path of plain characters is its own encoding: `quote` only for one that is not.
        if not _PLAIN_PATH.fullmatch(path):
            path = quote(path, safe=PATH_SAFE)
        target = self._base_path + path
        if request.query:
            target += "?" + urlencode(request.query)
        head = self._fixed_head
        if given:
            lines = []
            replaced = False
            for name, value in given.items():
                lowered = name.lower()
                if lowered in SET_HERE:
                    continue
                # Refused as the pool refuses it (`httpx.LocalProtocolError`), before a byte
                # is sent. `in` finds a character with memchr: counting them in the rendered
                # fields went through every character of the token, 9k instructions a call.
                if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                    raise UpstreamUnavailable(f"System {self._system} could not be reached.")
                replaced = replaced or lowered in self._fixed_names
                lines.append(f"\r\n{name}: {value}")
            if replaced:  # the request's own field of a name the client sets replaces it
                names = {name.lower() for name in given}
                kept = [field for field in self._fixed if field[0].lower() not in names]
                head = _rendered_fields(kept)
            head += "".join(lines)
        body = request.body
        method = request.method
        if body or method not in NO_BODY_EXPECTED:
            head += f"\r\nContent-Length: {len(body)}"
        message = f"{method} {target} HTTP/1.1{head}\r\n\r\n".encode("latin-1")
        return message + body if body else message


_PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*")
"""A path `quote(path, safe=PATH_SAFE)` leaves as it is (unreserved characters and `/`)."""


def _rendered_fields(fields: Iterable[tuple[str, str]]) -> str:
    """Header fields as `Http1Pool.request` writes them (each after a CR LF), less those it
    writes itself; a line break in a name or value refused as it refuses one."""
    rendered = ""
    for name, value in fields:
        if name.lower() in SET_HERE:
            continue
        if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
            raise httpx.LocalProtocolError(f"header {name!r} holds a line break")
        rendered += f"\r\n{name}: {value}"
    return rendered


def _headers(request: SystemRequest, extra: Mapping[str, str] | None) -> Mapping[str, str]:
    """The request's headers and then `extra`, the later of two of the same name kept."""
    return {**request.headers, **extra} if extra else request.headers


class _TooLarge(Exception):
    """A coding decoded past the bound it was given."""


class _Malformed(Exception):
    """A body not in the coding its answer names."""


async def _decoded(system: str, codings: Iterable[str], body: bytes) -> bytes:
    """`body` decoded by the `Content-Encoding` values `codings`, as httpx's decoders would
    (gzip, deflate raw or zlib-wrapped, identity; a coding it does not know is left as is),
    with what each step makes bounded by `MAX_UPSTREAM_BODY` (security finding 5: httpx
    inflated a 1.5 MB answer to 1.5 GiB before the size check, on the loop).

    A small answer is decoded here; one that decodes past `INLINE_DECODED` again in a thread.
    """
    names = [name.strip().lower() for name in codings]
    names = [name for name in names if name]
    if len(names) > MAX_CODINGS:
        raise UpstreamUnavailable(f"System {system} encoded its answer too many times.")
    try:
        try:
            return _decode(names, body, INLINE_DECODED)
        except _TooLarge:
            return await asyncio.to_thread(_decode, names, body, MAX_UPSTREAM_BODY)
    except _TooLarge:
        raise UpstreamUnavailable(f"System {system} answered too much.") from None
    except _Malformed:
        raise UpstreamUnavailable(
            f"System {system} sent a body it did not encode as it said."
        ) from None


def _decode(codings: list[str], body: bytes, limit: int) -> bytes:
    """`body` decoded by each of `codings`, the last applied first; `_TooLarge` as soon as a
    step makes more than `limit` bytes, which is all it is let make (zlib's `max_length`)."""
    for coding in reversed(codings):
        if coding == "gzip":
            body = _inflate(zlib.MAX_WBITS | 16, body, limit)
        elif coding == "deflate":  # zlib-wrapped as RFC 9110 says, or raw as some servers send
            try:
                body = _inflate(zlib.MAX_WBITS, body, limit)
            except _Malformed:
                body = _inflate(-zlib.MAX_WBITS, body, limit)
    return body


def _inflate(wbits: int, data: bytes, limit: int) -> bytes:
    """`data` inflated, at most `limit` bytes of it; what follows a complete stream ignored,
    and a truncated one kept as far as it goes, as httpx does."""
    inflater = zlib.decompressobj(wbits)
    try:
        decoded = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise _Malformed from None
    if len(decoded) > limit or inflater.unconsumed_tail:
        raise _TooLarge
    return decoded


def _timeouts(given: dict[str, float | None], read: float | None) -> dict[str, float | None]:
    """The client's timeouts, with the read timeout a request sets (`SystemRequest.timeout`)."""
    return given if read is None else {**given, "read": read}
