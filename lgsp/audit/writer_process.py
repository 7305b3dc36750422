"""The `lgsp serve --workers N` side of the SQLite audit writer process: start it, end it.
(`lgsp.audit.writer_service` is the process.) Standard library only: `lgsp serve` imports this
before it starts its workers, and must not pay for the bus's imports meanwhile."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SOCKET_NAME = "audit-writer.sock"
STOP_SECONDS = 30.0
"""How long `lgsp serve` waits for its writer to commit what is queued once the workers are
gone, before it kills it (what is left uncommitted was never answered 2xx)."""


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
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "lgsp.audit.writer_service",
                "--database",
                database,
                "--fd",
                str(listener.fileno()),
                "--busy-timeout",
                str(busy_timeout),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(listener.fileno(),),
        )
    except BaseException:
        listener.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    listener.close()  # the writer's now: once it is gone, a worker's connect is refused
    try:
        yield path
    finally:
        if process.stdin is not None:  # always: stdin is a pipe
            process.stdin.close()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(directory, ignore_errors=True)
