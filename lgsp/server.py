"""uvicorn's httptools protocol with the limits it lacks, for every `lgsp serve` form.

httptools (llhttp) buffers a header block without bound, complete or not, and uvicorn gives a
connection no time limit for sending one and opens as many as it is offered (h11 bounds only an
incomplete block, at 16 KiB). So an unauthenticated client could grow the process by gigabytes
with one header that never ends, or hold every descriptor with headers sent a byte at a time
(SECURITY-PROBE-2026-12 F4, F8). This protocol bounds the header block in bytes (431) and in
time (408), closes a connection whose body comes slower than a minimum rate (the token
endpoint reads its form before it knows the client), caps the connections (the one waiting
longest for a header block makes room for a new one, else 503), and ends a keep-alive
connection after a number of requests. The limits are settings (`LGSP_SERVER_*`);
`EntryMiddleware` still gives a complete block its 431 problem with the request id.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from asyncio import TimerHandle
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar

import httptools
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.server import ServerState

from lgsp.connection import DROP
from lgsp.logging import ACCESS_LOG
from lgsp.settings import Settings

if TYPE_CHECKING:  # the refusals import it: `lgsp serve` answers before the bus's frameworks
    from lgsp.errors import LgspError

logger = logging.getLogger(__name__)

LINGER_SECONDS = 1.0
"""How long a refused connection's further input is read and dropped before it is closed: a
close with unread input resets the connection (RFC 9112 §9.6), and the client would lose the
answer that says why."""
LINGER_BYTES = 1024 * 1024
"""Input dropped while lingering before the connection is closed all the same (a flood)."""
MAX_LINGERING = 64
"""Refused connections lingering at once; more are closed at once. Those refused for the cap
come at the rate of new connections, and each holds a descriptor while it lingers."""
DESCRIPTORS_KEPT = 256
"""Descriptors left to the process beside its client connections: database files and
connections, the pools to upstream systems and NDXP, logs."""


@dataclasses.dataclass(frozen=True)
class ServerLimits:
    header_max_bytes: int
    header_timeout_seconds: float
    max_connections: int
    keepalive_max_requests: int
    body_timeout_seconds: float
    body_min_rate: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ServerLimits:
        """Each limit from the setting of its name with `server_` before it."""
        return cls(
            **{f.name: getattr(settings, f"server_{f.name}") for f in dataclasses.fields(cls)}
        )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """One connection: its header block is bounded from its first byte to its last."""

    lingering: ClassVar[int] = 0
    """Refused connections of this process still reading and dropping input."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: ServerLimits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.access_logger = ACCESS_LOG  # type: ignore[assignment]  # its line without `logging`
        self.limits = limits
        self._in_head = True
        self._head_bytes = 0
        self._waiting_since = self._head_since = self.loop.time()
        self._head_timer: TimerHandle | None = None
        self._in_body = False
        self._body_since = 0.0
        self._body_bytes = 0
        self._body_timer: TimerHandle | None = None
        self._requests = 0
        self._refused = False
        self._idle_since: float | None = None
        self._run_app = functools.partial(_run_app, self.app)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._held = _HeldHead(transport)
        self._head_timer = self.loop.call_later(
            self.limits.header_timeout_seconds, self._head_timed_out
        )
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            BoundedHttpToolsProtocol.lingering -= 1
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self.timeout_keep_alive_task is not None:  # uvicorn's own call below no longer does
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:  # lingering: read and dropped
            self._head_bytes += len(data)
            if self._head_bytes > LINGER_BYTES:
                self.transport.close()
            return
        if self._in_head:
            if not self._head_bytes:  # the first byte of a keep-alive connection's next head
                self._head_since = self.loop.time()
            self._head_bytes += len(data)
        # uvicorn's `data_received`, its `_unset_keepalive_if_required` inlined: a method call
        # fewer, and no `super()`, per read (~2k instructions a call, issue 21).
        self._idle_since = None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        if self._in_body and self._body_timer is None:  # a body that spans reads
            self._arm_body_timer()
        # Counted before llhttp parses it, checked after: a chunk that completes the head and
        # carries a body is not counted (on_headers_complete resets the count).
        if not self._in_head or not self._head_bytes:
            return
        if self._head_bytes > self.limits.header_max_bytes:
            from lgsp.errors import RequestHeadersTooLarge

            self._refuse(
                RequestHeadersTooLarge(
                    f"The request line and header fields may take at most "
                    f"{self.limits.header_max_bytes} bytes."
                )
            )
        elif self._head_timer is None:  # armed only for a head that spans chunks: most do not
            self._head_timer = self.loop.call_at(
                self._head_since + self.limits.header_timeout_seconds, self._head_timed_out
            )

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        if self._head_timer is not None:  # a head that spanned reads
            self._cancel_head_timer()
        self._in_body = True
        self._body_since = self.loop.time()
        self._body_bytes = 0
        super().on_headers_complete()
        self._requests += 1
        maximum = self.limits.keepalive_max_requests
        if maximum and self._requests >= maximum and self.cycle is not None:
            self.cycle.keep_alive = False  # answered with `Connection: close`, then closed

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """Run the app with the drop extension, the answer's head written with its first body
        part (`_run_app`, `_HeldHead`)."""
        cycle.transport = self._held  # type: ignore[assignment]
        run = self._run_app if app is self.app else functools.partial(_run_app, app)
        super()._start_asgi_task(cycle, run)

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_body = False
        if self._body_timer is not None:  # a body that spanned reads
            self._cancel_body_timer()
        self._in_head = True
        self._waiting_since = self.loop.time()

    def _unset_keepalive_if_required(self) -> None:
        """Input came (or the connection is refused): not idle. uvicorn cancels its keep-alive
        timer here, at every read, and arms a new one after every answer: a timer made and
        cancelled per request (~6k instructions, issue 21). The one timer a connection keeps
        finds it busy when it fires."""
        self._idle_since = None

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timer armed once per idle spell rather than per
        answer: an idle connection is closed `timeout_keep_alive` after its last answer, as by
        uvicorn. A head still held (an answer to HEAD has no body part to write) goes out now."""
        self._held.release()
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        if self.flow.read_paused:
            self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_at(
                self._idle_since + self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def timeout_keep_alive_handler(self) -> None:
        """Close the connection if it has been idle `timeout_keep_alive` since its last answer;
        if it answered since the timer was armed, wait for that answer's deadline instead."""
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None:  # a request under way: its answer arms the timer again
            return
        deadline = idle_since + self.timeout_keep_alive
        if self.loop.time() < deadline:
            self.timeout_keep_alive_task = self.loop.call_at(
                deadline, self.timeout_keep_alive_handler
            )
            return
        super().timeout_keep_alive_handler()

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _arm_body_timer(self) -> None:
        """Apache's `mod_reqtimeout` rule: the body's time grows with what has arrived."""
        allowed = self.limits.body_timeout_seconds + self._body_bytes / self.limits.body_min_rate
        self._body_timer = self.loop.call_at(self._body_since + allowed, self._body_timed_out)

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if not self._in_body or self.transport.is_closing():
            return
        if self.flow.read_paused or (
            self.cycle is not None and self.cycle.waiting_for_100_continue
        ):
            # The app has not read what came, or not asked for the body yet: not the client's delay.
            self._body_since = self.loop.time()
            self._body_bytes = 0
        elif self.loop.time() >= self._body_since + self.limits.body_timeout_seconds + (
            self._body_bytes / self.limits.body_min_rate
        ):
            logger.warning(
                "closed a connection from %s: its request body came slower than %d bytes/s",
                self.client,
                self.limits.body_min_rate,
            )
            self.transport.close()  # the app may be answering already: no 408 of our own
            return
        self._arm_body_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self._head_bytes == 0:
            self.transport.close()  # connected and silent: nothing to answer
            return
        from lgsp.errors import RequestHeaderTimeout

        self._refuse(
            RequestHeaderTimeout(
                f"The request line and header fields must arrive within "
                f"{self.limits.header_timeout_seconds:g} s."
            )
        )

    def _idle(self) -> bool:
        """Waiting for a header block, with no request of this connection in the app."""
        return (
            self._in_head
            and not self._refused
            and not self.transport.is_closing()  # made room already: closed, not yet gone
            and (self.cycle is None or self.cycle.response_complete)
        )

    def _make_room(self) -> None:
        waiting = [
            connection
            for connection in self.connections
            if isinstance(connection, BoundedHttpToolsProtocol)
            and connection is not self
            and connection._idle()
        ]
        if waiting:
            oldest = min(waiting, key=lambda connection: connection._waiting_since)
            logger.warning(
                "%d connections open (LGSP_SERVER_MAX_CONNECTIONS): closed the one that had "
                "waited longest for a request",
                len(self.connections),
            )
            oldest.transport.close()
            return
        from lgsp.errors import ServerBusy

        self._refuse(
            ServerBusy(
                f"The server holds {self.limits.max_connections} connections, each with a "
                "request under way; try again shortly."
            )
        )

    def _refuse(self, error: LgspError) -> None:
        """Answer from the protocol itself (no request reached the app), then close."""
        from lgsp.errors import problem_body, problem_head

        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        self._head_bytes = 0
        self._cancel_head_timer()
        self._unset_keepalive_if_required()
        logger.warning("refused a connection from %s: %s", self.client, error.detail)
        body = problem_body(error, instance="")
        head = [STATUS_LINE[error.status]]
        for name, value in [
            *self.server_state.default_headers,
            *problem_head(body),
            (b"connection", b"close"),
        ]:
            head += [name, b": ", value, b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", body]))
        BoundedHttpToolsProtocol.lingering += 1
        if BoundedHttpToolsProtocol.lingering > MAX_LINGERING:
            self.transport.close()
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def _run_app(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
    """`app` as a connection's cycles call it: the drop extension (`lgsp.connection`) offered
    in its scope, and a `send` that takes the drop message and holds the answer's head for its
    first body part (`_send`). A plain call that returns the app's own coroutine: no frame of
    ours while the app runs."""
    scope.setdefault("extensions", {})[DROP] = {}
    # uvicorn's `RequestResponseCycle.run_asgi` hands the app the cycle's bound `send`. The
    # partial refers to the cycle, the cycle not to it: no reference cycle to collect.
    return app(scope, receive, functools.partial(_send, send.__self__))  # type: ignore[attr-defined]


def _send(cycle: RequestResponseCycle, message: Message) -> Coroutine[Any, Any, None]:
    """uvicorn's `send` itself (no coroutine of ours around it), or the drop."""
    kind = message["type"]
    if kind == "http.response.start":
        if not cycle.response_started:
            cycle.transport.hold()  # type: ignore[attr-defined]  # a `_HeldHead`
    elif kind == DROP:
        return _drop(cycle)
    return RequestResponseCycle.send(cycle, message)  # type: ignore[arg-type]


async def _drop(cycle: RequestResponseCycle) -> None:
    """Close the connection where the answer stands: nothing written, or a cut body (its head,
    if it came, first)."""
    cycle.keep_alive = False
    cycle.disconnected = True  # writes nothing more; uvicorn logs no "incomplete response"
    cycle.transport.close()


class _HeldHead:
    """A connection's transport for its cycles: uvicorn writes an answer's status line and
    header fields at `http.response.start` and its body at the next message, two system calls
    (and two packets) where one will do (issue 21). After `hold`, the next write (the head)
    waits for the one after it (the first body part) and both go out in one. Closing, or
    `release` once the answer is complete (an answer to HEAD has no body part to write),
    writes a head still held first: an answer cut short still ends as it did (its head sent,
    then the close). One per connection: a holder made per request, with a coroutine of ours
    around each of uvicorn's `send`s, cost ~7k instructions a call more."""

    __slots__ = ("_head", "_holding", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._holding = False
        self._head: bytes | None = None

    def hold(self) -> None:
        self._holding = True

    def write(self, data: bytes) -> None:
        if self._holding:
            self._holding = False
            self._head = data
        elif self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head + data)
        else:
            self._transport.write(data)

    def release(self) -> None:
        self._holding = False
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self.release()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the bus: this protocol with the settings' limits."""
    limits = ServerLimits.from_settings(settings)
    limits = _within_descriptor_limit(limits)
    return {
        # A partial of a module-level class: `--workers` pickles it into each worker.
        "http": functools.partial(BoundedHttpToolsProtocol, limits=limits),
        "timeout_keep_alive": settings.server_keepalive_timeout_seconds,
        "ws": "none",  # the bus serves no WebSocket: uvicorn would import wsproto at each start
        **proxy_options(settings),
    }


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy-header options: a header a caller sets names no client unless the
    connection comes from a proxy the operator named (`LGSP_FORWARDED_ALLOW_IPS`)."""
    allowed = settings.forwarded_allow_ips.strip()
    if not allowed:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": allowed}


def _within_descriptor_limit(limits: ServerLimits) -> ServerLimits:
    """Raise the process's soft descriptor limit toward its hard one, as far as the connection
    cap needs; if even the hard limit is lower, lower the cap so that a flood of connections
    finds the cap before the descriptor table is full."""
    try:
        import resource
    except ImportError:  # Windows: no RLIMIT_NOFILE
        return limits
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limits.max_connections + DESCRIPTORS_KEPT
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if raised > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft != resource.RLIM_INFINITY and soft < wanted:
        cap = max(1, soft - DESCRIPTORS_KEPT)
        logger.warning(
            "the process may open %d descriptors: at most %d client connections "
            "(LGSP_SERVER_MAX_CONNECTIONS is %d)",
            soft,
            cap,
            limits.max_connections,
        )
        return dataclasses.replace(limits, max_connections=cap)
    return limits
