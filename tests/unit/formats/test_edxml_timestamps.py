"""A status Timestamp written `dd/MM/yyyy HH:mm:ss`, as a C# client writes it (DOMAIN.md §3.4:
"Real systems vary"), is read leniently as a nonconformity and refused only by a strict reader;
what is no date at all stays refused either way."""

from __future__ import annotations

import pytest

from formats.edxml import InvalidEdxml, read_status, render_status

STANDARD = b"<edXML:Timestamp>2025/06/02 10:00:00</edXML:Timestamp>"


def status_with(timestamp: bytes) -> bytes:
    data = render_status(
        {
            "response_for": {
                "organ_id": "000.00.01.H33",
                "code": "15/STP-TEST",
                "promulgation_date": "2025-06-01",
                "document_id": "000.00.01.H33,2025/06/01,15/STP-TEST",
            },
            "from": {"organ_id": "000.00.03.H33", "organ_name": "Sở Tài chính"},
            "status_code": "03",
            "description": "Đã tiếp nhận",
            "timestamp": "2025-06-02T10:00:00",
            "staff_info": None,
        }
    )
    assert STANDARD in data
    return data.replace(STANDARD, b"<edXML:Timestamp>" + timestamp + b"</edXML:Timestamp>")


def test_a_day_first_timestamp_is_read_leniently_as_the_same_moment() -> None:
    reading = read_status(status_with(b"02/06/2025 10:00:00"))

    assert reading.message["timestamp"] == "2025-06-02T10:00:00"
    assert [(n.rule, "dd/MM/yyyy" in n.detail) for n in reading.nonconformities] == [
        ("bad_date", True)
    ]


def test_a_day_first_timestamp_is_refused_by_a_strict_reader() -> None:
    with pytest.raises(InvalidEdxml) as refused:
        read_status(status_with(b"02/06/2025 10:00:00"), strict=True)

    assert refused.value.rule == "bad_date"


@pytest.mark.parametrize(
    "timestamp",
    [b"2/6/2025 10:00:00", b"31/02/2025 10:00:00", b"02/06/2025 25:00:00", b"02/06/2025",
     b"02-06-2025 10:00:00", b"tomorrow"],
)  # fmt: skip
def test_what_is_no_timestamp_stays_refused_even_leniently(timestamp: bytes) -> None:
    with pytest.raises(InvalidEdxml) as refused:
        read_status(status_with(timestamp))

    assert refused.value.rule == "bad_date"
    assert timestamp.decode() not in refused.value.detail  # names the element, not the value
