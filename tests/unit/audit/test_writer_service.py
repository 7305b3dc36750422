"""The frames between `lgsp serve --workers N`'s workers and their SQLite audit writer."""

from __future__ import annotations

import pickle

import pytest

from lgsp.audit.writer_service import _LENGTH, MAX_FRAME_BYTES, _frame, _Frames
from tests.fixtures.audit import audit_entry


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
