"""The OAuth2 token endpoint and what the gateway does with the tokens it issued."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from jose import jwt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from lgsp.auth.keys import KeyCipher, KeySet, load_or_create_keys
from lgsp.auth.models import SigningKey
from lgsp.auth.repository import ClientRepository
from lgsp.auth.tokens import issue_token
from lgsp.db import make_session_factory
from lgsp.settings import Settings
from lgsp.state import BusState
from tests.fixtures.answers import assert_oauth_error
from tests.fixtures.bus import KG, TEST_PUBLIC_URL, BusPool, bearer, bus_settings, fetch_token

pytestmark = pytest.mark.anyio

SERVICES = f"{KG}/services"
DEMO = ("demo", "lgsp-demo-secret")


async def instance_keys(engine: AsyncEngine, settings: Settings, instance: str) -> KeySet:
    """The keys the running bus signs with, opened with its data dir's cipher."""
    cipher = KeyCipher.from_settings(settings)
    async with make_session_factory(engine).begin() as session:
        return await load_or_create_keys(ClientRepository(session), instance, cipher)


async def signed_token(
    bus: BusState,
    settings: Settings,
    *,
    issuer: str = KG,
    ttl: timedelta = timedelta(minutes=5),
    issued: timedelta = timedelta(0),
) -> str:
    """A demo token signed with Kiên Giang's own key, issued `issued` from now by `issuer`."""
    keys = await instance_keys(bus.engine, settings, "kiengiang")
    return issue_token(
        keys,
        issuer=f"{TEST_PUBLIC_URL}{issuer}",
        client_id="demo",
        scopes=["dancu"],
        ttl=ttl,
        now=datetime.now(UTC) + issued,
    )


def forge(claims: dict[str, object], header: dict[str, str]) -> str:
    """A JWT with any header and claims and an empty signature (for `alg: none`)."""

    def part(value: dict[str, object] | dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def valid_claims() -> dict[str, object]:
    """Claims Kiên Giang would accept, for tokens that differ only in how they are signed."""
    now = int(datetime.now(UTC).timestamp())
    return {
        "iss": f"{TEST_PUBLIC_URL}{KG}",
        "aud": f"{TEST_PUBLIC_URL}{KG}",
        "sub": "demo",
        "iat": now,
        "exp": now + 300,
        "jti": "x",
        "scope": "dancu admin",
    }


async def test_token_request_with_basic_auth_returns_a_signed_jwt(
    client: httpx.AsyncClient, bus: BusState
) -> None:
    response = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=("demo", "lgsp-demo-secret")
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert set(body["scope"].split()) == {"admin", *(service.id for service in bus.catalog)}
    jwks = (await client.get(f"{KG}/.well-known/jwks.json")).json()
    claims = jwt.decode(
        body["access_token"],
        jwks,
        algorithms=["RS256"],
        audience=f"{TEST_PUBLIC_URL}{KG}",
        issuer=f"{TEST_PUBLIC_URL}{KG}",
    )
    assert claims["sub"] == "demo"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"


async def test_token_request_with_form_credentials_and_narrower_scope(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        f"{KG}/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo",
            "client_secret": "lgsp-demo-secret",
            "scope": "dancu",
        },
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "dancu"


@pytest.mark.parametrize(
    ("endpoint", "data", "auth", "status", "error"),
    [
        ("/token", {"grant_type": "client_credentials"}, ("demo", "wrong"), 401, "invalid_client"),
        (
            "/token",
            {"grant_type": "client_credentials"},
            ("nobody", "lgsp-demo-secret"),
            401,
            "invalid_client",
        ),
        ("/token", {"grant_type": "client_credentials"}, None, 401, "invalid_client"),
        (
            "/token",
            {"grant_type": "password"},
            DEMO,
            400,
            "unsupported_grant_type",
        ),
        ("/token", {}, DEMO, 400, "invalid_request"),
        (
            "/token",
            {"grant_type": "client_credentials", "scope": "nosuch"},
            DEMO,
            400,
            "invalid_scope",
        ),
        (
            "/token",
            {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "x"},
            DEMO,
            400,
            "invalid_request",
        ),
        ("/token/revoke", {"token": "x"}, ("demo", "wrong"), 401, "invalid_client"),
        ("/token/revoke", {"token": "x"}, None, 401, "invalid_client"),
        ("/token/revoke", {}, DEMO, 400, "invalid_request"),
        ("/token/revoke", {"token": ""}, DEMO, 400, "invalid_request"),
    ],
)
async def test_bad_token_and_revocation_requests_get_rfc6749_errors(
    client: httpx.AsyncClient,
    endpoint: str,
    data: dict[str, str],
    auth: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    response = await client.post(f"{KG}{endpoint}", data=data, auth=auth)

    assert_oauth_error(response, status, error)


async def test_token_request_as_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{KG}/token",
        json={"grant_type": "client_credentials"},
        auth=("demo", "lgsp-demo-secret"),
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def test_demo_client_of_one_instance_is_unknown_to_its_secret_elsewhere(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/lgsp/tiengiang/token",
        data={"grant_type": "client_credentials"},
        auth=("demo", "not-the-secret"),
    )

    assert response.status_code == 401


async def test_valid_token_is_accepted(client: httpx.AsyncClient, demo_token: str) -> None:
    response = await client.get(SERVICES, headers=bearer(demo_token))

    assert response.status_code == 200


async def test_missing_token_is_refused_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get(SERVICES)

    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("issuer", "ttl", "issued", "reason"),
    [
        pytest.param(KG, timedelta(seconds=60), timedelta(hours=-2), "expired", id="expired"),
        pytest.param(KG, timedelta(hours=3), timedelta(hours=1), None, id="not-yet-valid"),
        pytest.param(
            "/lgsp/tiengiang", timedelta(minutes=5), timedelta(0), "claims", id="other-audience"
        ),
    ],
)
async def test_a_token_signed_with_the_right_key_but_wrong_claims_is_refused(
    client: httpx.AsyncClient,
    bus: BusState,
    settings: Settings,
    issuer: str,
    ttl: timedelta,
    issued: timedelta,
    reason: str | None,
) -> None:
    token = await signed_token(bus, settings, issuer=issuer, ttl=ttl, issued=issued)

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401
    if reason is not None:
        assert reason in response.json()["detail"]


async def test_tampered_token_is_refused(client: httpx.AsyncClient, demo_token: str) -> None:
    header, payload, signature = demo_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = await client.get(SERVICES, headers=bearer(f"{header}.{forged_payload}.{signature}"))

    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


async def test_token_of_another_instance_is_refused(client: httpx.AsyncClient) -> None:
    token = await fetch_token(client, "/lgsp/tiengiang")

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401


async def test_unsigned_alg_none_token_is_refused(
    client: httpx.AsyncClient, bus: BusState, settings: Settings
) -> None:
    keys = await instance_keys(bus.engine, settings, "kiengiang")
    token = forge(valid_claims(), {"alg": "none", "kid": keys.signing.kid})

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401
    assert "'none'" in response.json()["detail"]


async def test_hs256_token_keyed_with_the_public_key_is_refused(
    client: httpx.AsyncClient, bus: BusState, settings: Settings
) -> None:
    """The classic algorithm-confusion attack: HMAC with the published RSA key as secret."""
    keys = await instance_keys(bus.engine, settings, "kiengiang")
    header = {"alg": "HS256", "typ": "JWT", "kid": keys.signing.kid}
    signing_input = forge(valid_claims(), header)[:-1].encode()
    signature = hmac.new(keys.signing.public_pem.encode(), signing_input, hashlib.sha256).digest()
    token = signing_input.decode() + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()

    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "x" * 10_000, "eyJhbGciOiJSUzI1NiJ9.e30."])
async def test_malformed_or_oversized_tokens_are_refused(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(SERVICES, headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"


async def test_repeated_bad_secrets_are_slowed_down_with_429(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    for _ in range(settings.login_max_failures):
        bad = await client.post(
            f"{KG}/token", data={"grant_type": "client_credentials"}, auth=("demo", "guess")
        )
        assert bad.status_code == 401

    limited = await client.post(
        f"{KG}/token", data={"grant_type": "client_credentials"}, auth=("demo", "lgsp-demo-secret")
    )
    elsewhere = await client.post(
        "/lgsp/tiengiang/token",
        data={"grant_type": "client_credentials"},
        auth=("demo", "lgsp-demo-secret"),
    )

    assert limited.status_code == 429
    assert limited.json() == {  # RFC 6749 §5.2: one of its codes, the reason for a human
        "error": "invalid_request",
        "error_description": limited.json()["error_description"],
    }
    assert limited.json()["error_description"].startswith("Too many failed attempts; retry in")
    assert 0 < int(limited.headers["retry-after"]) <= settings.login_window_seconds
    assert elsewhere.status_code == 200


async def test_the_database_holds_no_private_key_in_the_clear(
    client: httpx.AsyncClient, bus: BusState, settings: Settings
) -> None:
    """Security probe (informational): with the plain PEM read from `signing_keys`, anyone who
    could read the database minted any client's token, admin included."""
    async with make_session_factory(bus.engine)() as session:
        stored = list(await session.scalars(select(SigningKey.private_pem)))

    assert len(stored) == 3  # one per instance of the test bus
    assert not [pem for pem in stored if "PRIVATE KEY" in pem]
    token = await signed_token(bus, settings)  # the bus's cipher opens the stored keys
    assert (await client.get(SERVICES, headers=bearer(token))).status_code == 200


async def test_a_token_of_one_second_expires_for_a_client_testing_expiry(
    bus_pool: BusPool, bus_database_url: str, bus_data_dir: Path
) -> None:
    """LGSP_TOKEN_TTL_SECONDS=1 is a setting a test double owes its integrators: an expired
    token is met in seconds, not after a minute's sleep."""
    settings = bus_settings(bus_database_url, bus_data_dir, token_ttl_seconds=1)
    async with bus_pool.client(settings) as client:
        issued = await client.post(
            f"{KG}/token", data={"grant_type": "client_credentials"}, auth=DEMO
        )
        assert issued.json()["expires_in"] == 1
        token = issued.json()["access_token"]
        await asyncio.sleep(2.1)  # past `exp`, a whole second after `iat`

        late = await client.get(SERVICES, headers=bearer(token))

    assert late.status_code == 401
    assert "has expired" in late.json()["detail"]
