"""A verification confirms or refutes a guess: one client gets a bounded number of guesses
(SECURITY-PROBE-2026-12 F15: a date of birth fell out in 90 calls, 1 s, with no limit)."""

from __future__ import annotations

import httpx
import pytest

from lgsp.auth.provisioning import system_client_id, system_secret
from lgsp.auth.rate_limit import RateLimiter
from lgsp.settings import Settings
from lgsp.state import BusState
from mocks.dancu.seed import generate_citizens
from tests.fixtures.bus import KG, bearer, fetch_token
from tests.fixtures.clocks import Clock
from tests.fixtures.dossiers import RESIDENCE, applicant_of, first_adult

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def held_clock(bus: BusState) -> Clock[float]:
    """The buckets' clock stands still: no guess comes back while slow calls go (a loaded
    machine took over 2 s for the burst, a guess's worth at 30 a minute). The bus's reset before
    the next test gives it a limiter on the real clock again."""
    clock = Clock(1000.0)
    bus.rate_limiter = RateLimiter(clock=clock)
    return clock


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


async def test_a_guess_comes_back_as_the_bucket_refills_at_the_rate(
    client: httpx.AsyncClient, demo_token: str, settings: Settings, held_clock: Clock[float]
) -> None:
    for _ in range(settings.verify_rate_burst):
        await verify(client, demo_token)

    held_clock.now += 60 / settings.verify_rate_per_minute  # one guess's worth
    refilled = await verify(client, demo_token)
    again = await verify(client, demo_token)

    assert (refilled.status_code, again.status_code) == (200, 429)


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


async def test_filing_a_dossier_is_a_guess_drawn_on_the_same_bucket(
    client: httpx.AsyncClient, demo_token: str, settings: Settings
) -> None:
    """A filing checks the applicant's date of birth as the portal's client, which is not
    counted; the filer is (security re-probe 2026-12-07 #3: 40 guesses in 1.5 s by filing)."""
    citizens = generate_citizens(province_code="91", seed=settings.seed, count=20)
    guess = applicant_of(first_adult(citizens), date_of_birth="1900-01-01")
    filing = {"procedure_code": RESIDENCE, "applicant": guess, "summary": "Đăng ký thường trú"}

    codes = []
    for _ in range(settings.verify_rate_burst + 1):
        answer = await client.post(f"{KG}/dvc/v1/dossiers", json=filing, headers=bearer(demo_token))
        codes.append(answer.json()["code"])
    then = await verify(client, demo_token)

    assert codes == ["APPLICANT_NOT_VERIFIED"] * settings.verify_rate_burst + ["RATE_LIMITED"]
    assert then.status_code == 429


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
