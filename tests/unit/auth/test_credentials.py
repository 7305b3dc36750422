"""Client secrets are stored hashed and compared in constant time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lgsp.auth.credentials import generate_client_secret, hash_secret, verify_secret


def test_stored_hash_does_not_contain_the_secret() -> None:
    secret = generate_client_secret()

    stored = hash_secret(secret)

    assert secret not in stored
    assert verify_secret(secret, stored)


def test_same_secret_hashes_differently_each_time() -> None:
    assert hash_secret("abc") != hash_secret("abc")


@settings(max_examples=50)
@given(st.text(min_size=1), st.text(min_size=1))
def test_only_the_right_secret_verifies(secret: str, other: str) -> None:
    stored = hash_secret(secret)

    assert verify_secret(secret, stored)
    assert verify_secret(other, stored) == (other == secret)


def test_malformed_stored_hash_never_verifies() -> None:
    assert not verify_secret("abc", "not-a-hash")
    assert not verify_secret("abc", "md5$salt$abc")
