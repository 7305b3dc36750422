"""`lgsp serve --workers N`: each worker process accepts on a listening socket of its own.

uvicorn's supervisor hands every worker the one listening socket, and whichever worker wakes
first takes every connection waiting: its event loop accepts until the queue is empty. A client
opening its connections together (a pool, a load test: wrk's 32) mostly found them all on one
worker (seen on this machine: 32/0, 31/1, 30/2, 20/12, 6/26 in five runs), and two workers
served barely more than one (issue 21). Here the socket `listen` bound only proves the port
free; each worker then gets a socket of its own bound to the same address with `SO_REUSEPORT`,
and the kernel spreads new connections over their accept queues by a hash of each connection's
addresses. A worker that dies leaves its socket listening in this process: the connections
given to it meanwhile wait for the worker started in its place.
"""

from __future__ import annotations

import socket

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger


def spread(sock: socket.socket, count: int) -> list[socket.socket]:
    """`count` sockets bound to `sock`'s address with `SO_REUSEPORT`, in place of `sock`
    (closed). Without `SO_REUSEPORT` (not Linux or a BSD), `sock` for every worker, as before.

    `sock` was bound without the option, so the port was free of any other listener; the
    sockets bound here join no group another process started (a second `lgsp serve` binds
    without the option first, and fails on these)."""
    if count < 2 or not hasattr(socket, "SO_REUSEPORT"):
        return [sock] * count
    family, address = sock.family, sock.getsockname()
    sock.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(_bound(family, address))
    except OSError:
        for bound in sockets:
            bound.close()
        raise
    return sockets


def _bound(family: socket.AddressFamily, address: tuple[object, ...]) -> socket.socket:
    own = socket.socket(family, socket.SOCK_STREAM)
    try:
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        own.bind(address)
    except OSError:
        own.close()
        raise
    own.set_inheritable(True)
    return own


class Workers(Multiprocess):
    """uvicorn's supervisor (uvicorn 0.55), each worker given the socket of its place: at
    start, when it is replaced (a dead or hung worker, SIGHUP), added (SIGTTIN, with a new
    socket) or removed (SIGTTOU, its socket closed, so that no connection waits on it)."""

    def __init__(self, config: Config, sockets: list[socket.socket]) -> None:
        super().__init__(config, sockets[:1])
        self._own = list(sockets)
        self._shared = len(set(sockets)) == 1  # no `SO_REUSEPORT`: one socket for all

    def _socket(self, index: int) -> socket.socket:
        if index >= len(self._own):  # SIGTTIN: one more worker, one more socket
            first = self._own[0]
            self._own.append(first if self._shared else _bound(first.family, first.getsockname()))
        return self._own[index]

    def _started(self, index: int) -> Process:
        process = Process(self.config, [self._socket(index)])
        process.start()
        return process

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            self.processes.append(self._started(index))

    def restart_all(self) -> None:
        """uvicorn's: each worker's replacement serving before the old worker stops."""
        for index, old_process in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new_process = self._started(index)
            timeout = self.config.timeout_worker_healthcheck
            if not new_process.wait_until_ready(timeout, self.should_exit):
                new_process.kill()
                new_process.join()
                if not self.should_exit.is_set():
                    logger.error(
                        f"New child process [{new_process.pid}] was not ready in time; "
                        f"keeping worker [{old_process.pid}] and aborting the restart."
                    )
                return
            old_process.terminate()
            old_process.join()
            self.processes[index] = new_process

    def keep_subprocess_alive(self) -> None:
        """uvicorn's, a dead worker's place given to a new one on the same socket."""
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # it would fail the same way again
                logger.error(
                    f"Child process [{process.pid}] failed to start, stopping the parent process."
                )
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            self.processes[index] = self._started(index)

    def handle_ttin(self) -> None:
        logger.info("Received SIGTTIN, increasing the number of processes.")
        self.processes_num += 1
        self.processes.append(self._started(len(self.processes)))

    def handle_ttou(self) -> None:
        """uvicorn's, but the removed worker's socket closed here before the worker is told to
        stop: the kernel hands it new connections until the last copy of it is closed, and the
        ones it queued while the worker drained would be reset when it goes (unless
        `net.ipv4.tcp_migrate_req`). Closed first, it leaves the port's group as the worker
        stops listening, and what is left in its queue then is what the worker took before."""
        if self.processes_num <= 1 or self._shared:
            super().handle_ttou()
            return
        logger.info("Received SIGTTOU, decreasing the number of processes.")
        self.processes_num -= 1
        process = self.processes.pop()
        self._own.pop().close()  # the removed worker's: no new connection may wait on it
        process.terminate()
        process.join()
