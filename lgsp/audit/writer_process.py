"""The `lgsp serve --workers N` side of the SQLite audit writer process: start it, end it.
(`lgsp.audit.writer_service` is the process.) Standard library only: `lgsp serve` imports this
before it starts its workers, and must not pay for the bus's imports meanwhile."""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SOCKET_NAME = "audit-writer.sock"
STOP_SECONDS = 30.0
"""How long `lgsp serve` waits for its writer to commit what is queued once the workers are
gone, before it kills it (what is left uncommitted was never answered 2xx)."""
RESTART_PAUSE_SECONDS = 0.5

logger = logging.getLogger(__name__)


class _Supervisor:
    """Keeps one writer process on the listening socket: starts another should it die.

    The calls a dead writer held fail (their workers see the connection end: 503); the next
    ones wait in the socket's backlog, which `lgsp serve` keeps open, until the new writer
    accepts them. The chains need no hand-over: each transaction reads its heads under the
    file's write lock."""

    def __init__(self, command: list[str], listener: socket.socket) -> None:
        self._command = command
        self._listener = listener
        self._lock = threading.Lock()
        self._stopping = False
        self.process = self._start()
        self._watcher = threading.Thread(target=self._watch, name="lgsp-audit-writer-watch")
        self._watcher.daemon = True
        self._watcher.start()

    def _start(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            self._command, stdin=subprocess.PIPE, pass_fds=(self._listener.fileno(),)
        )

    def _watch(self) -> None:
        while True:
            status = self.process.wait()
            with self._lock:
                if self._stopping:
                    return
                logger.error("the audit writer process exited (%s); starting another", status)
                time.sleep(RESTART_PAUSE_SECONDS)  # a writer failing at start must not spin
                self.process = self._start()

    def stop(self) -> None:
        """Close the writer's stdin: it commits what it has and exits (killed if it hangs)."""
        with self._lock:
            self._stopping = True
            process = self.process
        if process.stdin is not None:  # always: stdin is a pipe
            process.stdin.close()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def audit_writer_process(database: str, *, busy_timeout: float) -> Iterator[str]:
    """The writer process of `database` for the workers, on a Unix socket: its path.

    The socket is bound and listening before the process starts (it inherits it), so workers
    may connect at once. The process lives until this context ends: then it commits what is
    queued and exits; should `lgsp serve` die, the end of its stdin tells it the same."""
    directory = tempfile.mkdtemp(prefix="lgsp-audit-")  # mode 0700: this user only
    path = str(Path(directory) / SOCKET_NAME)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(path)
        listener.listen(64)
        command = [sys.executable, "-m", "lgsp.audit.writer_service", "--database", database]
        command += ["--fd", str(listener.fileno()), "--busy-timeout", str(busy_timeout)]
        supervisor = _Supervisor(command, listener)
        try:
            yield path
        finally:
            supervisor.stop()
    finally:
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)
