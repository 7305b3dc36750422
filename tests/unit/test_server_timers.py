"""The keep-alive timer of `lgsp serve`'s protocol: one per connection, not one per answer;
and no bookkeeping per request that has nothing to do.

uvicorn arms a timer after every answer and cancels it at the next read: a timer made and
dropped per request (issue 21). The protocol keeps one, which finds the connection busy, or
idle for less than the timeout, when it fires; what a client sees stays uvicorn's: an idle
connection is closed `timeout_keep_alive` after its last answer. A clock of the test's own
fires the timers, so no test waits for one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

from starlette.types import Receive, Scope, Send
from uvicorn.config import Config
from uvicorn.server import ServerState

from lgsp.server import BoundedHttpToolsProtocol
from tests.fixtures.protocol import GET, LIMITS, Transport, answer

KEEP_ALIVE = 5


class Timer:
    def __init__(self, when: float, callback: Callable[..., object], args: tuple[Any, ...]):
        self.when = when
        self.callback = callback
        self.args = args
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock:
    """The running loop, but its time and timers are the test's: `advance` fires them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.now = 1000.0
        self.timers: list[Timer] = []

    def time(self) -> float:
        return self.now

    def call_later(self, delay: float, callback: Callable[..., object], *args: Any) -> Timer:
        return self.call_at(self.now + delay, callback, *args)

    def call_at(self, when: float, callback: Callable[..., object], *args: Any) -> Timer:
        timer = Timer(when, callback, args)
        self.timers.append(timer)
        return timer

    def advance(self, seconds: float) -> None:
        self.now += seconds
        while due := [t for t in self.timers if not t.cancelled and t.when <= self.now]:
            timer = min(due, key=lambda t: t.when)
            timer.cancel()  # fired: done with
            timer.callback(*timer.args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loop, name)


class Connection:
    def __init__(self, app: Any) -> None:
        config = Config(app, log_config=None, access_log=False, timeout_keep_alive=KEEP_ALIVE)
        config.load()
        self.clock = Clock(asyncio.get_running_loop())
        self.protocol = BoundedHttpToolsProtocol(
            config,
            ServerState(),
            {},
            self.clock,  # type: ignore[arg-type]
            limits=LIMITS,
        )
        self.transport = Transport()
        self.protocol.connection_made(self.transport)

    async def call(self) -> None:
        """One request, and the loop turns its answer takes."""
        self.protocol.data_received(GET)
        await settle()

    def idle(self, seconds: float) -> bool:
        """Whether the connection is still open after `seconds` without input."""
        self.clock.advance(seconds)
        return not self.transport.closed

    def answers(self) -> int:
        return sum(write.startswith(b"HTTP/1.1 200 ") for write in self.transport.writes)


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


def test_a_connection_arms_one_keep_alive_timer_for_many_answers() -> None:
    async def scenario() -> tuple[int, int]:
        connection = Connection(answer)
        for _ in range(10):
            await connection.call()
            connection.clock.advance(0.1)
        return connection.answers(), len(connection.clock.timers)

    answers, timers = asyncio.run(scenario())

    assert answers == 10
    assert timers == 2  # the header timer, armed as the connection is made; the keep-alive one


def test_an_idle_connection_is_closed_a_keep_alive_timeout_after_its_last_answer() -> None:
    async def scenario() -> list[bool]:
        connection = Connection(answer)
        await connection.call()
        open_ = [connection.idle(KEEP_ALIVE - 2)]
        await connection.call()  # answered 2 s before the first answer's deadline
        open_ += [connection.idle(KEEP_ALIVE - 1), connection.idle(1.5)]
        return open_

    assert asyncio.run(scenario()) == [True, True, False]


def test_a_request_under_way_when_the_timer_fires_keeps_the_connection_open() -> None:
    async def scenario() -> list[bool]:
        release = asyncio.Event()

        async def slow_answer(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["path"] == "/slow":
                await release.wait()
            await answer(scope, receive, send)

        connection = Connection(slow_answer)
        await connection.call()
        connection.clock.advance(KEEP_ALIVE - 1)
        connection.protocol.data_received(GET.replace(b"/ ", b"/slow "))
        await settle()
        open_ = [connection.idle(KEEP_ALIVE * 3)]  # still answering: no keep-alive limit
        release.set()
        await settle()
        open_ += [connection.idle(KEEP_ALIVE - 1), connection.idle(1.5)]
        return open_

    assert asyncio.run(scenario()) == [True, True, False]


def test_a_lost_connection_leaves_no_timer_armed() -> None:
    """An armed timer holds the protocol, and what it refers to, until it fires."""

    async def scenario() -> list[Timer]:
        connection = Connection(answer)
        await connection.call()
        connection.protocol.connection_lost(ConnectionResetError())  # uvicorn's own: `exc` None
        return connection.clock.timers

    assert [timer.cancelled for timer in asyncio.run(scenario())] == [True, True]


IDLE_BOOKKEEPING = {
    "_unset_keepalive_if_required",
    "_cancel_head_timer",
    "_cancel_body_timer",
    "resume_reading",
}
"""What a request read in one chunk, and answered at once, has nothing to do for: no timer of
its head or body armed, reading never paused. Each was a call per request (issue 21)."""


def test_a_request_read_whole_calls_no_bookkeeping_with_nothing_to_do() -> None:
    called: set[str] = set()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            called.add(frame.f_code.co_name)

    async def scenario() -> int:
        connection = Connection(answer)
        await connection.call()  # the first: what a connection does once
        sys.setprofile(profile)
        try:
            for _ in range(3):
                await connection.call()
        finally:
            sys.setprofile(None)
        return connection.answers()

    assert asyncio.run(scenario()) == 4
    assert "on_headers_complete" in called  # the profile saw the protocol at work
    assert called & IDLE_BOOKKEEPING == set()


def test_an_invalid_request_is_answered_400_and_the_connection_closed() -> None:
    async def scenario() -> Transport:
        connection = Connection(answer)
        connection.protocol.data_received(b"GET / HTTP/1.1\r\nHost x\r\n\r\n")
        await settle()
        return connection.transport

    transport = asyncio.run(scenario())

    assert transport.writes[0].startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert transport.writes[0].endswith(b"Invalid HTTP request received.")
    assert transport.closed
