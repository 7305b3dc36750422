"""The legacy NGSP answer envelope: `{error_code, message, <payload>}`, "0" meaning success.

Provincial NGSP services answer every call so, under the payload key `data`, with the codes of
the Quảng Bình NGSP guide (DOMAIN.md §2.1, §8.1); DVCQG's adapter protocol answers in the same
envelope under `result` (§2.3). Systems write it and adapters read it: the keys and the codes
are facts of the real format, kept here once.
"""

from __future__ import annotations

import json
from typing import Any

SUCCESS = "0"
RECORD_NOT_FOUND = "201"
DATA_TYPE_INVALID = "302"
DATA_INCORRECT = "500"

DATA = "data"
"""The payload key of provincial services; DVCQG's is `result`."""


def envelope(
    payload: Any, *, error_code: str = SUCCESS, message: str = "OK", key: str = DATA
) -> dict[str, Any]:
    """One answer in the envelope, keys in the order the real services write them."""
    return {"error_code": error_code, "message": message, key: payload}


def request_object(body: bytes) -> dict[str, Any] | None:
    """The JSON object a request in this family carries (`{service, …}`, a portal's
    `{HoVaTen, …}`), or None when the body is not JSON (not UTF-8, nested past the stack) or
    not an object: the caller answers that in its own error form."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None
