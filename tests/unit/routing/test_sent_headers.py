"""The hop reads the caller's headers as Starlette's `request.headers.get` would."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from lgsp.routing.router import SentHeaders


def request_with(*headers: tuple[bytes, bytes]) -> Request:
    return Request({"type": "http", "method": "GET", "headers": list(headers)})


@pytest.mark.parametrize("name", ["X-LGSP-Target", "x-lgsp-target", "X-Lgsp-TARGET"])
def test_a_header_is_found_by_any_case_of_its_name_and_a_repeated_one_by_its_first_value(
    name: str,
) -> None:
    request = request_with(
        (b"x-lgsp-target", b"tiengiang"), (b"accept", b"*/*"), (b"x-lgsp-target", b"ndxp")
    )

    assert SentHeaders(request).get(name) == "tiengiang" == request.headers.get(name)


def test_an_absent_header_is_none_and_values_are_latin_1() -> None:
    request = request_with((b"x-note", "caf\xe9".encode("latin-1")))

    assert SentHeaders(request).get("Prefer") is None
    assert SentHeaders(request).get("X-Note") == "café" == request.headers.get("X-Note")
