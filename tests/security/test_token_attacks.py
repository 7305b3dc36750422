"""Issue 7's token attacks, each refused with 401 and a problem that names what is wrong.

Every forged token below is otherwise valid (the demo client, real scopes), so a refusal can only
come from the one check each attack targets; where a token is signed it is signed with Kiên
Giang's own key, so that nothing but that check stands between it and a 200.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from jose import jwt

from lgsp.auth.tokens import MAX_TOKEN_LENGTH
from lgsp.state import BusState
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, bearer, fetch_token

pytestmark = pytest.mark.anyio

SERVICES = f"{KG}/services"
ISSUER = f"{TEST_PUBLIC_URL}{KG}"

MakeToken = Callable[[httpx.AsyncClient, BusState], Awaitable[str]]


def claims(**changes: Any) -> dict[str, Any]:
    """What Kiên Giang itself would put in a demo token issued now, with `changes`."""
    now = int(datetime.now(UTC).timestamp())
    valid = {
        "iss": ISSUER,
        "aud": ISSUER,
        "sub": "demo",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "forged",
        "scope": "dancu admin",
    }
    return {**valid, **changes}


def signed(bus: BusState, payload: dict[str, Any]) -> str:
    key = bus.instances["kiengiang"].keys.signing
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, str], payload: dict[str, Any]) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


async def alg_none(_http: httpx.AsyncClient, bus: BusState) -> str:
    kid = bus.instances["kiengiang"].keys.signing.kid
    return unsigned({"alg": "none", "kid": kid}, claims()) + "."


async def hs256_keyed_with_the_public_key(_http: httpx.AsyncClient, bus: BusState) -> str:
    """Algorithm confusion: HMAC with the RSA public key, which the JWKS publishes."""
    key = bus.instances["kiengiang"].keys.signing
    signing_input = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims())
    mac = hmac.new(key.public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def from_another_instance(http: httpx.AsyncClient, _bus: BusState) -> str:
    return await fetch_token(http, "/lgsp/tiengiang")


async def wrong_issuer(_http: httpx.AsyncClient, bus: BusState) -> str:
    return signed(bus, claims(iss=f"{TEST_PUBLIC_URL}/lgsp/tiengiang"))


async def wrong_audience(_http: httpx.AsyncClient, bus: BusState) -> str:
    return signed(bus, claims(aud=f"{TEST_PUBLIC_URL}/lgsp/tiengiang"))


async def expired(_http: httpx.AsyncClient, bus: BusState) -> str:
    now = int(datetime.now(UTC).timestamp())
    return signed(bus, claims(iat=now - 7200, nbf=now - 7200, exp=now - 3600))


async def not_yet_valid(_http: httpx.AsyncClient, bus: BusState) -> str:
    now = int(datetime.now(UTC).timestamp())
    return signed(bus, claims(iat=now, nbf=now + 3600, exp=now + 7200))


async def revoked(http: httpx.AsyncClient, _bus: BusState) -> str:
    token = await fetch_token(http)
    answer = await http.post(
        f"{KG}/token/revoke", data={"token": token}, auth=("demo", "lgsp-demo-secret")
    )
    assert answer.status_code == 200
    return token


async def malformed(_http: httpx.AsyncClient, _bus: BusState) -> str:
    return "eyJhbGciOiJSUzI1NiJ9.not-base64!.x"


async def oversized(_http: httpx.AsyncClient, bus: BusState) -> str:
    """Correctly signed by Kiên Giang: only the length limit refuses it."""
    token = signed(bus, claims(padding="x" * MAX_TOKEN_LENGTH))
    assert len(token) > MAX_TOKEN_LENGTH
    return token


ATTACKS: list[tuple[MakeToken, str]] = [
    (alg_none, "'none' are not accepted"),
    (hs256_keyed_with_the_public_key, "'HS256' are not accepted"),
    (from_another_instance, "not signed by a key of this instance"),
    (wrong_issuer, "Invalid issuer"),
    (wrong_audience, "Invalid audience"),
    (expired, "has expired"),
    (not_yet_valid, "not yet valid"),
    (revoked, "has been revoked"),
    (malformed, "not a well-formed JWT"),
    (oversized, "too long"),
]


@pytest.mark.parametrize(
    ("make_token", "reason"), ATTACKS, ids=lambda v: getattr(v, "__name__", "")
)
async def test_each_token_attack_is_a_401_problem_naming_the_reason(
    client: httpx.AsyncClient, bus: BusState, make_token: MakeToken, reason: str
) -> None:
    token = await make_token(client, bus)

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.json()["code"] == "INVALID_TOKEN"
    assert reason in response.json()["detail"]


async def test_a_token_signed_as_the_forgeries_are_but_untouched_is_accepted(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    """The control: the refusals above come from the attack, not from the forging."""
    response = await client.get(SERVICES, headers=bearer(signed(bus, claims())))

    assert response.status_code == 200


class CompareSpy:
    """Counts the calls of `hmac.compare_digest` made while checking a client secret."""

    def __init__(self) -> None:
        self.calls = 0
        self._compare = hmac.compare_digest

    def __call__(self, a: str, b: str) -> bool:
        self.calls += 1
        return self._compare(a, b)


@pytest.mark.parametrize(
    ("client_id", "secret", "status"),
    [
        ("demo", "lgsp-demo-secret", 200),
        ("demo", "lgsp-demo-secreT", 401),
        ("nobody", "lgsp-demo-secret", 401),
        ("not a client id!", "x", 401),
    ],
    ids=["right", "wrong-secret", "unknown-client", "impossible-client-id"],
)
async def test_every_secret_check_is_one_constant_time_comparison(
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
    client_id: str,
    secret: str,
    status: int,
) -> None:
    """Known or not, right or wrong, the token endpoint does the same work: one HMAC compared
    with `hmac.compare_digest`, against a dummy hash when the client does not exist."""
    spy = CompareSpy()
    monkeypatch.setattr(hmac, "compare_digest", spy)  # as `credentials` calls it

    response = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )

    assert response.status_code == status
    assert spy.calls == 1
