from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from starlette.responses import Response

from lgsp.routing.router import ERROR_SOURCE_HEADER, ForwardedAnswer, JsonAnswer


@given(body=st.binary(max_size=64), status=st.sampled_from([100, 200, 201, 204, 304, 404, 502]))
def test_a_json_answer_is_starlettes_response_of_it(body: bytes, status: int) -> None:
    """The hop's answer without header fields of its own is, attribute for attribute, the
    `Response` Starlette would make of it: what is sent, and what a fault reads."""
    lean = JsonAnswer(body, status)
    starlette = Response(body, status, None, media_type="application/json")

    _assert_the_same(lean, starlette)


@given(
    body=st.binary(max_size=64),
    status=st.sampled_from([100, 200, 204, 304, 404, 502]),
    media_type=st.sampled_from([None, "application/json", "text/plain", "text/xml; charset=x"]),
    source=st.sampled_from([None, "tiengiang/dancu"]),
)
def test_a_forwarded_answer_is_starlettes_response_of_it(
    body: bytes, status: int, media_type: str | None, source: str | None
) -> None:
    """The next hop's answer passed on (issue 21's cross-province hop), with the refusing
    hop's source when there is one."""
    lean = ForwardedAnswer(body, status, media_type, source)
    headers = None if source is None else {ERROR_SOURCE_HEADER: source}
    _assert_the_same(lean, Response(body, status, headers, media_type=media_type))


def _assert_the_same(lean: Response, starlette: Response) -> None:
    assert isinstance(lean, Response)
    assert type(lean).__call__ is Response.__call__  # lean_gateway's fast path still applies
    assert (lean.status_code, lean.body, lean.raw_headers, lean.background) == (
        starlette.status_code,
        starlette.body,
        starlette.raw_headers,
        starlette.background,
    )
    assert (lean.media_type, dict(lean.headers)) == (starlette.media_type, dict(starlette.headers))
