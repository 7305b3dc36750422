"""Who is signed in to the console: a random cookie naming the admin tokens it holds.

Kept in the process (a console session is a developer's, on the bus they started); bounded in
number and in time (a session ends when its tokens expire). The cookie carries no token: it is
a random id, HttpOnly and SameSite=Strict, and each form carries the session's CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

COOKIE = "lgsp_console"
MAX_SESSIONS = 1000


@dataclass
class ConsoleSession:
    client_id: str
    tokens: dict[str, str]
    """Admin access token per instance the client administers, by instance name."""
    expires_at: float
    """`time.monotonic()` when the first token expires: the session ends then."""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    def admits(self, csrf: str | None) -> bool:
        return csrf is not None and hmac.compare_digest(csrf.encode(), self.csrf.encode())


class SessionStore:
    """At most `MAX_SESSIONS`, the oldest dropped first."""

    def __init__(self, limit: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, ConsoleSession] = OrderedDict()
        self._limit = limit

    def open(self, session: ConsoleSession) -> str:
        key = secrets.token_urlsafe(32)
        self._sessions[key] = session
        while len(self._sessions) > self._limit:
            self._sessions.popitem(last=False)
        return key

    def get(self, key: str | None) -> ConsoleSession | None:
        if not key:
            return None
        session = self._sessions.get(key)
        if session is None or session.expires_at <= time.monotonic():
            self._sessions.pop(key, None)
            return None
        return session

    def close(self, key: str | None) -> None:
        if key:
            self._sessions.pop(key, None)
