"""Bodies as the journal stores them: bounded, valid text, and masked unless asked otherwise."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from lgsp.journal import capture
from lgsp.journal.capture import (
    MASK_MARGIN,
    BodyCapture,
    mask_document,
    mask_name,
    mask_text,
    stored_body,
    stored_document,
    stored_query,
)
from lgsp.journal.store import contains
from lgsp.json_text import compact_json, compact_json_text

CCCD = "091048993438"
MASKED_CCCD = "091*******38"
NAME = "Nguyễn Hữu Quang"
MASKED_NAME = "N***** H** Q****"
LIMIT = 16 * 1024


def stored(
    data: bytes, content_type: str | None, *, limit: int = LIMIT, masked: bool = True
) -> str:
    capture = BodyCapture(limit)
    capture.add(data)
    return stored_body(capture, content_type, masked=masked)


def test_a_capture_keeps_a_margin_past_its_limit_and_says_it_was_over() -> None:
    capture = BodyCapture(limit=5)
    for chunk in (b"abc", b"defg", b"h" * 200):
        capture.add(chunk, more=True)
    capture.add(b"", more=False)

    assert capture.over_limit
    assert capture.complete
    assert capture.data == (b"abcdefg" + b"h" * 200)[: 5 + MASK_MARGIN]
    assert stored_body(capture, None, masked=True) == "abcde"


def test_a_capture_within_its_limit_is_whole() -> None:
    capture = BodyCapture(limit=6)
    capture.add(b"abc", more=True)
    capture.add(b"def")

    assert (capture.data, capture.over_limit, capture.complete) == (b"abcdef", False, True)


def test_json_is_masked_field_by_field() -> None:
    body = {
        "cccd": CCCD,
        "full_name": "Nguyễn Hữu Quang",
        "members": [{"HoVaTen": "Lê Thị Hoa", "note": f"số {CCCD}"}],
        "date_of_birth": "1990-01-02",
        "count": 3,
    }

    kept = json.loads(stored(json.dumps(body).encode(), "application/json"))

    assert kept == {
        "cccd": MASKED_CCCD,
        "full_name": "N***** H** Q****",
        "members": [{"HoVaTen": "L* T** H**", "note": f"số {MASKED_CCCD}"}],
        "date_of_birth": "1*********",  # a birth date reaches a person too
        "count": 3,
    }


def test_every_string_and_number_under_a_personal_key_is_masked() -> None:
    """An address as an object, phones as a list or a number, an applicant as a record."""
    body = {
        "permanent_address": {"street": "12 Le Loi", "ward": {"name": "Ben Nghe", "code": 26740}},
        "SoDienThoai": ["0912345678", 84912345678],
        "phone": 84912345678,
        "applicant": {"name": "Tran An", "verified": True, "note": None},
        "service": {"name": "Cap phep", "code": 12},
    }
    kept = {
        "permanent_address": {"street": "1* L* L**", "ward": {"name": "B** N***", "code": "2****"}},
        "SoDienThoai": ["0*********", "8**********"],
        "phone": "8**********",
        "applicant": {"name": "T*** A*", "verified": True, "note": None},
        "service": {"name": "Cap phep", "code": 12},
    }

    assert json.loads(stored(json.dumps(body).encode(), "application/json")) == kept
    assert mask_document(body) == kept  # what a verify expectation is masked by
    rendered = compact_json(body)
    capture = BodyCapture(LIMIT)
    capture.add(rendered)
    assert json.loads(stored_document(capture, body, rendered, masked=True) or "") == kept


def test_xml_names_and_numbers_are_masked_as_text() -> None:
    xml = f'<SignerInfo><edXML:FullName lang="vi">Trần Văn An</edXML:FullName><Id>{CCCD}</Id>'

    masked = stored(xml.encode(), "application/xml")

    assert masked == (
        f'<SignerInfo><edXML:FullName lang="vi">T*** V** A*</edXML:FullName><Id>{MASKED_CCCD}</Id>'
    )


def test_xml_attributes_named_like_a_personal_field_are_masked() -> None:
    xml = (
        f'<Citizen HoTen="Tran Van An" SoDienThoai=\'0912345678\' MaHoSo="HS-1" Id="{CCCD}">'
        '<ns:Chu xmlns:ns="urn:x" ns:DiaChi="12 Le Loi"/>'
        '<HoTen lang="vi" email="a@b.vn">Le Hoa</HoTen>'
        "</Citizen>"
    )

    assert stored(xml.encode(), "application/xml") == (
        f'<Citizen HoTen="T*** V** A*" SoDienThoai=\'0*********\' MaHoSo="HS-1" Id="{MASKED_CCCD}">'
        '<ns:Chu xmlns:ns="urn:x" ns:DiaChi="1* L* L**"/>'
        '<HoTen lang="vi" email="a*****">L* H**</HoTen>'
        "</Citizen>"
    )


def test_xml_inside_the_cdata_of_a_field_that_names_no_one_is_masked() -> None:
    """A SOAP body often wraps its document in CDATA: the fields inside are masked."""
    wrapped = f"<tem:data><![CDATA[<HoTen>Nguyen Van A</HoTen><Id>{CCCD}</Id>]]></tem:data>"

    assert mask_text(wrapped) == (
        f"<tem:data><![CDATA[<HoTen>N***** V** A</HoTen><Id>{MASKED_CCCD}</Id>]]></tem:data>"
    )
    assert stored(b'<x a="1"><![CDATA[<HoTen>Tran An</HoTen>]]></x>', "text/xml") == (
        '<x a="1"><![CDATA[<HoTen>T*** A*</HoTen>]]></x>'
    )


SPELLINGS = ["HoTen", "hoTen", "ho_ten", "HO-TEN", "fullName", "FULL_NAME", "soDienThoai"]
SPELLINGS += ["SoDienThoaiNguoiThan", "HoTenChuHo", "DiaChiMoi", "EmailNguoiNop", "contactEmail"]


@pytest.mark.parametrize("key", SPELLINGS)
def test_a_personal_field_is_masked_however_its_name_is_spelt(key: str) -> None:
    """An integrator's system names its fields as it likes: walked JSON, broken JSON, XML
    and forms alike."""
    walked = json.loads(stored(json.dumps({key: NAME}).encode(), "application/json"))
    broken = stored(f'{{"{key}": "{NAME}"'.encode(), "application/json")
    xml = stored(f"<r><ns:{key}>{NAME}</ns:{key}></r>".encode(), "application/xml")
    form = stored(f"a=1&{key}={NAME}".encode(), "application/x-www-form-urlencoded")

    assert walked == {key: MASKED_NAME}
    assert broken == f'{{"{key}":"{MASKED_NAME}"'
    assert xml == f"<r><ns:{key}>{MASKED_NAME}</ns:{key}></r>"
    assert form == f"a=1&{key}={MASKED_NAME}"


@pytest.mark.parametrize("key", ["name", "phoneme", "hotel", "full_name_id", "emails_sent"])
def test_a_field_that_only_contains_a_personal_name_is_kept(key: str) -> None:
    assert json.loads(stored(json.dumps({key: "Ban A"}).encode(), None)) == {key: "Ban A"}


def test_two_keys_masked_alike_are_both_kept() -> None:
    first, second = "001099012345", "001088812345"  # both 001*******45

    kept = json.loads(stored(json.dumps({first: "A", second: "B"}).encode(), "application/json"))

    assert kept == {"001*******45": "A", "001*******45 (2)": "B"}


def test_a_long_key_is_masked_but_not_remembered() -> None:
    """Keys are remembered to spare the walk; one the length of a body would hold its bytes."""
    key = CCCD + "x" * 10_000

    kept = json.loads(stored(json.dumps({key: 1}).encode(), "application/json"))

    assert kept == {MASKED_CCCD + "x" * 10_000: 1}
    assert key not in capture._field_plans


def test_an_id_number_as_a_key_is_masked() -> None:
    body = {"households": {CCCD: {"members": 3}}}

    kept = stored(json.dumps(body).encode(), "application/json")

    assert CCCD not in kept
    assert json.loads(kept) == {"households": {MASKED_CCCD: {"members": 3}}}


def test_unmasked_bodies_are_kept_as_sent() -> None:
    body = json.dumps({"cccd": CCCD, "full_name": "An"}).encode()

    assert stored(body, "application/json", masked=False) == body.decode()


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
    assert CCCD not in stored(data, content_type)


def test_bytes_that_are_not_text_become_valid_text() -> None:
    stored_text = stored(b"a\x00b\xff", "application/octet-stream")

    assert stored_text == "a\ufffdb\ufffd"  # PostgreSQL's text refuses NUL; invalid UTF-8 replaced


def test_a_name_keeps_each_first_letter() -> None:
    assert mask_name("  Đặng   Thị  ") == "Đ*** T**"
    assert mask_text("<HoTen>Lý Bình</HoTen>") == "<HoTen>L* B***</HoTen>"
    assert mask_text("<HoTen>Lý Bình</HOTEN>") == "<HoTen>L* B***</HoTen>"  # closed in any case


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


@pytest.mark.parametrize("limit", range(9, 30))
def test_a_cut_never_leaves_most_of_a_number(limit: int) -> None:
    """Masked before it is cut: wherever the cut falls, at most the kept head of a CCCD."""
    body = json.dumps({"cccd": CCCD, "full_name": NAME}).encode()

    text = stored(body, "application/json", limit=limit)

    assert len(text.encode()) <= limit
    assert not re.search(r"\d{4}", text), text
    assert "Nguy" not in text
    assert "Quang" not in text


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (json.dumps({"full_name": NAME}).encode(), "text/plain"),  # JSON, whatever it says
        (json.dumps({"full_name": NAME}).encode(), None),
        (
            json.dumps({"signer": {"full_name": NAME}, "x": "y" * 100})[:60].encode(),
            "application/json",
        ),
        (
            b"full_name=Nguy%E1%BB%85n+H%E1%BB%AFu+Quang&x=1",
            "application/x-www-form-urlencoded",
        ),
        (f"<FullName><![CDATA[{NAME}]]></FullName >".encode(), "application/xml"),
        (
            json.dumps({"step": {"actor": NAME, "email": "quang@example.vn"}}).encode(),
            "application/json",
        ),
    ],
)
def test_names_are_masked_in_every_shape_of_body(data: bytes, content_type: str | None) -> None:
    text = stored(data, content_type)

    assert "Nguy" not in text, text
    assert "Quang" not in text, text
    assert "quang@" not in text, text


def test_id_numbers_sent_as_json_numbers_are_masked() -> None:
    text = stored(json.dumps({"cccd": 791048993438, "count": 3}).encode(), "application/json")

    assert json.loads(text) == {"cccd": "791*******38", "count": 3}


def test_a_lone_surrogate_escape_is_stored_as_valid_text() -> None:
    """The database cannot encode a lone surrogate: its row would fail the audit write."""
    text = stored(b'{"note": "\\ud800"}', "application/json")

    text.encode("utf-8")  # raises on a lone surrogate
    assert json.loads(text) == {"note": "?"}


def test_a_dossiers_form_data_keeps_no_one_in_clear() -> None:
    """The integrator review: composite field names were stored whole beside a masked CCCD."""
    form_data = {
        "SoDienThoaiNguoiThan": "0987654321",
        "HoTenChuHo": NAME,
        "DiaChiMoi": "Số 12 đường Mạc Cửu",
        "NgaySinhChuHo": "1990-01-02",
        "SoCCCDNguoiUyQuyen": CCCD,
        "TenThuTuc": "Đăng ký thường trú",
        "MaHoSo": "H12.34-261207-0001",
    }

    kept = json.loads(stored(json.dumps({"form_data": form_data}).encode(), "application/json"))

    assert kept["form_data"] == {
        "SoDienThoaiNguoiThan": "0*********",
        "HoTenChuHo": MASKED_NAME,
        "DiaChiMoi": "S* 1* đ**** M** C**",
        "NgaySinhChuHo": "1*********",
        "SoCCCDNguoiUyQuyen": MASKED_CCCD,
        "TenThuTuc": "Đăng ký thường trú",
        "MaHoSo": "H12.34-261207-0001",
    }


def test_a_query_parameter_named_like_a_personal_field_is_masked_unless_unmasked() -> None:
    query = "applicant=An&phone=0912345678&name=Ho%C3%A0ng&trang=1"

    assert stored_query(query, masked=True) == "applicant=A*&phone=0*********&name=H****&trang=1"
    assert stored_query(query, masked=False) == query


def test_credentials_in_a_query_string_are_hidden_even_unmasked() -> None:
    query = f"access_token=eyJabc&cccd={CCCD}&client_secret=s3&size=10"

    assert stored_query(query, masked=True) == (
        f"access_token=***&cccd={MASKED_CCCD}&client_secret=***&size=10"
    )
    assert stored_query(query, masked=False) == (
        f"access_token=***&cccd={CCCD}&client_secret=***&size=10"
    )


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4).map(tuple)
        | st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["HoVaTen", "full_name", "x", CCCD]) | st.text(), inner)
    ),
    max_leaves=20,
)


def captured(data: bytes, limit: int = LIMIT) -> BodyCapture:
    capture = BodyCapture(limit)
    capture.add(data)
    return capture


@given(document=_JSON_VALUES, number=st.sampled_from([CCCD, int(CCCD), NAME]))
def test_an_answer_stored_from_its_value_is_what_parsing_its_body_stores(
    document: object, number: object
) -> None:
    """The journal may mask the value a handler answered instead of parsing the body it
    rendered; what it stores must not change by it (tuples, NULs and numbers included)."""
    document = {"data": document, "HoVaTen": NAME, "id": number, "nul": "a\x00b"}
    rendered = bytes(JSONResponse(document).body)
    capture = captured(rendered)

    assert stored_document(capture, document, rendered, masked=True) == stored_body(
        capture, "application/json", masked=True
    )


@pytest.mark.parametrize(
    ("sent", "limit", "masked"),
    [
        (b'{"HoVaTen":"other"}', LIMIT, True),  # a fault changed the body on the way
        (None, 10, True),  # longer than the journal keeps: the body path cuts it
        (None, LIMIT, False),  # unmasked: stored as sent
    ],
)
def test_an_answer_is_stored_from_its_body_unless_the_value_is_what_was_sent(
    sent: bytes | None, limit: int, masked: bool
) -> None:
    document = {"HoVaTen": NAME}
    rendered = bytes(JSONResponse(document).body)

    capture = captured(sent or rendered, limit)

    assert stored_document(capture, document, rendered, masked=masked) is None


@pytest.mark.parametrize(("levels", "walked"), [(63, True), (64, False)])
def test_json_is_walked_down_to_64_levels_and_kept_as_masked_text_past_them(
    levels: int, walked: bool
) -> None:
    """A value 64 levels down is still masked field by field (written compact); one more level
    and the body is masked as text instead, as sent (spaces kept)."""
    document: object = CCCD
    for _ in range(levels):
        document = [document]
    body = json.dumps(document).encode()  # `[[...` with no space; the number quoted
    spaced = body.replace(b"[", b"[ ")
    rendered = bytes(JSONResponse(document).body)

    text = stored(spaced, "application/json")
    from_value = stored_document(captured(rendered), document, rendered, masked=True)

    assert CCCD not in text
    assert (" " not in text) is walked
    assert (from_value is not None) is walked


ARABIC_CCCD = CCCD.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
"""Digits of another script: `mask_personal_data`'s `\\d` masks them too."""


@pytest.mark.parametrize(
    "document",
    [
        {"members": [[{"note": f"số {CCCD}"}, [CCCD]]]},  # nested lists
        {"cccd": 791048993438, "count": 3},  # a number-typed CCCD
        {"CCCD": CCCD, "Cccd": f"x {CCCD}", "FULL_NAME": CCCD},  # keys in another case
        {"a": f'"{CCCD}', "b": f'"{CCCD}"'},  # after a quote: `"\\"091…"` is no whole string
        {"a": f"{CCCD}x", "b": f"x{CCCD}"},
        {"a": ARABIC_CCCD, "b": f"số {ARABIC_CCCD}"},
        {"a": f"%3{CCCD[1:]}", "b": f"&#48;{CCCD[1:]}"},  # digits spelt otherwise
        {"a": CCCD, "b": f"nul\x00{CCCD}"},
        [CCCD, f"{CCCD} ", ("tuple", CCCD)],
        CCCD,
    ],
)
def test_an_answer_stored_from_its_value_masks_every_id(document: object) -> None:
    """Whatever shortcut the journal takes for the strings of a rendered answer, it masks
    what `mask_document` (a scan of every string) masks."""
    rendered = compact_json(document)

    text = stored_document(captured(rendered), document, rendered, masked=True)

    assert text == compact_json_text(mask_document(document))
    assert CCCD not in text
    assert ARABIC_CCCD not in text


@pytest.mark.parametrize(
    "spell",
    [
        lambda value: json.dumps(value, ensure_ascii=True),  # `\\u0660` for a digit
        lambda value: json.dumps(value, ensure_ascii=False, indent=1),
        lambda value: json.dumps(value, ensure_ascii=False).replace("0", "\\u0030"),
    ],
    ids=["ascii-only", "indented", "escaped-digits"],
)
def test_a_body_is_masked_however_its_json_spells_the_numbers(spell: Any) -> None:
    document = {"a": ARABIC_CCCD, "b": [CCCD], "c": {"d": f"so {CCCD}"}, "e": CCCD}

    text = stored(spell(document).encode(), "application/json")

    assert json.loads(text) == mask_document(document)
    assert CCCD not in text
    assert ARABIC_CCCD not in text


_TRICKY_TEXT = st.text(
    alphabet=st.sampled_from(list('0123456789٣ "\\%3&#;xé\x00'))
) | st.sampled_from(
    [
        CCCD,
        f'"{CCCD}',
        f'"{CCCD}"',
        f"\\{CCCD}",
        ARABIC_CCCD,
        CCCD[:9],
        f"{CCCD}{CCCD}",
        "%3" + CCCD[1:],
    ]
)
_TRICKY_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["HoVaTen", "hovaten", "x", CCCD]) | _TRICKY_TEXT, inner)
    ),
    max_leaves=12,
)


@given(document=_TRICKY_VALUES)
def test_json_is_masked_as_a_scan_of_every_string_masks_it(document: object) -> None:
    """The shortcut of the journal's walk (a pass over the JSON's bytes instead of a scan of
    each string) never masks less, nor otherwise, than `mask_document`."""
    expected = compact_json_text(mask_document(document))
    rendered = compact_json(document)

    assert stored_document(captured(rendered), document, rendered, masked=True) == expected
    for body in (rendered, json.dumps(document, ensure_ascii=True).encode()):
        assert stored_body(captured(body), "application/json", masked=True) == expected


@pytest.mark.parametrize(
    ("data", "kept"),
    [
        (b'{"n":-9223372036854775809,"id":"091048993438"}', '"n":-9223372036854775809'),
        (b'{"n":18446744073709551616,"id":"091048993438"}', '"n":18446744073709551616'),
        (b'{"n":0.12345678901234567891,"id":"091048993438"}', '"n":0.12345678901234568'),
        (b'{"n":NaN,"id":"091048993438"}', '"n":null'),
    ],
)
def test_json_is_read_as_the_stdlib_reads_it(data: bytes, kept: str) -> None:
    """orjson reads a body's JSON first (issue 21), but reads an integer past 64 bits as a
    float and refuses NaN: what it would change is read by the stdlib, as before."""
    text = stored(data, "application/json")

    assert kept in text
    assert f'"id":"{MASKED_CCCD}"' in text
