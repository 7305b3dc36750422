"""Client secrets: generated with 256 bits of entropy, stored only as a salted hash.

A generated secret cannot be guessed from a dictionary, so a salted SHA-256 (as GitHub and
Stripe store API tokens) is as strong as a slow password hash here and keeps the token endpoint
fast. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

_SCHEME = "sha256"


def generate_client_id() -> str:
    return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def generate_client_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(secret: str, *, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def verify_secret(secret: str, stored_hash: str) -> bool:
    try:
        scheme, salt, expected = stored_hash.split("$", 2)
    except ValueError:
        return False
    if scheme != _SCHEME:
        return False
    actual = hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(actual, expected)


# Compared against when the client id is unknown, so that the answer takes the same time
# whether or not the id exists.
DUMMY_SECRET_HASH = hash_secret(secrets.token_urlsafe(32))
