"""The NGSP envelope as the real services write it (DOMAIN.md §8.1, §2.3)."""

from __future__ import annotations

import json

from formats.ngsp import DATA_TYPE_INVALID, RECORD_NOT_FOUND, SUCCESS, envelope


def test_success_is_code_zero_with_the_payload_under_data() -> None:
    assert envelope({"TonTai": True}) == {
        "error_code": "0",
        "message": "OK",
        "data": {"TonTai": True},
    }


def test_keys_come_in_the_order_real_services_write_them() -> None:
    written = json.dumps(envelope(None, error_code=RECORD_NOT_FOUND, message="RECORD_NOT_FOUND"))

    assert written == '{"error_code": "201", "message": "RECORD_NOT_FOUND", "data": null}'


def test_dvcqg_writes_its_payload_under_result() -> None:
    assert list(envelope([], message="Thành công", key="result")) == [
        "error_code",
        "message",
        "result",
    ]


def test_codes_are_the_quang_binh_list() -> None:
    assert (SUCCESS, RECORD_NOT_FOUND, DATA_TYPE_INVALID) == ("0", "201", "302")
