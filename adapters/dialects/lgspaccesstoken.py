"""The `lgspaccesstoken` dialect (Hậu Giang, HCM, Khánh Hòa; DOMAIN.md §2.2).

A caller sends `lgspaccesstoken: base64(JSON {AppName, AccessKey, SecretKey, PartnerCode,
PartnerCodeCus})` on every call, alone or beside `Authorization: Bearer` with a token obtained
with it, and reads `{error_code, message, data}` back, `"0"` meaning success.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

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


def parse(value: str) -> AccessToken:
    if len(value) > MAX_HEADER_LENGTH:
        raise HeaderError(f"The {HEADER} header is longer than {MAX_HEADER_LENGTH} characters.")
    try:
        document = json.loads(base64.b64decode(value.strip(), validate=True).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: `[[[…` nested past the stack fits in the length bound (finding 8).
        raise HeaderError(f"The {HEADER} header is not base64 of a JSON object.") from None
    if not isinstance(document, dict):
        raise HeaderError(f"The {HEADER} header is not base64 of a JSON object.")
    fields: dict[str, str] = {}
    for name in _FIELDS:
        field = document.get(name, "")
        if not isinstance(field, str) or len(field) > MAX_FIELD_LENGTH:
            raise HeaderError(f"{name} must be a string of at most {MAX_FIELD_LENGTH} characters.")
        fields[name] = field
    if not fields["AccessKey"] or not fields["SecretKey"]:
        raise HeaderError(f"The {HEADER} header needs AccessKey and SecretKey.")
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
