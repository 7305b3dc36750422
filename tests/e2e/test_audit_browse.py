"""`GET {base}/admin/audit` without a request id: the log by page, narrowed by filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from lgsp.settings import Settings
from mocks.dancu.seed import generate_citizens
from tests.fixtures.answers import assert_problem
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio

AUDIT = f"{KG}/admin/audit"


async def make_calls(client: httpx.AsyncClient, token: str, settings: Settings) -> list[str]:
    """Three lookups (inbound and upstream hops) and one 404 (an inbound hop only); the
    lookups' request ids, new in each test (a reset keeps the audit log)."""
    cccd = generate_citizens(province_code="91", seed=settings.seed, count=1)[0].so_dinh_danh
    ids = [f"browse-{uuid4().hex}" for _ in range(3)]
    for request_id in ids:
        response = await client.get(
            f"{KG}/dancu/v1/citizens/{cccd}",
            headers={**bearer(token), "X-Request-ID": request_id},
        )
        assert response.status_code == 200, response.text
    missing = await client.get(f"{KG}/nosuch/v1/x", headers=bearer(token))
    assert missing.status_code == 404
    return ids


async def browse(http: httpx.AsyncClient, token: str, **params: Any) -> dict[str, Any]:
    response = await http.get(AUDIT, params=params, headers=bearer(token))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def test_the_log_is_listed_in_chain_order_by_page(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    since = datetime.now(UTC).isoformat()
    await make_calls(client, demo_token, settings)

    whole = await browse(client, demo_token, since=since)
    pages, url = [], str(httpx.URL(AUDIT, params={"since": since, "limit": 3}))
    while url:
        response = await client.get(url, headers=bearer(demo_token))  # `next` is relative
        assert response.status_code == 200, response.text
        pages.append(response.json())
        url = pages[-1]["next"]

    seqs = [record["seq"] for record in whole["records"]]
    assert whole["request_id"] is None
    assert seqs == sorted(seqs)
    assert len(seqs) >= 7  # 3 × (inbound, upstream), a 404's inbound, the token's
    assert all(len(page["records"]) <= 3 for page in pages)
    paged = [r["seq"] for page in pages for r in page["records"]]
    assert paged[: len(seqs)] == seqs  # then the records of the browsing itself
    assert paged == sorted(set(paged))
    assert whole["next"] is None


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"hop": "upstream"}, lambda r: r["hop"] == "upstream"),
        ({"service": "dancu"}, lambda r: r["service"] == "dancu"),
        ({"client": "demo"}, lambda r: r["caller"] == "demo"),
        ({"status": "404"}, lambda r: r["status"] == 404),
        ({"status": "4xx"}, lambda r: 400 <= r["status"] < 500),
        # a class is a range: the shared bus's log also holds other tests' 201s and 202s
        (
            {"status": "2xx", "hop": "inbound"},
            lambda r: 200 <= r["status"] < 300 and r["hop"] == "inbound",
        ),
    ],
    ids=["hop", "service", "client", "status", "status-class", "two-filters"],
)
async def test_filters_narrow_the_log(
    client: httpx.AsyncClient,
    demo_token: str,
    settings: Settings,
    params: dict[str, str],
    check: Any,
) -> None:
    await make_calls(client, demo_token, settings)

    records = (await browse(client, demo_token, **params))["records"]

    assert records
    assert all(check(record) for record in records), records


async def test_a_time_range_narrows_the_log(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    before = datetime.now(UTC)
    ids = await make_calls(client, demo_token, settings)
    after = datetime.now(UTC) + timedelta(seconds=1)

    inside = await browse(client, demo_token, since=before.isoformat(), until=after.isoformat())
    later = await browse(client, demo_token, since=after.isoformat())
    earlier = await browse(client, demo_token, until=before.isoformat())

    assert {r["request_id"] for r in inside["records"]} >= set(ids)
    assert later["records"] == []
    assert not {r["request_id"] for r in earlier["records"]} & set(ids)


async def test_request_id_still_gives_one_requests_hops(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    request_id = (await make_calls(client, demo_token, settings))[1]

    trail = await browse(client, demo_token, request_id=request_id)
    narrowed = await browse(client, demo_token, request_id=request_id, hop="upstream")

    assert trail["request_id"] == request_id
    assert [r["hop"] for r in trail["records"]] == ["inbound", "upstream"]
    assert [r["hop"] for r in narrowed["records"]] == ["upstream"]


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-01T00:00:00"},  # no offset: which time would that be?
        {"since": "yesterday"},
        {"until": "2026-01-01T00:00:00Z", "since": "2026-02-01T00:00:00Z"},
        {"status": "abc"},
        {"status": "600"},
        {"hop": "In Bound"},
        {"limit": "0"},
        {"limit": "100000"},
        {"after": "-1"},
        {"after": str(2**63)},  # past a BIGINT: PostgreSQL's driver would fail, a 500
        {"since": "0001-01-01T00:00:00+01:00"},  # before year 1 in UTC
    ],
)
async def test_bad_filters_are_a_422_problem(
    client: httpx.AsyncClient, demo_token: str, params: dict[str, str]
) -> None:
    response = await client.get(AUDIT, params=params, headers=bearer(demo_token))

    assert_problem(response, 422, "INVALID_REQUEST")


async def test_browsing_needs_an_admin_client(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client, scope="dancu")

    response = await client.get(AUDIT, headers=bearer(token))

    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
