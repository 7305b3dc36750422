"""The frames between `lgsp serve --workers N`'s workers and their SQLite audit writer."""

from __future__ import annotations

import io
import pickle
from typing import Any

import pytest

from lgsp.audit.repository import ChainLink
from lgsp.audit.sqlite_writer import Call
from lgsp.audit.writer_service import (
    _LENGTH,
    MAX_FRAME_BYTES,
    RemoteAuditWriter,
    _frame,
    _Frames,
    _Worker,
    calls_frame,
)
from tests.fixtures.audit import audit_entry, journal_entry


def test_frames_cut_anywhere_in_the_stream_come_out_whole_and_in_order() -> None:
    calls = [[(number, [audit_entry(request_id=f"req-{number}")], [])] for number in range(3)]
    stream = b"".join(_frame(call) for call in calls)
    frames = _Frames()

    payloads = [
        payload
        for start in range(0, len(stream), 7)
        for payload in frames.feed(stream[start : start + 7])
    ]

    assert [pickle.loads(payload) for payload in payloads] == calls  # noqa: S301 - our own bytes


def test_a_frame_announcing_more_than_the_bound_is_refused_before_it_is_buffered() -> None:
    with pytest.raises(ValueError, match="over"):
        _Frames().feed(_LENGTH.pack(MAX_FRAME_BYTES + 1) + b"x")


class Connection:
    """A worker's end as the writer process reads it: chunks into a buffer it is given, no
    buffer of its own a read (`recv` would allocate one; `recv_into` reuses the caller's)."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks
        self.buffers: set[int] = set()

    def recv_into(self, buffer: bytearray) -> int:
        self.buffers.add(id(buffer))
        chunk = self._chunks.pop(0) if self._chunks else b""
        buffer[: len(chunk)] = chunk
        return len(chunk)


def test_the_writer_reads_each_worker_into_the_one_buffer_it_keeps() -> None:
    """Issue 21: `recv(1 MiB)` had the C library map a fresh MiB a read, then shrink and
    unmap it (three system calls and page faults each batch): 2% of the writer's CPU."""
    first = [(0, [audit_entry(request_id="req-0")], [])]
    second = [(1, [audit_entry(request_id="req-1")], []), (2, [audit_entry()], [])]
    stream = calls_frame(first) + calls_frame(second)
    connection = Connection([stream[:10], stream[10:], b""])
    worker = _Worker(connection)  # type: ignore[arg-type]
    buffer = bytearray(1024)

    reads = [worker.receive(buffer) for _ in range(3)]

    assert [[call.token for call in calls] for calls in reads[:2] if calls is not None] == [
        [],
        [0, 1, 2],
    ]
    assert reads[2] is None  # the worker is gone
    assert connection.buffers == {id(buffer)}


def _classes(frame: bytes) -> set[str]:
    """The classes a frame's pickle names: each one looked up and called on the other side."""
    looked_up = set()

    class Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            looked_up.add(f"{module}.{name}")
            return super().find_class(module, name)

    Unpickler(io.BytesIO(frame[_LENGTH.size :])).load()
    return looked_up


class Sent:
    def __init__(self) -> None:
        self.data = b""

    def sendall(self, data: bytes) -> None:
        self.data += data


def test_a_calls_frame_and_its_answer_carry_plain_values_and_come_back_whole() -> None:
    """Issue 21: a pickler of ours per frame and a `ChainLink` by name in each answer cost the
    hand-off 11.6 µs an answer (0.5 with plain tuples); the dataclasses go as their fields."""
    entry, row = audit_entry(notes='{"w":1}'), journal_entry(response_body="{}")
    frame = calls_frame([(7, [entry], [row])])
    connection = Sent()
    worker = _Worker(connection)  # type: ignore[arg-type]

    (call,) = worker.calls(frame)
    worker.deliver([call], None, {"lgsp-91": ChainLink(3, "c" * 64)})
    remote = RemoteAuditWriter("unused", busy_timeout=1.0)
    remote.data_received(connection.data)

    assert (call.token, list(call.entries), list(call.journal)) == (7, [entry], [row])
    assert remote.committed_heads == {"lgsp-91": ChainLink(3, "c" * 64)}
    # Only the times' own classes: no constructor of ours is looked up by name.
    assert _classes(frame) <= {"datetime.datetime", "datetime.timezone", "datetime.timedelta"}
    assert _classes(connection.data) == set()
    assert isinstance(call, Call)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(_frame([(0, [("req-0", "kg")], [])]), id="an-entry-of-too-few-fields"),
        pytest.param(_frame([(0, [audit_entry()], 7)]), id="journal-not-a-list"),
    ],
)
def test_a_frame_that_does_not_fit_the_records_is_a_value_error_that_drops_its_worker(
    frame: bytes,
) -> None:
    """The writer process drops a worker on ValueError and keeps serving the others; a
    TypeError (a worker of another version) stopped the writer, and every worker answered 503."""
    with pytest.raises(ValueError, match="does not fit"):
        _Worker(Sent()).calls(frame)  # type: ignore[arg-type]
