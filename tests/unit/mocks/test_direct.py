"""`mocks.direct` renders a route's JSON as Starlette's `JSONResponse` does, whatever it holds."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.responses import JSONResponse

from mocks.direct import json_answer


@pytest.mark.parametrize(
    "content",
    [
        {"HoVaTen": "Nguyễn Văn An", "note": 'a "quote", a \\ and\n\u2028\x7f\x01 <&>'},
        {"n": [0, -1, 2**63 - 1, True, False, None], "empty": {}, "list": []},
        {"big": 2**64},  # past orjson's 64 bits
        {1: "a key that is no string"},
        "é",
    ],
    ids=["text", "scalars", "big-int", "int-key", "string"],
)
def test_json_answer_is_what_json_response_renders(content: Any) -> None:
    assert json_answer(content, 201) == (
        201,
        bytes(JSONResponse(content).body),
        "application/json",
        None,
    )
