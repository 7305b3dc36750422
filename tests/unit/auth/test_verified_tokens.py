"""A token's signature is checked once; its claims are remembered by its exact text until expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from lgsp.auth import tokens
from lgsp.auth.keys import KeySet, generate_private_pem, instance_key_from_pem
from lgsp.auth.tokens import TokenClaims, VerifiedTokens, issue_token
from lgsp.errors import InvalidToken
from tests.fixtures.clocks import Clock

ISSUER = "http://lgsp.test/lgsp/kiengiang"
ALGORITHMS = ["RS256"]


@pytest.fixture(scope="module")
def keys() -> KeySet:
    key = instance_key_from_pem("kiengiang-test", generate_private_pem())
    return KeySet(signing=key, by_kid={key.kid: key})


@pytest.fixture
def full_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each token that `verify_token` (the signature and claims check) is run on."""
    checked: list[str] = []
    real: Callable[..., TokenClaims] = tokens.verify_token

    def counting(token: str, keys: KeySet, *, issuer: str, algorithms: list[str]) -> TokenClaims:
        checked.append(token)
        return real(token, keys, issuer=issuer, algorithms=algorithms)

    monkeypatch.setattr(tokens, "verify_token", counting)
    return checked


def token_for(keys: KeySet, client_id: str = "demo", ttl: float = 3600) -> str:
    return issue_token(
        keys,
        issuer=ISSUER,
        client_id=client_id,
        scopes=["dancu"],
        ttl=timedelta(seconds=ttl),
        now=datetime.now(UTC),
    )


def test_a_token_is_checked_in_full_once_then_answered_from_memory(
    keys: KeySet, full_checks: list[str]
) -> None:
    verified = VerifiedTokens()
    token = token_for(keys)

    first = verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)
    again = [verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS) for _ in range(5)]

    assert full_checks == [token]
    assert all(claims == first for claims in again)
    assert first.client_id == "demo"


def test_a_remembered_token_is_checked_in_full_again_once_it_expires(
    keys: KeySet, full_checks: list[str]
) -> None:
    clock = Clock(datetime.now(UTC).timestamp())
    verified = VerifiedTokens(clock=clock)
    token = token_for(keys, ttl=60)
    claims = verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    clock.now = claims.expires_at - 0.5
    verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)
    clock.now = claims.expires_at
    verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    assert full_checks == [token, token]


def test_an_expired_token_is_refused_by_the_full_check_not_served_from_memory(
    keys: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(datetime.now(UTC).timestamp())
    verified = VerifiedTokens(clock=clock)
    token = token_for(keys, ttl=60)
    claims = verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    def expired(*args: object, **kwargs: object) -> TokenClaims:
        raise InvalidToken("The access token has expired; request a new one.")

    monkeypatch.setattr(tokens, "verify_token", expired)
    clock.now = claims.expires_at + 1

    with pytest.raises(InvalidToken, match="expired"):
        verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)
    assert len(verified) == 0


def test_a_token_with_one_byte_changed_is_checked_in_full_and_refused(
    keys: KeySet, full_checks: list[str]
) -> None:
    verified = VerifiedTokens()
    token = token_for(keys)
    verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)
    at = token.index(".") + 10  # inside the payload, away from base64's padding bits
    tampered = token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1 :]

    for _ in range(2):
        with pytest.raises(InvalidToken):
            verified.verify(tampered, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    assert full_checks == [token, tampered, tampered]  # a failure is never remembered
    assert len(verified) == 1


def test_the_least_recently_used_token_is_forgotten_beyond_the_bound(
    keys: KeySet, full_checks: list[str]
) -> None:
    verified = VerifiedTokens(max_entries=2)
    first, second, third = (token_for(keys, client_id=f"c{n}") for n in range(3))
    for token in (first, second, first, third):
        verified.verify(token, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    verified.verify(first, keys, issuer=ISSUER, algorithms=ALGORITHMS)
    verified.verify(second, keys, issuer=ISSUER, algorithms=ALGORITHMS)

    assert len(verified) == 2
    assert full_checks == [first, second, third, second]


def test_issuing_and_verifying_use_the_keys_parsed_at_start(
    keys: KeySet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-jose given a PEM parses it, with RSA's full consistency check, on every call:
    ~30 ms of CPU per token issued. The instance's keys are parsed once, when loaded."""
    from jose.backends import cryptography_backend

    def no_parsing(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a key was parsed from PEM while issuing or verifying a token")

    monkeypatch.setattr(cryptography_backend, "load_pem_private_key", no_parsing)
    monkeypatch.setattr(cryptography_backend, "load_pem_public_key", no_parsing)

    claims = tokens.verify_token(token_for(keys), keys, issuer=ISSUER, algorithms=ALGORITHMS)

    assert claims.client_id == "demo"
