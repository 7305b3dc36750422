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


def test_the_hops_own_fields_are_read_in_one_pass_first_value_first() -> None:
    request = request_with(
        (b"authorization", b"Bearer a"),
        (b"x-lgsp-target", b"tiengiang"),
        (b"content-type", b"application/json"),
        (b"x-lgsp-target", b"ndxp"),
        (b"idempotency-key", b"k-1"),
        (b"x-lgsp-fault", b"kind=timeout"),
    )

    sent = SentHeaders(request)

    assert (sent.authorization, sent.target, sent.content_type) == (
        "Bearer a",
        "tiengiang",
        "application/json",
    )
    assert (sent.idempotency_key, sent.fault) == ("k-1", "kind=timeout")
    assert (sent.accept, sent.prefer, sent.origin) == (None, None, None)
    for name in ("Authorization", "X-LGSP-Target", "Content-Type", "Idempotency-Key"):
        assert SentHeaders(request).get(name) == request.headers.get(name)


def test_an_empty_field_is_sent_and_not_taken_for_an_absent_one() -> None:
    sent = SentHeaders(request_with((b"prefer", b""), (b"prefer", b"respond-async")))

    assert sent.prefer == ""
