"""Per-client rate limits: 429 RATE_LIMITED with `Retry-After`, per client and service."""

from __future__ import annotations

import httpx
import pytest

from lgsp.settings import Settings
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio

PROCEDURES = f"{KG}/dvc/v1/procedures"


@pytest.fixture
def default_rate() -> tuple[float, int]:
    """The bus's default (per second, burst); a test parametrises it to set one."""
    return (0.0, 0)


@pytest.fixture
def settings(settings: Settings, default_rate: tuple[float, int]) -> Settings:
    per_second, burst = default_rate
    return settings.model_copy(
        update={"rate_limit_per_second": per_second, "rate_limit_burst": burst}
    )


def bus_default(per_second: float, burst: int) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("default_rate", [(per_second, burst)])


async def vendor(settings: Settings, *services: str, rates: list[str]) -> str:
    from lgsp.admin_tasks import create_client

    created = await create_client(
        settings,
        instance="kiengiang",
        name="vendor",
        services=list(services),
        is_admin=False,
        rates=rates,
    )
    return created.client_id + ":" + created.client_secret


async def token_of(http: httpx.AsyncClient, credentials: str) -> str:
    client_id, secret = credentials.split(":")
    return await fetch_token(http, client_id=client_id, secret=secret)


@bus_default(0.05, 2)
async def test_the_call_past_the_burst_is_refused_with_429_and_retry_after(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    allowed = [await client.get(PROCEDURES, headers=bearer(demo_token)) for _ in range(2)]
    refused = await client.get(PROCEDURES, headers=bearer(demo_token))

    assert [response.status_code for response in allowed] == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "RATE_LIMITED"
    assert body["status"] == 429
    retry_after = refused.headers["retry-after"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 20
    assert body["retry_after"] == int(retry_after)


@bus_default(0.05, 1)
async def test_each_service_and_each_client_has_its_own_bucket(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    other = await token_of(client, await vendor(settings, "dvc", rates=[]))
    first = await client.get(PROCEDURES, headers=bearer(demo_token))
    limited = await client.get(PROCEDURES, headers=bearer(demo_token))

    other_service = await client.get(f"{KG}/services", headers=bearer(demo_token))
    other_client = await client.get(PROCEDURES, headers=bearer(other))
    other_instance = await client.get(
        "/lgsp/tiengiang/dvc/v1/procedures",
        headers=bearer(await fetch_token(client, "/lgsp/tiengiang")),
    )

    assert (first.status_code, limited.status_code) == (200, 429)
    assert other_service.status_code == 200
    assert other_client.status_code == 200
    assert other_instance.status_code == 200


@bus_default(0.05, 1)
async def test_invalid_tokens_are_refused_before_they_spend_the_clients_calls(
    client: httpx.AsyncClient, demo_token: str
) -> None:
    for _ in range(3):
        assert (await client.get(PROCEDURES, headers=bearer("bad"))).status_code == 401

    assert (await client.get(PROCEDURES, headers=bearer(demo_token))).status_code == 200


async def test_a_clients_own_rate_applies_when_the_bus_has_no_limit(
    client: httpx.AsyncClient, settings: Settings, demo_token: str
) -> None:
    assert settings.rate_limit_per_second == 0  # the default: no limit
    limited = await token_of(client, await vendor(settings, "dvc", rates=["1/m,burst=1"]))

    first = await client.get(PROCEDURES, headers=bearer(limited))
    second = await client.get(PROCEDURES, headers=bearer(limited))
    unlimited = [await client.get(PROCEDURES, headers=bearer(demo_token)) for _ in range(20)]

    assert (first.status_code, second.status_code) == (200, 429)
    assert 1 <= int(second.headers["retry-after"]) <= 60
    assert {response.status_code for response in unlimited} == {200}


async def test_a_per_service_rate_limits_that_service_only(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    token = await token_of(client, await vendor(settings, "dvc", "dancu", rates=["dvc=1/h"]))

    calls = [await client.get(PROCEDURES, headers=bearer(token)) for _ in range(2)]
    catalog = [await client.get(f"{KG}/services", headers=bearer(token)) for _ in range(5)]

    assert [response.status_code for response in calls] == [200, 429]
    assert {response.status_code for response in catalog} == {200}


@pytest.mark.parametrize("spec", ["fast", "0/s", "nosuch=1/s"])
async def test_an_unreadable_rate_is_refused_when_the_client_is_created(
    settings: Settings, spec: str
) -> None:
    with pytest.raises(ValueError, match="rate|service"):
        await vendor(settings, "dvc", rates=[spec])
