"""Header limits (431): in-process, where no server bounds them, and behind uvicorn, whose h11
does not bound a header block that arrives in one piece. Body limits are in
`tests/unit/test_middleware.py` and `tests/e2e/test_problem_shape.py`.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from lgsp.middleware import MAX_HEADER_BYTES, MAX_HEADERS, EntryMiddleware
from tests.fixtures.bus import KG, bearer
from tests.fixtures.processes import free_port, start_lgsp, stop, wait_ready

pytestmark = pytest.mark.anyio

SERVICES = f"{KG}/services"
HUGE = {"X-Padding": "a" * MAX_HEADER_BYTES}
MANY = {f"X-Padding-{number}": "a" for number in range(MAX_HEADERS)}


def assert_431(response: httpx.Response) -> None:
    assert response.status_code == 431, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "REQUEST_HEADERS_TOO_LARGE"
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize("extra", [HUGE, MANY], ids=["one-huge-header", "too-many-headers"])
async def test_oversized_headers_are_refused_431_before_the_token_is_read(
    client: httpx.AsyncClient, demo_token: str, extra: dict[str, str]
) -> None:
    response = await client.get(SERVICES, headers={**bearer(demo_token), **extra})

    assert_431(response)


async def test_headers_a_real_call_sends_pass(client: httpx.AsyncClient, demo_token: str) -> None:
    ordinary = {f"X-Trace-{number}": "x" * 100 for number in range(MAX_HEADERS // 2)}

    response = await client.get(SERVICES, headers={**bearer(demo_token), **ordinary})

    assert response.status_code == 200


async def answer_ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def call(headers: list[tuple[bytes, bytes]]) -> int:
    """The status the middleware answers for exactly these header fields."""
    statuses: list[int] = []
    scope: Scope = {"type": "http", "path": "/", "headers": headers}

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    limited = EntryMiddleware(answer_ok, max_bytes=10, max_headers=3, max_header_bytes=20)
    await limited(scope, receive, send)
    return statuses[0]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([(b"a", b"1")] * 3, 200),
        ([(b"a", b"1")] * 4, 431),
        ([(b"name", b"x" * 16)], 200),
        ([(b"name", b"x" * 17)], 431),
        ([(b"a", b"x" * 9), (b"b", b"x" * 9)], 200),
        ([(b"a", b"x" * 9), (b"b", b"x" * 10)], 431),
    ],
)
async def test_limits_count_fields_and_the_bytes_of_names_and_values(
    headers: list[tuple[bytes, bytes]], status: int
) -> None:
    assert await call(headers) == status


@pytest.mark.processes
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_uvicorn_passes_oversized_headers_on_and_the_bus_refuses_them(
    database_url: str, tmp_path: Path
) -> None:
    """Through a real `lgsp serve`: one write carries the whole header block, as a client on
    the same machine sends it, so only the bus's own limit stands in the way."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_lgsp(
        ["serve", "--port", str(port), "--data-dir", str(tmp_path)],
        env={"LGSP_DATABASE_URL": database_url, "LGSP_POPULATION": "20"},
        log=tmp_path / "bus.log",
    )
    try:
        await wait_ready(base, process)
        async with httpx.AsyncClient(base_url=base) as http:
            huge = await http.get(SERVICES, headers=HUGE)
            many = await http.get(SERVICES, headers=MANY)
            ordinary = await http.get(SERVICES)
    finally:
        stop(process)

    assert_431(huge)
    assert_431(many)
    assert ordinary.status_code == 401  # the same request, within limits, reaches the auth check
