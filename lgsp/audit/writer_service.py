"""One process owns the SQLite file's audit writes for `lgsp serve --workers N` (issue 21).

With every worker writing the file itself, each batch first waited for the others' write lock:
two workers served barely more than one, with a p99 of 0.4 s. Here `lgsp serve` starts one
writer process (`audit_writer_process`) and tells the workers its Unix socket; each worker's
`RemoteAuditWriter` hands it the calls of one loop turn in one frame and waits for the answer.
The writer process links every worker's calls onto the chains in one place and commits them
together (`SqliteAuditWriter`: one transaction, one fsync), then answers each worker once.

The promise is unchanged: `append` returns only once the writer has answered that the records
are committed. A writer that answers an error, dies, or cannot be reached fails the calls
waiting on it: the gateway answers 503 `AUDIT_UNAVAILABLE`, never a 2xx unrecorded.

A frame is a 4-byte big-endian length and a pickle, at most `MAX_FRAME_BYTES`: the workers to
the writer `[(call, [entry fields], [journal row fields]), ...]`, the writer to a worker
`(calls, error, [(instance, seq, hash), ...])`: plain values, no class of ours by name.
Only processes of this user reach the socket: it lives in a directory of mode 0700
(`lgsp.audit.writer_process`, which `lgsp serve` imports without this module's).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import pickle
import selectors
import signal
import socket
import struct
import sys
from collections.abc import Sequence
from typing import cast

from lgsp.audit.chain import AuditEntry, entry_values
from lgsp.audit.repository import ChainLink
from lgsp.audit.sqlite_writer import Call, SqliteAuditWriter, journal_values
from lgsp.audit.writer import MAX_BATCH_ENTRIES, MAX_BATCH_JOURNAL_BYTES, journal_bytes
from lgsp.journal.capture import JournalEntry

logger = logging.getLogger(__name__)

_LENGTH = struct.Struct("!I")
MAX_FRAME_BYTES = 4 * MAX_BATCH_JOURNAL_BYTES
"""Bound on one frame: a worker's frame holds at most one batch's worth of calls."""


DEADLINE_MARGIN_SECONDS = 10.0
"""How much longer than the SQLite busy timeout a worker waits for its writer's answer."""
EXPIRY_CHECK_SECONDS = 1.0
"""How often a worker looks for calls its writer has not answered by their deadline."""
RECEIVE_BYTES = 1 << 20
"""Most bytes the writer process reads from a worker at once."""


class AuditWriterUnavailable(ConnectionError):
    """The writer process did not commit a call: it answered an error, or it is gone."""


def _frame(payload: object) -> bytes:
    """`payload` framed: plain values only (tuples, text, numbers, times), pickled by the C
    pickler's own fast paths. A pickler of ours (a `dispatch_table` for the dataclasses) cost
    a Python subclass, a `BytesIO` and a call per object; a `ChainLink` in an answer sent its
    class by name, looked up again on the other side: 11.6 µs an answer where plain tuples
    take 0.5 (issue 21)."""
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    if len(data) > MAX_FRAME_BYTES:
        raise ValueError(f"an audit frame of {len(data)} bytes is over {MAX_FRAME_BYTES}")
    return _LENGTH.pack(len(data)) + data


Outgoing = tuple[int, Sequence[AuditEntry], Sequence[JournalEntry]]
"""One `append` as a worker holds it until its loop turn ends: call number, entries, journal."""


def calls_frame(calls: Sequence[Outgoing]) -> bytes:
    """A worker's calls framed for the writer: each entry and journal row as the tuple of its
    fields (one C `attrgetter` call each), which the writer turns back into the dataclass by
    its constructor (as `AuditEntry(*values)`)."""
    return _frame(
        [
            (
                number,
                [entry_values(entry) for entry in entries],
                [journal_values(row) for row in journal],
            )
            for number, entries, journal in calls
        ]
    )


class _Frames:
    """Cuts a byte stream into frames' payloads; refuses a frame over the bound."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes | memoryview) -> list[bytes]:
        """The payloads `data` completes: each copied once out of the buffer, whose consumed
        bytes are dropped once at the end (not a shift of the rest per frame)."""
        buffer = self._buffer
        buffer += data
        payloads = []
        start, available = 0, len(buffer)
        while available - start >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(buffer, start)
            if size > MAX_FRAME_BYTES:
                raise ValueError(f"an audit frame of {size} bytes is over {MAX_FRAME_BYTES}")
            end = start + _LENGTH.size + size
            if available < end:
                break
            with memoryview(buffer) as view:
                payloads.append(bytes(view[start + _LENGTH.size : end]))
            start = end
        if start:
            del buffer[:start]
        return payloads


# -- in each worker ------------------------------------------------------------------------


class RemoteAuditWriter(asyncio.Protocol):
    """`AuditLog` for a worker of `lgsp serve --workers N` on SQLite: the writer process
    commits; this connection sends it the calls of each loop turn and waits for its answer."""

    def __init__(self, path: str, *, busy_timeout: float) -> None:
        self._path = path
        # The writer waits up to the busy timeout for the file's lock: well past that, it is
        # stuck, and the call is 503 rather than held for ever.
        self._deadline = busy_timeout + DEADLINE_MARGIN_SECONDS
        self._expiry: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self._opening: asyncio.Future[None] | None = None
        self._frames = _Frames()
        self._outgoing: list[Outgoing] = []
        self._waiting: dict[int, tuple[asyncio.Future[None], int, float]] = {}
        """Per call number: its future, its number of entries, when it is given up."""
        self._numbers = itertools.count()
        self._closed = False
        self.committed_heads: dict[str, ChainLink] = {}
        """The newest link the writer committed per instance for this worker's calls."""

    @property
    def pending_entries(self) -> int:
        """Records sent and not yet answered (for /metrics: read rarely, so counted then)."""
        return sum(count for _, count, _ in self._waiting.values())

    async def append(
        self, entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None:
        """Return once the writer process has committed `entries` (and the journal rows)."""
        if self._closed or not entries:
            if entries:
                raise AuditWriterUnavailable("this worker is stopping")
            return
        if self._transport is None:
            await self._connect()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        number = next(self._numbers)
        self._waiting[number] = (future, len(entries), loop.time() + self._deadline)
        if self._expiry is None:
            self._expiry = loop.call_later(EXPIRY_CHECK_SECONDS, self._expire)
        if not self._outgoing:
            loop.call_soon(self._send)
        self._outgoing.append((number, entries, journal))
        try:
            await future
        finally:
            if not future.done() or future.cancelled():  # the request was cancelled
                self._forget(number)

    async def close(self) -> None:
        self._closed = True
        if self._expiry is not None:
            self._expiry.cancel()
        if self._transport is not None:
            self._transport.close()

    async def _connect(self) -> None:
        """One connection for every call of this worker, opened by the first that needs it."""
        if self._opening is None or self._opening.done():
            self._opening = asyncio.ensure_future(self._open())
        opening = self._opening
        try:
            await asyncio.shield(opening)
        except OSError as error:
            raise AuditWriterUnavailable(f"the audit writer is unreachable: {error}") from error
        if self._transport is None:
            raise AuditWriterUnavailable("the audit writer closed the connection")

    async def _open(self) -> None:
        await asyncio.get_running_loop().create_unix_connection(lambda: self, self._path)

    def _send(self) -> None:
        """The calls of this loop turn, in frames of at most one batch each."""
        outgoing, self._outgoing = self._outgoing, []
        transport = self._transport
        if transport is None:
            self._fail([number for number, _, _ in outgoing], "the audit writer is gone")
            return
        chunk: list[Outgoing] = []
        size = weight = 0
        frames = []
        for call in outgoing:
            grown, heavier = size + len(call[1]), weight + journal_bytes(call[2])
            if chunk and (grown > MAX_BATCH_ENTRIES or heavier > MAX_BATCH_JOURNAL_BYTES):
                frames.append(chunk)
                chunk, grown, heavier = [], len(call[1]), journal_bytes(call[2])
            chunk.append(call)
            size, weight = grown, heavier
        frames.append(chunk)
        for calls in frames:
            try:
                data = calls_frame(calls)
            except Exception as error:  # fail these calls, not the worker
                self._fail([number for number, _, _ in calls], str(error))
                continue
            transport.write(data)

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a Unix stream's
        self._frames = _Frames()

    def data_received(self, data: bytes) -> None:
        try:
            payloads = self._frames.feed(data)
        except ValueError:
            logger.exception("the audit writer sent a frame over the bound; reconnecting")
            if self._transport is not None:
                self._transport.close()
            return
        for payload in payloads:
            numbers, error, heads = pickle.loads(payload)  # noqa: S301 - our writer, 0700 dir
            if error is None:
                for instance, seq, digest in heads:
                    self.committed_heads[instance] = ChainLink(seq, digest)
            for number in numbers:
                waiting = self._forget(number)
                if waiting is None or waiting.done():
                    continue
                if error is None:
                    waiting.set_result(None)
                else:
                    waiting.set_exception(AuditWriterUnavailable(error))

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        self._fail(list(self._waiting), "the audit writer closed the connection")

    # -- bookkeeping ------------------------------------------------------------------------

    def _expire(self) -> None:
        """Fail the calls the writer has not answered by their deadline: a writer that is
        alive but stuck must not hold requests for ever (their records may still be committed
        later: a 503 with a record is allowed, a 2xx without one is not)."""
        self._expiry = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = []
        for number, (_, _, due) in self._waiting.items():  # in the order of their deadlines
            if due > now:
                break
            late.append(number)
        self._fail(late, f"the audit writer did not answer in {self._deadline:g} s")
        if self._waiting:
            self._expiry = loop.call_later(EXPIRY_CHECK_SECONDS, self._expire)

    def _forget(self, number: int) -> asyncio.Future[None] | None:
        found = self._waiting.pop(number, None)
        if found is None:
            return None
        return found[0]

    def _fail(self, numbers: list[int], reason: str) -> None:
        for number in numbers:
            future = self._forget(number)
            if future is not None and not future.done():
                future.set_exception(AuditWriterUnavailable(reason))


# -- the writer process --------------------------------------------------------------------


class _Worker:
    """One worker's connection, seen from the writer process: `Replies` of its calls."""

    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self.frames = _Frames()

    def calls(self, data: bytes | memoryview) -> list[Call]:
        """The calls of the frames `data` completes; ValueError for a frame whose values do not
        fit this writer's records (a worker of another version), so that the writer drops
        that worker's connection rather than stop for every worker."""
        try:
            return [
                Call(
                    [AuditEntry(*values) for values in entries],
                    [JournalEntry(*values) for values in journal],
                    number,
                    self,
                )
                for payload in self.frames.feed(data)
                for number, entries, journal in pickle.loads(payload)  # noqa: S301 - see module
            ]
        except TypeError as error:
            raise ValueError(f"a frame that does not fit this writer's records: {error}") from None

    def receive(self, buffer: bytearray) -> list[Call] | None:
        """The calls of what the worker sent, read into `buffer`; None once it is gone.

        Into a buffer the writer keeps: `recv(1 MiB)` had the C library map a fresh MiB for
        each read and the kernel fault its pages in, then shrink and unmap it (three system
        calls and a page fault or more a read, each batch: issue 21)."""
        size = self.connection.recv_into(buffer)
        if not size:
            return None
        with memoryview(buffer) as view, view[:size] as data:
            return self.calls(data)

    def deliver(
        self, calls: list[Call], error: BaseException | None, heads: dict[str, ChainLink]
    ) -> None:
        reason = None if error is None else f"{type(error).__name__}: {error}"[:500]
        try:
            links = [(instance, *link) for instance, link in heads.items()]
            self.connection.sendall(_frame(([call.token for call in calls], reason, links)))
        except OSError:
            pass  # the worker is gone: nobody waits for these any more


def serve_workers(listener: socket.socket, writer: SqliteAuditWriter, stop: int) -> None:
    """The writer process's one thread: take what every worker has sent meanwhile, commit it
    (`SqliteAuditWriter.write`: one transaction a batch), answer, again; until `stop` (a file
    descriptor) reads its end. No thread hands calls to another: the next batch is what
    arrived while this one was committed."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(stop, selectors.EVENT_READ)
    stopping = False
    buffer = bytearray(RECEIVE_BYTES)
    while not stopping:
        calls: list[Call] = []
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                selector.register(connection, selectors.EVENT_READ, _Worker(connection))
                continue
            if key.fileobj == stop:
                stopping = not os.read(stop, 4096)
                continue
            worker: _Worker = key.data
            try:
                received = worker.receive(buffer)
                if received is not None:
                    calls += received
            except (OSError, ValueError, pickle.UnpicklingError) as error:
                logger.warning("dropping a worker's connection to the audit writer: %s", error)
                received = None
            if received is None:  # the worker is gone (or sent what it must not)
                selector.unregister(worker.connection)
                worker.connection.close()
        if calls:
            writer.write(calls)
    selector.close()


def main(argv: list[str] | None = None) -> int:
    """The writer process: serve the workers until `lgsp serve` closes its stdin."""
    parser = argparse.ArgumentParser(prog="python -m lgsp.audit.writer_service")
    parser.add_argument("--database", required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--busy-timeout", type=float, required=True)
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: the workers still finish their calls, which
    # need this process; `lgsp serve` ends it once they are done.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    writer = SqliteAuditWriter(args.database, busy_timeout=args.busy_timeout)
    with socket.socket(fileno=args.fd) as listener:
        serve_workers(listener, writer, sys.stdin.fileno())
    writer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
