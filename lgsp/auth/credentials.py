"""Client secrets: stored only as a salted hash, compared in constant time.

Two kinds, two hashes. A secret the bus generates has 256 bits of entropy (and one it derives
from the federation secret is an HMAC-SHA256 output): no dictionary finds it, so a salted
SHA-256 (as GitHub and Stripe store API tokens) is as strong as a slow hash and keeps the token
endpoint fast. A secret an operator chose (`LGSP_DEMO_CLIENT_SECRET`, the admin of every
instance) may be a word: it must be `MIN_CHOSEN_LENGTH` long, and is stored with scrypt, so
that a copy of the database does not give it away at billions of guesses a second.

`verify_secret` reads both, and the `sha256$…` rows written before scrypt existed: a chosen
secret stored that way is hashed again with scrypt when the bus next provisions its client.
A scrypt check costs tens of milliseconds of CPU, so `secret_matches` runs it off the event
loop, and each process remembers the secrets it has verified (as a keyed hash): a client's
second token costs a SHA-256, not another scrypt.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections import OrderedDict
from typing import ClassVar

_SCHEME = "sha256"
_SLOW_SCHEME = "scrypt"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt's interactive parameters (Percival 2009; RFC 7914 §2): 16 MiB and ~50 ms a hash."""
_SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_CHOSEN_LENGTH = 15
"""NIST SP 800-63B-4 §3.1.1.2: a password that is the only factor has at least 15 characters."""
_REMEMBERED = 1024
_PROCESS_KEY = secrets.token_bytes(32)
_verified: OrderedDict[str, bytes] = OrderedDict()
"""Slow hash → keyed SHA-256 of the secret that matched it, in this process only."""


class WeakSecret(ValueError):
    """A chosen secret too short to stand alone as a client's credential."""

    code: ClassVar[str] = "WEAK_SECRET"


def generate_client_id() -> str:
    return secrets.token_urlsafe(18).replace("-", "x").replace("_", "y")


def generate_client_secret() -> str:
    return secrets.token_urlsafe(32)


def check_chosen_secret(secret: str, *, name: str) -> None:
    """Refuse a chosen secret shorter than `MIN_CHOSEN_LENGTH` (`name` says where it is set)."""
    if len(secret) < MIN_CHOSEN_LENGTH:
        raise WeakSecret(
            f"{WeakSecret.code}: {name} has {len(secret)} characters; a secret chosen by hand "
            f"needs at least {MIN_CHOSEN_LENGTH} (a long random value is best)"
        )


def hash_secret(secret: str, *, salt: str | None = None) -> str:
    """The fast hash, for a generated or derived secret."""
    salt = salt or secrets.token_hex(16)
    digest = hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return f"{_SCHEME}${salt}${digest}"


def hash_chosen_secret(secret: str) -> str:
    """The slow hash (scrypt), for a secret a person chose."""
    salt = secrets.token_hex(16)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    stored = f"{_SLOW_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt}${digest}"
    _remember(secret, stored)
    return stored


def is_slow_hash(stored_hash: str) -> bool:
    return stored_hash.startswith(_SLOW_SCHEME + "$")


def verify_secret(secret: str, stored_hash: str) -> bool:
    """Whether `secret` is the one `stored_hash` was made of (either scheme)."""
    if is_slow_hash(stored_hash):
        return _verify_slow(secret, stored_hash)
    try:
        scheme, salt, expected = stored_hash.split("$", 2)
    except ValueError:
        return False
    if scheme != _SCHEME:
        return False
    actual = hmac.new(salt.encode(), secret.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(actual, expected)


async def secret_matches(secret: str, stored_hash: str) -> bool:
    """`verify_secret`, with a scrypt that is not remembered run on a worker thread."""
    if is_slow_hash(stored_hash) and not _remembered(secret, stored_hash):
        return await asyncio.to_thread(verify_secret, secret, stored_hash)
    return verify_secret(secret, stored_hash)


def _verify_slow(secret: str, stored_hash: str) -> bool:
    if _remembered(secret, stored_hash):
        return True
    try:
        _, n, r, p, salt, expected = stored_hash.split("$")
        actual = _scrypt(secret, salt, int(n), int(r), int(p))
    except ValueError:  # not six fields, not numbers, or parameters scrypt refuses
        return False
    if not hmac.compare_digest(actual, expected):
        return False
    _remember(secret, stored_hash)
    return True


def _remember(secret: str, stored_hash: str) -> None:
    _verified[stored_hash] = _keyed(secret)
    _verified.move_to_end(stored_hash)
    while len(_verified) > _REMEMBERED:
        _verified.popitem(last=False)


def _remembered(secret: str, stored_hash: str) -> bool:
    known = _verified.get(stored_hash)
    return known is not None and hmac.compare_digest(known, _keyed(secret))


def _keyed(secret: str) -> bytes:
    return hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).digest()


def _scrypt(secret: str, salt: str, n: int, r: int, p: int) -> str:
    return hashlib.scrypt(
        secret.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32
    ).hex()


# Compared against when the client id is unknown, so that the answer takes the same time
# whether or not the id exists.
DUMMY_SECRET_HASH = hash_secret(secrets.token_urlsafe(32))
