"""Each instance's token-signing keys: RSA, generated on first start, kept, published as JWKS."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lgsp.auth.repository import ClientRepository

ALGORITHM = "RS256"


@dataclass(frozen=True)
class InstanceKey:
    kid: str
    algorithm: str
    private_pem: str
    public_pem: str
    public_jwk: dict[str, Any]


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def instance_key_from_pem(kid: str, private_pem: str, algorithm: str = ALGORITHM) -> InstanceKey:
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise ValueError(f"signing key {kid} is not an RSA key")
    public_key = private_key.public_key()
    numbers = public_key.public_numbers()
    public_pem = public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    jwk = {
        "kty": "RSA",
        "use": "sig",
        "alg": algorithm,
        "kid": kid,
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }
    return InstanceKey(kid, algorithm, private_pem, public_pem, jwk)


def generate_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@dataclass(frozen=True)
class KeySet:
    """The key an instance signs with, and every key of that instance a token may name."""

    signing: InstanceKey
    by_kid: dict[str, InstanceKey]

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self.by_kid.values()]}


async def load_or_create_keys(repository: ClientRepository, instance: str) -> KeySet:
    """Load the instance's keys, creating one the first time the instance starts.

    Two processes starting together on one database may each create a key; both stay valid
    for verification (a token names its `kid`) and the newest signs.
    """
    stored = await repository.signing_keys(instance)
    keys = [instance_key_from_pem(row.kid, row.private_pem, row.algorithm) for row in stored]
    if not keys:
        keys = [await _create_key(repository, instance)]
    newest = max(stored, key=lambda row: row.created_at).kid if stored else keys[0].kid
    by_kid = {key.kid: key for key in keys}
    return KeySet(signing=by_kid[newest], by_kid=by_kid)


async def _create_key(repository: ClientRepository, instance: str) -> InstanceKey:
    private_pem = generate_private_pem()
    # RFC 7638-style thumbprint material is overkill here; a hash of the PEM is stable and unique.
    kid = f"{instance}-{hashlib.sha256(private_pem.encode()).hexdigest()[:16]}"
    await repository.add_signing_key(
        kid=kid,
        instance=instance,
        algorithm=ALGORITHM,
        private_pem=private_pem,
        created_at=datetime.now(UTC),
    )
    return instance_key_from_pem(kid, private_pem)
