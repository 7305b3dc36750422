"""The gateway's JSON text: orjson's speed, the bytes Starlette's `JSONResponse` wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from lgsp.json_text import compact_json

_TEXT = st.text(st.characters(exclude_categories=["Cs"]))  # a lone surrogate fails both alike
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(value=_VALUES)
def test_compact_json_writes_what_jsonresponse_wrote(value: Any) -> None:
    assert compact_json(value) == bytes(JSONResponse(value).body)


@pytest.mark.parametrize(
    "value",
    [2**70, {1: "a", "b": [2**64]}, {"nested": {2: None}}],
    ids=["big int", "int key and big int", "nested int key"],
)
def test_values_orjson_refuses_are_written_by_the_stdlib(value: Any) -> None:
    assert json.loads(compact_json(value)) == json.loads(json.dumps(value))
