"""A citizen's number in a caller's `X-Request-ID` is masked in every copy the bus keeps, and
the answer echoes the id as sent (security re-probe 2026-12-07 #9).

The bus writes the id into every log line (`request_id_var`, as the access log and
`RequestIdFilter` read it), audit record and journal entry of the call, where
`cccd-091048993438` stood whole beside a masked path. Masking the echo too was reverted: a
hex id holds nine digits in a row about one time in four, and an integrator matches the echo
with the id it sent. So the echo is the caller's, and the kept copies are masked.
"""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from lgsp.logging import request_id_var
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer

pytestmark = pytest.mark.anyio

GIVEN = "cccd-091048993438"
KEPT = "cccd-091*******38"
CITIZEN = f"{KG}/dancu/v1/citizens/091048993438"


@pytest.fixture(name="logged_ids")
async def fx_logged_ids(app: FastAPI) -> list[str]:
    return []


@pytest.fixture(name="logging_client")
async def fx_logging_client(app: FastAPI, logged_ids: list[str]) -> httpx.AsyncClient:
    """A client whose server notes the request id a log line of the answer would carry: what
    `request_id_var` holds when the answer starts, as uvicorn's access log reads it."""

    async def server(scope: Scope, receive: Receive, send: Send) -> None:
        async def noting_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                logged_ids.append(request_id_var.get() or "-")
            await send(message)

        await app(scope, receive, noting_send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server), base_url=TEST_PUBLIC_URL)


async def test_a_citizen_number_in_the_id_is_masked_in_logs_audit_and_journal(
    logging_client: httpx.AsyncClient,
    client: httpx.AsyncClient,
    demo_token: str,
    logged_ids: list[str],
) -> None:
    async with logging_client:
        answer = await logging_client.get(
            CITIZEN, headers={**bearer(demo_token), "X-Request-ID": GIVEN}
        )
    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": GIVEN}, headers=bearer(demo_token)
    )
    audit_by_kept = await client.get(
        f"{KG}/admin/audit", params={"request_id": KEPT}, headers=bearer(demo_token)
    )
    journal = await client.get(
        f"{KG}/admin/journal", params={"request_id": GIVEN}, headers=bearer(demo_token)
    )

    assert answer.headers["X-Request-ID"] == GIVEN  # the caller's own id, to match its own
    assert logged_ids == [KEPT]
    records = audit.json()["records"]
    assert records
    assert {record["request_id"] for record in records} == {KEPT}
    assert audit_by_kept.json()["records"] == records
    assert [entry["request_id"] for entry in journal.json()["entries"]] == [KEPT]


async def test_a_refusal_echoes_the_id_as_sent(client: httpx.AsyncClient) -> None:
    answer = await client.get(CITIZEN, headers={"X-Request-ID": GIVEN})

    assert answer.status_code == 401
    assert answer.headers["X-Request-ID"] == GIVEN


@pytest.mark.parametrize(
    "given_id",
    [
        "browse-0c268470460442df0d1e2f3a",
        str(uuid.UUID("5b0c1c1e-6f1d-4a52-9a47-091048993438")),
        uuid.UUID("5b0c1c1e-6f1d-4a52-9a47-091048993438").hex,
        "order-42.retry:1",
    ],
)
async def test_an_id_without_a_standing_number_is_kept_as_sent(
    logging_client: httpx.AsyncClient, demo_token: str, logged_ids: list[str], given_id: str
) -> None:
    async with logging_client:
        answer = await logging_client.get(
            CITIZEN, headers={**bearer(demo_token), "X-Request-ID": given_id}
        )

    assert answer.headers["X-Request-ID"] == given_id
    assert logged_ids == [given_id]
