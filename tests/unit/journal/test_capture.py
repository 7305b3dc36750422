"""Bodies as the journal stores them: bounded, valid text, and masked unless asked otherwise."""

from __future__ import annotations

import json

import pytest

from lgsp.journal.capture import BodyCapture, mask_name, mask_text, stored_body
from lgsp.journal.store import contains

CCCD = "091048993438"
MASKED_CCCD = "091*******38"


def test_a_capture_keeps_the_first_bytes_and_says_it_cut() -> None:
    capture = BodyCapture(limit=5)
    for chunk in (b"abc", b"defg", b"h"):
        capture.add(chunk)

    assert (capture.data, capture.truncated) == (b"abcde", True)


def test_a_capture_within_its_limit_is_whole() -> None:
    capture = BodyCapture(limit=6)
    capture.add(b"abc")
    capture.add(b"def")

    assert (capture.data, capture.truncated) == (b"abcdef", False)


def test_json_is_masked_field_by_field() -> None:
    body = {
        "cccd": CCCD,
        "full_name": "Nguyễn Hữu Quang",
        "members": [{"HoVaTen": "Lê Thị Hoa", "note": f"số {CCCD}"}],
        "date_of_birth": "1990-01-02",
        "count": 3,
    }

    stored = json.loads(stored_body(json.dumps(body).encode(), "application/json", masked=True))

    assert stored == {
        "cccd": MASKED_CCCD,
        "full_name": "N***** H** Q****",
        "members": [{"HoVaTen": "L* T** H**", "note": f"số {MASKED_CCCD}"}],
        "date_of_birth": "1990-01-02",
        "count": 3,
    }


def test_xml_names_and_numbers_are_masked_as_text() -> None:
    xml = f'<SignerInfo><edXML:FullName lang="vi">Trần Văn An</edXML:FullName><Id>{CCCD}</Id>'

    masked = stored_body(xml.encode(), "application/xml", masked=True)

    assert masked == (
        f'<SignerInfo><edXML:FullName lang="vi">T*** V** A*</edXML:FullName><Id>{MASKED_CCCD}</Id>'
    )


def test_unmasked_bodies_are_kept_as_sent() -> None:
    body = json.dumps({"cccd": CCCD, "full_name": "An"}).encode()

    assert stored_body(body, "application/json", masked=False) == body.decode()


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b'{"cccd": "' + CCCD.encode() + b'"', "application/json"),  # not JSON: masked as text
        (b"[" * 100 + CCCD.encode() + b"]" * 100, "application/json"),  # too deep to walk
        (CCCD.encode(), None),
        (b"cccd=" + CCCD.encode(), "application/x-www-form-urlencoded"),
    ],
)
def test_whatever_the_body_numbers_never_reach_the_journal(
    data: bytes, content_type: str | None
) -> None:
    assert CCCD not in stored_body(data, content_type, masked=True)


def test_bytes_that_are_not_text_become_valid_text() -> None:
    stored = stored_body(b"a\x00b\xff", "application/octet-stream", masked=True)

    assert stored == "a\ufffdb\ufffd"  # PostgreSQL's text refuses NUL; invalid UTF-8 replaced


def test_a_name_keeps_each_first_letter() -> None:
    assert mask_name("  Đặng   Thị  ") == "Đ*** T**"
    assert mask_text("<HoTen>Lý Bình</HoTen>") == "<HoTen>L* B***</HoTen>"


@pytest.mark.parametrize(
    ("actual", "expected", "found"),
    [
        ({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": 2}}, True),
        ({"a": 1}, {"a": 1, "b": None}, False),
        ({"a": [{"x": 1, "y": 2}]}, {"a": [{"x": 1}]}, True),
        ({"a": [1, 2]}, {"a": [1]}, False),  # arrays: same length
        ({"a": 1}, {"a": True}, False),  # JSON true is not 1
        ({"a": True}, {"a": 1}, False),
        ({"a": "1"}, {"a": 1}, False),
        ([1, 2], [1, 2], True),
        ("x", {"a": 1}, False),
    ],
)
def test_a_body_contains_an_expected_subset(actual: object, expected: object, found: bool) -> None:
    assert contains(actual, expected) is found
