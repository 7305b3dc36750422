"""The `lgspaccesstoken` dialect (Hậu Giang, HCM, Khánh Hòa; DOMAIN.md §2.2).

A caller sends `base64(JSON {AppName, AccessKey, SecretKey, PartnerCode, PartnerCodeCus})` on
every call. In Hậu Giang's and Khánh Hòa's form (`HAUGIANG`) it is the `lgspaccesstoken` header,
alone or beside `Authorization: Bearer` with a token obtained with it, and the caller reads
`{error_code, message, data}` back, `"0"` meaning success. In HCM's (`HOCHIMINH`) it is the
`Authorization` header itself, and the caller reads `{StatusCode, Status, ThrowException,
Description, ResultObject}`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from formats import ngsp

HEADER = "lgspaccesstoken"
SENDER_HEADER, TRAN_HEADER, RECEIVER_HEADER = "SENDER_CODE", "TRAN_CODE", "RECEIVER_CODE"
"""Routing headers of the Khánh Hòa client (DOMAIN.md §2.2)."""
MAX_HEADER_LENGTH = 2048
"""Base64 of five short fields is a few hundred characters; nothing longer is decoded."""
MAX_FIELD_LENGTH = 200
_FIELDS = ("AppName", "AccessKey", "SecretKey", "PartnerCode", "PartnerCodeCus")
SUCCESS = ngsp.SUCCESS


class HeaderError(ValueError):
    """The header is not base64 of the JSON object the dialect defines; the message says why."""


@dataclass(frozen=True)
class AccessToken:
    app_name: str
    access_key: str
    secret_key: str
    partner_code: str
    partner_code_cus: str

    def __repr__(self) -> str:  # never the secret, in a log or a traceback
        return f"AccessToken(app_name={self.app_name!r}, access_key={self.access_key!r})"


def parse(value: str, *, header: str = HEADER) -> AccessToken:
    """The credentials in `value`, the JSON sent in `header` (named in a refusal's message)."""
    if len(value) > MAX_HEADER_LENGTH:
        raise HeaderError(f"The {header} header is longer than {MAX_HEADER_LENGTH} characters.")
    try:
        document = json.loads(base64.b64decode(value.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: `[[[…` nested past the stack fits in the length bound (finding 8).
        raise HeaderError(f"The {header} header is not base64 of a JSON object.") from None
    if not isinstance(document, dict):
        raise HeaderError(f"The {header} header is not base64 of a JSON object.")
    fields: dict[str, str] = {}
    for name in _FIELDS:
        field = document.get(name, "")
        if not isinstance(field, str) or len(field) > MAX_FIELD_LENGTH:
            raise HeaderError(f"{name} must be a string of at most {MAX_FIELD_LENGTH} characters.")
        fields[name] = field
    if not fields["AccessKey"] or not fields["SecretKey"]:
        raise HeaderError(f"The {header} header needs AccessKey and SecretKey.")
    return AccessToken(*(fields[name] for name in _FIELDS))


def encode(token: AccessToken) -> str:
    """The header value a client sends (what `lgsp clients create --dialect` prints)."""
    document = dict(
        zip(
            _FIELDS,
            (
                token.app_name,
                token.access_key,
                token.secret_key,
                token.partner_code,
                token.partner_code_cus,
            ),
            strict=True,
        )
    )
    return base64.b64encode(json.dumps(document, ensure_ascii=False).encode()).decode()


def success(data: Any) -> dict[str, Any]:
    return ngsp.envelope(data, message="Thành công")


AUTHEN_ERROR = "100"
# NGSP's codes (Quảng Bình "via NGSP" guide, DOMAIN.md §2.1) for the bus's statuses: assigned.
_CODES = {
    401: AUTHEN_ERROR,
    403: AUTHEN_ERROR,
    404: ngsp.RECORD_NOT_FOUND,
    400: ngsp.DATA_TYPE_INVALID,
    413: ngsp.DATA_TYPE_INVALID,
    415: ngsp.DATA_TYPE_INVALID,
    422: ngsp.DATA_TYPE_INVALID,
}
_ORGANISATION_CODE = "106"
"""AGENCY_ID_INCORRECT: the bus refused the organisation (agency id) the call names."""


def error_code(status: int, problem_code: str | None = None) -> str:
    """The envelope's `error_code` for the bus's refusal (status and problem code): assigned."""
    if problem_code is not None and problem_code.startswith("ORGANISATION"):
        return _ORGANISATION_CODE
    return _CODES.get(status, ngsp.DATA_INCORRECT)


def failure(status: int, message: str, *, problem_code: str | None = None) -> dict[str, Any]:
    """The envelope of a refusal; `message` is the bus's own (it names no internals)."""
    return ngsp.envelope(None, error_code=error_code(status, problem_code), message=message)


def hcm_success(data: Any) -> dict[str, Any]:
    """HCM's envelope as its Python client reads it (DOMAIN.md §2.2, code index 40420095176);
    the `Description` of a success is assigned."""
    return {
        "StatusCode": 200,
        "Status": "SUCCESS",
        "ThrowException": False,
        "Description": "Thành công",
        "ResultObject": data,
    }


HCM_FAILED = "FAIL"
"""`Status` of a refusal: assigned (the source shows only a success)."""


def hcm_failure(status: int, message: str, *, problem_code: str | None = None) -> dict[str, Any]:
    """A refusal in HCM's envelope: `StatusCode` the HTTP status, `Status` `FAIL`, and
    `ThrowException` true for a server error (all assigned); `message` is the bus's own."""
    del problem_code  # HCM's envelope has no code beside the status; the message begins with it
    return {
        "StatusCode": status,
        "Status": HCM_FAILED,
        "ThrowException": status >= 500,
        "Description": message,
        "ResultObject": None,
    }


Variant = Literal["haugiang", "hochiminh"]


@dataclass(frozen=True)
class Form:
    """Where a variant's caller puts the credentials, and how its answers are written."""

    header: str
    success: Callable[[Any], dict[str, Any]]
    failure: Callable[..., dict[str, Any]]


FORMS: dict[Variant, Form] = {
    "haugiang": Form(HEADER, success, failure),
    "hochiminh": Form("Authorization", hcm_success, hcm_failure),
}
