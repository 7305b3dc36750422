"""`XacMinhThongTinNhanThan` says when its data stood (`ThoiDiemDuLieu`) in Vietnam time, as
every other time the bus answers (DOMAIN.md §2.3: Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from adapters.dialects import soap


def test_the_data_time_is_vietnam_time_whatever_clock_gave_it() -> None:
    at = datetime(2026, 12, 7, 1, 30, 5, tzinfo=UTC)

    body = soap.nhan_than_response([("091048993438", "Nguyễn Văn An", date(1990, 1, 2))], at=at)

    assert b'ThoiDiemDuLieu="2026-12-07T08:30:05+07:00"' in body
