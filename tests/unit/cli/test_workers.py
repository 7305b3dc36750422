"""`lgsp serve --workers N`: a listening socket for each worker (`lgsp.cli._workers`)."""

from __future__ import annotations

import signal
import socket
from typing import Any

import pytest
from uvicorn.config import Config

from lgsp.cli import _workers
from lgsp.cli._workers import Workers, spread

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="SO_REUSEPORT")


def probe() -> socket.socket:
    """What `lgsp.cli._common.listen` binds: a plain socket, the port proved free."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock


def test_each_worker_gets_a_socket_of_its_own_on_the_probed_port() -> None:
    sock = probe()
    port = sock.getsockname()[1]
    sockets = spread(sock, 3)
    try:
        assert sock.fileno() == -1  # closed: the workers' sockets take its place
        assert len({id(each) for each in sockets}) == 3
        assert {each.getsockname()[1] for each in sockets} == {port}
        assert all(each.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for each in sockets)
        for each in sockets:
            each.listen()
        # A second server's plain probe is refused: the port is held.
        with socket.socket() as other, pytest.raises(OSError, match="in use"):
            other.bind(("127.0.0.1", port))
    finally:
        for each in sockets:
            each.close()


class FakeProcess:
    """uvicorn's worker process, not started: the sockets it was given, and whether alive."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        self.sockets = sockets
        self.alive = True
        self.exitcode: int | None = None
        self.pid = 0

    def start(self) -> None: ...

    def is_alive(self, timeout: float = 5) -> bool:
        return self.alive

    def kill(self) -> None: ...

    def join(self) -> None: ...

    def terminate(self) -> None:
        self.listening_when_stopped = [each.fileno() != -1 for each in self.sockets]


def test_a_replaced_worker_serves_its_place_s_socket_and_a_removed_one_s_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_workers, "Process", FakeProcess)
    # uvicorn's supervisor queues the signals it handles, which a test never reads: SIGTERM
    # and Ctrl-C would have been ignored by this pytest process for the rest of its run.
    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    sockets = spread(probe(), 2)
    try:
        workers = Workers(Config(app=None, workers=2), sockets)  # type: ignore[arg-type]
        workers.init_processes()
        given: list[Any] = list(workers.processes)
        assert [process.sockets for process in given] == [[sockets[0]], [sockets[1]]]

        given[1].alive = False  # died: its replacement takes the same socket
        workers.keep_subprocess_alive()
        assert workers.processes[1] is not given[1]
        assert workers.processes[1].sockets == [sockets[1]]  # type: ignore[attr-defined]

        workers.handle_ttin()  # one more worker, on a new socket of the same port
        third = workers.processes[2].sockets[0]  # type: ignore[attr-defined]
        assert third not in sockets
        assert third.getsockname() == sockets[0].getsockname()

        removed = workers.processes[2]
        workers.handle_ttou()  # that worker removed: no connection may wait on its socket
        assert len(workers.processes) == 2
        assert third.fileno() == -1
        assert removed.listening_when_stopped == [False]  # type: ignore[attr-defined]
        monkeypatch.undo()
        assert {number: signal.getsignal(number) for number in handlers} == handlers
    finally:
        for each in sockets:
            each.close()
