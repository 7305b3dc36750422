from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import Response

from lgsp.routing.router import JsonAnswer


@given(body=st.binary(max_size=64), status=st.sampled_from([100, 200, 201, 204, 304, 404, 502]))
def test_a_json_answer_is_starlettes_response_of_it(body: bytes, status: int) -> None:
    """The hop's answer without header fields of its own is, attribute for attribute, the
    `Response` Starlette would make of it: what is sent, and what a fault reads."""
    lean = JsonAnswer(body, status)
    starlette = Response(body, status, None, media_type="application/json")

    assert isinstance(lean, Response)
    assert type(lean).__call__ is Response.__call__  # lean_gateway's fast path still applies
    assert (lean.status_code, lean.body, lean.raw_headers, lean.background) == (
        starlette.status_code,
        starlette.body,
        starlette.raw_headers,
        starlette.background,
    )
    assert (lean.media_type, dict(lean.headers)) == (starlette.media_type, dict(starlette.headers))
