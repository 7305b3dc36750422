"""Canonical citizen lookups to and from a provincial citizen database's legacy JSON.

The system answers in the NGSP envelope `{error_code, message, data}` (DOMAIN.md §2.1, §8.1)
with the national database's field names (DOMAIN.md §5.2, §8.5); clients of the bus get plain
English keys, ISO dates and "male"/"female" instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from adapters.base import (
    CanonicalRequest,
    CanonicalResponse,
    SystemRequest,
    SystemResponse,
    TranslationError,
)
from adapters.cccd import InvalidCccd, parse_cccd
from adapters.dates import parse_ddmmyyyy

GET_CITIZEN = "get_citizen"

# GioiTinh: 1 Nam, 2 Nữ (DOMAIN.md §8.5, the BHXH convention the citizen database shares).
# "3 Khác" exists there too but has no canonical value yet, so it is refused as unexpected.
_GENDERS = {"1": "male", "2": "female"}


class UnknownOperation(TranslationError):
    code = "OPERATION_NOT_SUPPORTED"
    status = 501
    title = "The adapter does not support this operation"


class CitizenNotFound(TranslationError):
    code = "CITIZEN_NOT_FOUND"
    status = 404
    title = "Citizen not found"


class UpstreamAnswerInvalid(TranslationError):
    code = "UPSTREAM_INVALID_RESPONSE"
    status = 502
    title = "The citizen database gave an answer that could not be read"


class DancuAdapter:
    """The `dancu` adapter. It keeps no clock of its own: `today` decides future birth years."""

    def __init__(self, *, today: Callable[[], date]) -> None:
        self._today = today

    def to_system(self, request: CanonicalRequest) -> SystemRequest:
        _check_operation(request)
        cccd = request.path_params.get("cccd", "")
        parse_cccd(cccd, today=self._today())  # refuse a bad number before any call is made
        return SystemRequest(
            method="GET", path=f"/api/congdan/{cccd}", headers={"Accept": "application/json"}
        )

    def to_canonical(
        self, request: CanonicalRequest, response: SystemResponse
    ) -> CanonicalResponse:
        _check_operation(request)
        envelope = _read_envelope(response)
        error_code = envelope.get("error_code")
        # NGSP-style services often report an error in the envelope under HTTP 200, so the
        # envelope's code decides; the mock also sets the matching HTTP status.
        if response.status == 200 and error_code == "0":
            data = envelope.get("data")
            if not isinstance(data, Mapping):
                raise UpstreamAnswerInvalid("The citizen database answered OK without a record.")
            return CanonicalResponse(200, citizen_to_canonical(data))
        if response.status in (200, 404) and error_code == "201":  # RECORD_NOT_FOUND
            raise CitizenNotFound("No citizen with this CCCD number is recorded in the province.")
        if response.status in (200, 400) and error_code == "302":  # DATA_TYPE_INVALID
            raise InvalidCccd(
                "The citizen database refused the CCCD number as malformed.", rule="format"
            )
        shown = str(error_code)[:16]  # bounded: the value comes from outside
        raise UpstreamAnswerInvalid(
            f"The citizen database answered HTTP {response.status} "
            f"with error_code {shown!r}, which this adapter does not expect."
        )


def citizen_to_canonical(record: Mapping[str, Any]) -> dict[str, Any]:
    """One `CongDan` record in canonical form, or UpstreamAnswerInvalid naming the bad field.

    Error details name fields, never their values: the values are personal data.
    """
    address = record.get("ThuongTru")
    if not isinstance(address, Mapping):
        raise UpstreamAnswerInvalid("The citizen record has no ThuongTru (permanent address).")
    try:
        date_of_birth = parse_ddmmyyyy(_text(record, "NgayThangNamSinh"))
    except ValueError:
        raise UpstreamAnswerInvalid(
            "The citizen record's NgayThangNamSinh is not a dd/MM/yyyy date."
        ) from None
    gender = _GENDERS.get(_text(record, "GioiTinh"))
    if gender is None:
        raise UpstreamAnswerInvalid("The citizen record's GioiTinh is neither 1 (Nam) nor 2 (Nữ).")
    return {
        "cccd": _text(record, "SoDinhDanh"),
        "full_name": _text(record, "HoVaTen"),
        "date_of_birth": date_of_birth.isoformat(),
        "gender": gender,
        "permanent_address": {
            "province_code": _text(address, "MaTinhThanh"),
            "province": _text(address, "TenTinhThanh"),
            # The district level was abolished on 1 July 2025 (DOMAIN.md §6.1, §8.5: legacy
            # only), so newer records may lack it.
            "district_code": _optional_text(address, "MaQuanHuyen"),
            "district": _optional_text(address, "TenQuanHuyen"),
            "commune_code": _text(address, "MaPhuongXa"),
            "commune": _text(address, "TenPhuongXa"),
            "street": _text(address, "ChiTiet"),
            "country": _text(address, "QuocGia"),
        },
    }


def _text(record: Mapping[str, Any], key: str) -> str:
    value = record.get(key)
    if not isinstance(value, str):
        raise UpstreamAnswerInvalid(f"The citizen record's {key} is missing or not a string.")
    return value


def _optional_text(record: Mapping[str, Any], key: str) -> str | None:
    return None if record.get(key) is None else _text(record, key)


def _check_operation(request: CanonicalRequest) -> None:
    if request.operation != GET_CITIZEN:
        raise UnknownOperation(f"The dancu adapter has no operation {request.operation!r}.")


def _read_envelope(response: SystemResponse) -> Mapping[str, Any]:
    try:
        envelope = json.loads(response.body)
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
        envelope = None
    if not isinstance(envelope, dict):
        raise UpstreamAnswerInvalid(
            f"The citizen database answered HTTP {response.status} "
            "without the JSON envelope {error_code, message, data}."
        )
    return envelope
