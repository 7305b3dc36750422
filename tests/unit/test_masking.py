from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lgsp import masking
from lgsp.logging import configure_logging, request_id_var
from lgsp.masking import (
    MAX_AUDIT_TEXT,
    PersonalDataFilter,
    audit_text,
    is_personal_field,
    mask_digit_run,
    mask_field,
    mask_personal_data,
    mask_query,
    mask_request_id,
)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("091087000123", "091*******23"),
        ("CMND 123456789", "CMND 123****89"),
        ("/citizens/091087000123?cmnd=123456789", "/citizens/091*******23?cmnd=123****89"),
        ("cccd=091087000123, cha=079203001234", "cccd=091*******23, cha=079*******34"),
        ('{"soDinhDanh":"091087000123"}', '{"soDinhDanh":"091*******23"}'),
        # Encoded digits are decoded before the run is measured (SECURITY-PROBE-2026-12 F13):
        # each decodes to the whole number where it is used.
        ("GET /citizens/%3091048993438 HTTP/1.1", "GET /citizens/091*******38 HTTP/1.1"),
        ("/citizens/09104899343%38", "/citizens/091*******38"),
        ("applicant=%3091154541622&page=1", "applicant=091*******22&page=1"),
        ("%31%32%33%34%35%36%37%38%39", "123****89"),
        ("<cccd>&#48;91048993438</cccd>", "<cccd>091*******38</cccd>"),
        ("<cccd>&#x30;9104899343&#0056;</cccd>", "<cccd>091*******38</cccd>"),
        # Full-width digits (U+FF10…), percent-encoded as uvicorn's access line has them.
        (
            "GET /citizens/" + quote("０９１０８１１８７４７２").lower() + " HTTP/1.1",
            "GET /citizens/091*******72 HTTP/1.1",
        ),
        ("/c/%EF%BC%90910811874%Ef%bC%972", "/c/091*******72"),  # mixed case, mixed digits
    ],
)
def test_cccd_and_cmnd_numbers_are_masked_even_when_encoded(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("091087000123", "091*******23"),  # a whole string of digits, as a JSON id field
        ("٠٩١٠٨٧٠٠٠١٢٣", "٠٩١*******٢٣"),  # `\\d` is any script's digit
        ("số ٠٩١٠٨٧٠٠٠١٢٣.", "số ٠٩١*******٢٣."),
        ("số 091087000123.", "số 091*******23."),  # not ASCII: another pattern than ASCII text
        ("0910870001234", "0910870001234"),
    ],
)
def test_ids_are_masked_whatever_the_text_around_and_the_script(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "12345678",  # 8 digits
        "0912345678",  # 10 digits: a mobile number
        "09108700012",  # 11 digits
        "0910870001234",  # 13 digits
        "4111111111111111",  # 16 digits
        "ngày 01/05/2024, 200 OK",
        "0%3091048993438",  # 13 digits once decoded
        "phone=%30912345678",  # 10
        "100%3 of 12",
    ],
)
def test_other_digit_runs_are_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize("size", range(9, 20))
def test_a_run_of_digits_alone_is_masked_as_in_any_text(size: int) -> None:
    run = "0123456789" * 2

    assert mask_digit_run(run[:size]) == mask_personal_data(run[:size])


FULL_WIDTH = quote("０９１０８７０００１２３").lower()
"""091087000123 in full-width digits, as uvicorn's access line has it."""


def make_record(msg: str, args: Any) -> logging.LogRecord:
    return logging.LogRecord("lgsp.test", logging.INFO, __file__, 1, msg, args, None)


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("lookup 091087000123 done", ()),
        ("lookup %s done", ("091087000123",)),
        ("lookup %(cccd)s done", ({"cccd": "091087000123"},)),  # as logger.info passes it
        # httpx logs `httpx.URL` objects, not strings (httpx/_client.py).
        ("lookup %s done", (httpx.URL("http://dancu/citizens/091087000123"),)),
        # uvicorn's access log line, with the request target as sent (SECURITY-PROBE F13).
        ('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:1", "GET", "/c/%3091087000123", "1.1", 200)),
        # ... and a CCCD in full-width digits, refused 422 and logged percent-encoded
        ('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:1", "GET", f"/c/{FULL_WIDTH}", "1.1", 422)),
    ],
    ids=[
        "msg",
        "tuple-args",
        "dict-args",
        "non-string-args",
        "access-log-percent-encoded",
        "access-log-full-width",
    ],
)
def test_filter_masks_the_message_and_its_arguments(msg: str, args: Any) -> None:
    record = make_record(msg, args)

    assert PersonalDataFilter().filter(record) is True
    message = record.getMessage()
    assert "091*******23" in message
    assert "091087000123" not in message


def test_filter_masks_tracebacks() -> None:
    try:
        raise LookupError("no citizen 091087000123")
    except LookupError:
        record = logging.LogRecord(
            "lgsp.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    PersonalDataFilter().filter(record)

    assert record.exc_text is not None
    assert "no citizen 091*******23" in record.exc_text
    assert "091087000123" not in logging.Formatter().format(record)


@pytest.fixture
def configure() -> Iterator[Callable[..., None]]:
    """Calls `configure_logging`, then undoes it: handlers added, root and httpx levels."""
    root = logging.getLogger()
    names = ("httpx", "httpcore")
    saved_levels = [root.level, *(logging.getLogger(name).level for name in names)]
    added: list[logging.Handler] = []

    def configure(**kwargs: Any) -> None:
        before = list(root.handlers)
        configure_logging(**kwargs)
        added.extend(h for h in root.handlers if h not in before)

    yield configure
    for handler in added:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved_levels[0])
    for name, level in zip(names, saved_levels[1:], strict=True):
        logging.getLogger(name).setLevel(level)


def test_configure_logging_quiets_httpx_and_httpcore(configure: Callable[..., None]) -> None:
    configure()

    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("httpcore").getEffectiveLevel() == logging.WARNING
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)


def test_configured_logs_are_masked_and_carry_the_request_id(
    configure: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    configure()
    token = request_id_var.set("req-42")
    try:
        logging.getLogger("lgsp.routing").info("lookup %s", "091087000123")
    finally:
        request_id_var.reset(token)

    err = capsys.readouterr().err
    assert "[req-42] lookup 091*******23" in err
    assert "091087000123" not in err


def test_json_logs_are_one_masked_object_per_line(
    configure: Callable[..., None], capsys: pytest.CaptureFixture[str]
) -> None:
    configure(json=True)
    logging.getLogger("lgsp.routing").warning("lookup %s", "091087000123")

    (line,) = capsys.readouterr().err.splitlines()
    logged = json.loads(line)
    assert logged["message"] == "lookup 091*******23"
    assert logged["request_id"] == "-"
    assert (logged["level"], logged["logger"]) == ("WARNING", "lgsp.routing")


def test_configuring_twice_installs_one_handler(configure: Callable[..., None]) -> None:
    handlers_before = len(logging.getLogger().handlers)

    configure()
    configure()

    assert len(logging.getLogger().handlers) == handlers_before + 1


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("/lgsp/kiengiang/dvc/v1/\x00", "/lgsp/kiengiang/dvc/v1/%00"),
        ("demo\r\nX-Injected: 1", "demo%0D%0AX-Injected: 1"),
        ("/dancu/v1/citizens/091048993438", "/dancu/v1/citizens/091*******38"),
    ],
)
def test_audit_text_escapes_control_characters_and_masks(given: str, stored: str) -> None:
    assert audit_text(given) == stored


def test_audit_text_is_bounded_and_marks_a_cut() -> None:
    assert len(audit_text("a" * 10_000)) == MAX_AUDIT_TEXT
    assert audit_text("a" * 100, limit=64) == "a" * 63 + "…"
    assert audit_text("a" * 64, limit=64) == "a" * 64


_LOOKAROUND_ID = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")
"""The pattern `mask_personal_data` used before issue 21: a whole run of exactly 12 or 9."""


@given(st.text(alphabet=st.sampled_from("0123456789٣ a/-%")))
def test_masking_finds_the_runs_the_lookaround_pattern_found(text: str) -> None:
    if "%3" in text:  # encoded digits take another path, unchanged
        return
    expected = _LOOKAROUND_ID.sub(
        lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], text
    )

    assert mask_personal_data(text) == expected


_RUNS_OF_DIGITS = st.lists(
    st.tuples(
        st.text(alphabet="0123456789", min_size=0, max_size=13),
        st.sampled_from(("", " ", "a", "/", "-", "?id=")),
    ),
    max_size=5,
).map(lambda pieces: "".join(run + between for run, between in pieces))
"""ASCII text of runs of digits near the lengths that matter, one run or many."""


@given(_RUNS_OF_DIGITS)
def test_ascii_text_is_masked_as_the_lookaround_pattern_masks_it(text: str) -> None:
    """ASCII text is measured by bytes, not by `re` (issue 21): the same runs, one or many."""
    expected = _LOOKAROUND_ID.sub(
        lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:], text
    )

    assert mask_personal_data(text) == expected


@given(st.text(alphabet=st.sampled_from("ab1\x00\x1f\x7f\u0085\u2028 é")))
def test_audit_text_escapes_exactly_the_control_characters(text: str) -> None:
    escaped = "".join(f"%{ord(c):02X}" if ord(c) < 0x20 or c == "\x7f" else c for c in text)

    assert audit_text(text) == escaped


# A request id (security re-probe #9): a citizen's number standing on its own is masked, while
# a hex id or a uuid, which often holds nine or more digits in a row, never changes.


@given(st.uuids())
def test_a_uuid_request_id_is_never_changed(uuid: UUID) -> None:
    for spelt in (uuid.hex, str(uuid), str(uuid).upper(), f"req-{uuid}", f"{uuid.hex}.1"):
        assert mask_request_id(spelt) == spelt


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=1, max_size=128))
def test_a_hex_token_is_never_changed_unless_it_is_all_one_id(token: str) -> None:
    if token.isdecimal() and len(token) in (9, 12):
        return  # the whole id is a citizen's number
    assert mask_request_id(token) == token


KEPT_REQUEST_IDS = {
    "cccd-091203001234": "cccd-091*******34",
    "091203001234": "091*******34",
    "req-091203001234.retry:2": "req-091*******34.retry:2",
    "citizen091203001234": "citizen091*******34",
    "cmnd_123456789": "cmnd_123****89",
    "browse-0c268470460442df": "browse-0c268470460442df",
    "00000000-0000-4000-8000-091203001234": "00000000-0000-4000-8000-091203001234",
    "order-0912030012345": "order-0912030012345",
}
"""A caller's id → the id as logs, audit and journal keep it."""


@pytest.mark.parametrize(("given_id", "kept"), KEPT_REQUEST_IDS.items())
def test_a_citizen_number_standing_in_a_request_id_is_masked(given_id: str, kept: str) -> None:
    assert mask_request_id(given_id) == kept
    assert mask_request_id(kept) == kept


PERSONAL_NAMES = [
    # a personal word as a word of a longer name (the integrator review: composite field names)
    "SoDienThoaiNguoiThan", "HoTenChuHo", "DiaChiMoi", "EmailNguoiNop", "NgaySinhChuHo",
    "applicant_phone", "contactEmail", "so_dien_thoai", "SoDienThoai", "dien_thoai", "sdt",
    "mobile", "MobilePhone", "e-mail", "ho_ten", "HoTen", "HOTEN", "hoten", "HoVaTen",
    "TenNguoiNop", "TenCongDan", "ChuHoSo", "NguoiXuLy", "full_name", "applicantName",
    "FULL_NAME", "dia_chi", "DiaChiThuongTru", "NoiOHienTai", "QueQuan", "address",
    "home_address", "ngay_sinh", "NgaySinh", "date_of_birth", "birthDate", "dob", "actor",
    # identity documents
    "cccd", "SoCCCD", "SoCCCDNguoiUyQuyen", "soCMND", "SoDinhDanh", "MaDinhDanh",
    "identity_number", "passport_no", "SoHoChieu",
]  # fmt: skip
READABLE_NAMES = [
    # the names of things, not of people
    "TenThuTuc", "TenCoQuan", "TenDonVi", "TenLinhVuc", "MaHoSo", "MaThuTuc", "ServiceName",
    "name", "ten", "file_name", "TrangThai", "NgayNop", "NgayHenTra", "SoNguoi",
    # a personal word inside a word is no word of the name
    "phoneme", "hotel", "emails_sent", "content", "attention", "hotenx", "ngaysinhnhat",
    # an organisation's contact, a reference to a record, a machine's address
    "DiaChiCoQuan", "EmailDonVi", "dien_thoai_to_chuc", "full_name_id", "applicant_ids",
    "staff_count", "ip_address", "remote_addr",
]  # fmt: skip


@pytest.mark.parametrize("name", PERSONAL_NAMES)
def test_a_field_named_with_a_personal_word_is_personal(name: str) -> None:
    assert is_personal_field(name)


@pytest.mark.parametrize("name", READABLE_NAMES)
def test_a_field_named_otherwise_stays_readable(name: str) -> None:
    assert not is_personal_field(name)


@pytest.mark.parametrize(
    "name", ["HọTên", "Họ tên", "SốĐiệnThoại", "ĐịaChỉ", "NgàySinh", "họ_và_tên", "ĐỊA_CHỈ"]
)
def test_a_field_named_in_vietnamese_with_accents_is_personal(name: str) -> None:
    assert is_personal_field(name)


@pytest.mark.parametrize("name", ["TênThủTục", "TênCơQuan", "ĐịaChỉCơQuan", "tên"])
def test_an_accented_field_that_names_a_thing_stays_readable(name: str) -> None:
    assert not is_personal_field(name)


def test_a_personal_field_is_masked_as_an_id_number_or_word_by_word() -> None:
    assert mask_field("091048993438") == "091*******38"
    assert mask_field("0987654321") == "0*********"
    assert mask_field("0910 4899 3438") == "0*** 4*** 3***"
    assert mask_field("CCCD 091048993438") == "C*** 0***********"


def test_field_decisions_are_remembered_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lgsp.masking._MAX_KNOWN_FIELDS", 3)
    monkeypatch.setattr("lgsp.masking._personal_fields", {})
    for name in ("a", "b", "HoTen", "TenThuTuc"):
        is_personal_field(name)
    long_name = "HoTen_" + "x" * 100

    assert is_personal_field(long_name)
    assert masking._personal_fields == {"TenThuTuc": False}  # cleared when full; long not kept


def test_a_query_parameter_named_like_a_personal_field_is_masked() -> None:
    query = "applicant=%3091154541622&phone=0912345678&name=Ho%C3%A0ng&HoTen=L%C3%BD+B%C3%ACnh"

    assert mask_query(query + "&maDonVi=H01&trang=2&ten=") == (
        "applicant=091*******22&phone=0*********&name=H****&HoTen=L*+B***&maDonVi=H01&trang=2&ten="
    )


def test_a_masked_query_value_cannot_end_its_parameter_or_the_quoted_line() -> None:
    assert mask_query("name=%22x+%26y+%25z+%2Bw&so%44ienThoai=1") == (
        "name=%22*+%26*+%25*+%2B*&so%44ienThoai=1"
    )


def test_query_shapes_are_remembered_up_to_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lgsp.masking._MAX_KNOWN_FIELDS", 2)
    monkeypatch.setattr("lgsp.masking._query_plans", {})
    for query in ("a=1", "b=2&phone=3", "c=4&name=An", "x=" + "1" * 600):
        mask_query(query)

    assert masking._query_plans == {
        "c&name": ((1, False),)
    }  # cleared when full; a long one not kept
    assert mask_query("c=5&name=Bình") == "c=5&name=B***"
