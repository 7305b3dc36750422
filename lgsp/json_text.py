"""Compact JSON for the gateway's answers and journal text, written by orjson.

The same bytes as Starlette's `JSONResponse` (compact separators, UTF-8 rather than `\\u`
escapes), at a tenth of the stdlib's time: three serialisations a call were 5% of the in-process
hop's CPU (issue 21). What orjson refuses (integers past 64 bits, keys that are not strings, a
lone surrogate) goes to the stdlib, so that every value is written as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def compact_json_text(value: Any) -> str:
    """`value` as compact JSON text. NaN and infinities are written `null` (orjson's rule)."""
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def compact_json(value: Any) -> bytes:
    """The same as UTF-8 bytes, for a response body."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return compact_json_text(value).encode("utf-8")
