"""Access tokens: RS256 JWTs issued by an instance and verified with an explicit algorithm list.

Verification refuses anything not signed by one of the instance's own keys with an allowed
algorithm (so `alg: none` and HS256-with-the-public-key fail), a token for another audience or
from another issuer, and expired or not-yet-valid tokens.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from lgsp.auth.keys import KeySet
from lgsp.errors import InvalidToken

ADMIN_SCOPE = "admin"
MAX_TOKEN_LENGTH = 8192  # a real token is ~800 bytes; refuse before parsing anything bigger
MAX_VERIFIED_TOKENS = 4096
"""Tokens one instance remembers as verified (~1 KiB each); the least recently used go first."""
LONGEST_TOKEN_TTL = timedelta(seconds=86_400)
"""The upper bound of `LGSP_TOKEN_TTL_SECONDS`: no token of ours outlives it."""


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: int


def issue_token(
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    scopes: Iterable[str],
    ttl: timedelta,
    now: datetime,
    jti: str | None = None,
) -> str:
    """A signed access token; `jti` fixed by a caller that must mint the same token id again
    (a dialect's opaque token, revoked by that id in every process)."""
    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "aud": issuer,  # the instance is both the authorisation and the resource server
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
        "jti": jti or uuid.uuid4().hex,
        "scope": " ".join(sorted(scopes)),
    }
    return jwt.encode(
        claims,
        keys.signing.signer,
        algorithm=keys.signing.algorithm,
        headers={"kid": keys.signing.kid},
    )


def verify_token(token: str, keys: KeySet, *, issuer: str, algorithms: list[str]) -> TokenClaims:
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("The access token is too long to be one of ours.")
    try:
        header = jwt.get_unverified_header(token)
    except JWTError:
        raise InvalidToken("The access token is not a well-formed JWT.") from None
    algorithm = header.get("alg")
    if algorithm not in algorithms:
        raise InvalidToken(f"Tokens signed with {algorithm!r} are not accepted.")
    key = keys.by_kid.get(str(header.get("kid")))
    if key is None:
        raise InvalidToken("The access token was not signed by a key of this instance.")
    try:
        claims = jwt.decode(
            token,
            key.verifier,
            algorithms=algorithms,
            audience=issuer,
            issuer=issuer,
            options={
                "require_aud": True,
                "require_iat": True,
                "require_exp": True,
                "require_iss": True,
                "require_sub": True,
                "require_jti": True,
            },
        )
    except ExpiredSignatureError:
        raise InvalidToken("The access token has expired; request a new one.") from None
    except JWTClaimsError as error:
        raise InvalidToken(f"The access token's claims are not valid here: {error}.") from None
    except JWTError:
        raise InvalidToken("The access token's signature is not valid.") from None
    scope = claims.get("scope", "")
    return TokenClaims(
        client_id=str(claims["sub"]),
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
        jti=str(claims["jti"]),
        expires_at=int(claims["exp"]),
    )


class VerifiedTokens:
    """The claims of tokens this instance has verified, until each expires.

    Only the exact text of a token whose signature and claims passed is remembered, so a changed
    byte is a miss and is checked in full; failures are never remembered. A hit is served only
    before the token's `exp`, after which the full check runs again (and refuses it). What can
    change during a token's life — its revocation, its client's revocation or rights — is not
    cached here: the caller checks it on every call. One cache per instance, for that instance's
    keys and issuer.
    """

    def __init__(
        self, *, max_entries: int = MAX_VERIFIED_TOKENS, clock: Callable[[], float] = time.time
    ) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[str, TokenClaims] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def verify(
        self, token: str, keys: KeySet, *, issuer: str, algorithms: Sequence[str]
    ) -> TokenClaims:
        """`verify_token`, answered from memory for a token that passed it and has not expired;
        `algorithms` is copied only when the token is checked in full."""
        claims = self._entries.get(token)
        if claims is not None:
            if self._clock() < claims.expires_at:
                self._entries.move_to_end(token)
                return claims
            del self._entries[token]
        claims = verify_token(token, keys, issuer=issuer, algorithms=list(algorithms))
        if self._max_entries > 0:
            self._entries[token] = claims
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return claims
