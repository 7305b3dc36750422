"""Access tokens: RS256 JWTs issued by an instance and verified with an explicit algorithm list.

Verification refuses anything not signed by one of the instance's own keys with an allowed
algorithm (so `alg: none` and HS256-with-the-public-key fail), a token for another audience or
from another issuer, and expired or not-yet-valid tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from jose import jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError, JWTError

from lgsp.auth.keys import KeySet
from lgsp.errors import InvalidToken

ADMIN_SCOPE = "admin"
MAX_TOKEN_LENGTH = 8192  # a real token is ~800 bytes; refuse before parsing anything bigger


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
) -> str:
    issued_at = int(now.timestamp())
    claims = {
        "iss": issuer,
        "sub": client_id,
        "aud": issuer,  # the instance is both the authorisation and the resource server
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
        "jti": uuid.uuid4().hex,
        "scope": " ".join(sorted(scopes)),
    }
    return jwt.encode(
        claims,
        keys.signing.private_pem,
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
            key.public_pem,
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
