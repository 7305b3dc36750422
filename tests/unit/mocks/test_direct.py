"""`mocks.direct` renders a route's JSON as Starlette's `JSONResponse` does, whatever it holds."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.responses import JSONResponse

from mocks.direct import DirectRoute, json_answer


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
    assert json_answer(content, 201)[:4] == (
        201,
        bytes(JSONResponse(content).body),
        "application/json",
        None,
    )


@pytest.mark.parametrize(
    ("content", "handed_over"),
    [
        ({"HoVaTen": "Nguyễn Văn An", "n": [0, -1, 2**63 - 1, True, None], "empty": {}}, True),
        ("é", True),
        ({1: "a key that is no string"}, False),  # rendered `{"1": …}`: not what it parses to
        ({"big": 2**64}, False),
    ],
    ids=["object", "string", "int-key", "big-int"],
)
def test_json_answer_hands_over_its_content_only_as_what_the_body_parses_to(
    content: Any, handed_over: bool
) -> None:
    answer = json_answer(content)

    assert answer.document is (content if handed_over else None)
    if handed_over:
        assert json.loads(answer.body) == answer.document


@pytest.mark.parametrize(
    "path", ["/api/congdan", "/api/congdan/{so}/ho", "/api/{a}/{b}", "/api/{a}{b}", "/api/{}"]
)
def test_a_direct_route_is_a_literal_prefix_and_one_last_parameter(path: str) -> None:
    """What `DirectAnswers` matches by prefix alone: any other shape is refused when built,
    rather than matched wrongly."""
    with pytest.raises(ValueError, match="one last parameter"):
        DirectRoute(path, json_answer)

    assert DirectRoute("/api/ho/{ma_ho}", json_answer).prefix == "/api/ho/"
