"""A caller's `X-Request-ID` is kept with any citizen's number in it masked (security re-probe
2026-12-07 #9): the bus writes the id into every log line, audit record and journal entry of
the call, where `cccd-091154541622` stood whole beside a masked path."""

from __future__ import annotations

import httpx
import pytest

from tests.fixtures.bus import KG, bearer

pytestmark = pytest.mark.anyio

GIVEN = "cccd-091048993438"
KEPT = "cccd-091*******38"
CITIZEN = f"{KG}/dancu/v1/citizens/091048993438"


async def test_an_id_holding_a_citizen_number_is_kept_masked_everywhere(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    """The logs' request id is the one the audit record holds (`request_id_var`)."""
    answer = await client.get(CITIZEN, headers={**bearer(demo_token), "X-Request-ID": GIVEN})

    audit = await client.get(
        f"{KG}/admin/audit", params={"request_id": GIVEN}, headers=bearer(demo_token)
    )
    journal = await client.get(
        f"{KG}/admin/journal", params={"request_id": GIVEN}, headers=bearer(demo_token)
    )
    assert answer.headers["X-Request-ID"] == KEPT
    assert {record["request_id"] for record in audit.json()["records"]} == {KEPT}
    assert [entry["request_id"] for entry in journal.json()["entries"]] == [KEPT]


async def test_an_id_without_a_number_to_mask_is_kept_as_sent(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    answer = await client.get(
        CITIZEN, headers={**bearer(demo_token), "X-Request-ID": "order-42.retry:1"}
    )

    assert answer.headers["X-Request-ID"] == "order-42.retry:1"
