"""A verification confirms or refutes a guess: one client gets a bounded number of guesses
(SECURITY-PROBE-2026-12 F15: a date of birth fell out in 90 calls, 1 s, with no limit)."""

from __future__ import annotations

import httpx
import pytest

from lgsp.auth.provisioning import system_client_id, system_secret
from lgsp.settings import Settings
from tests.fixtures.bus import KG, bearer, fetch_token

pytestmark = pytest.mark.anyio

CLAIM = {"cccd": "091048993438", "full_name": "Nguyễn Văn A", "date_of_birth": "1948-01-01"}


async def verify(client: httpx.AsyncClient, token: str, base: str = KG) -> httpx.Response:
    return await client.post(f"{base}/dancu/v1/citizens/verify", json=CLAIM, headers=bearer(token))


async def test_a_client_gets_the_burst_of_guesses_then_429_by_default(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    answers = [await verify(client, demo_token) for _ in range(settings.verify_rate_burst + 1)]

    assert [a.status_code for a in answers[:-1]] == [200] * settings.verify_rate_burst
    refused = answers[-1]
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "RATE_LIMITED"
    assert int(refused.headers["retry-after"]) >= 1


async def test_the_national_verify_draws_on_the_same_guesses_and_lookups_on_none(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    for _ in range(settings.verify_rate_burst):
        assert (await verify(client, demo_token)).status_code == 200

    national = await client.post(
        f"{KG}/csdlqgdc/v1/citizens/verify", json=CLAIM, headers=bearer(demo_token)
    )
    lookup = await client.get(f"{KG}/dancu/v1/citizens/091048993438", headers=bearer(demo_token))

    assert national.status_code == 429
    assert lookup.status_code != 429


async def test_the_bus_own_system_clients_are_not_counted(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The portal verifies every applicant as `system-dvc`, for every tenant that files: the
    portal's client is not limited as a guesser (a tenant filing guesses leaves a dossier and
    an audit record for each)."""
    token = await fetch_token(
        client,
        client_id=system_client_id("dvc"),
        secret=system_secret(settings, instance="kiengiang", system="dvc"),
        scope="dancu",
    )

    answers = [await verify(client, token) for _ in range(settings.verify_rate_burst * 2)]

    assert {a.status_code for a in answers} == {200}
