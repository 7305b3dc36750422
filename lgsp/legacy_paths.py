"""Old provinces' paths in today's era: `/lgsp/kiengiang/…` answered by `/lgsp/angiang`.

Since 1 July 2025 Kiên Giang is part of An Giang, and the bus's An Giang instance holds its
records. An integrator's code that still calls the old base keeps working, and every answer
says that base is deprecated (RFC 9745 `Deprecation`, structured date `@<epoch>`), when it
stops answering (RFC 8594 `Sunset`, an assigned setting) and where to go instead (`Link:
<new base>; rel="successor-version"`). Pure ASGI: the path is rewritten before the gateways
see it, so tokens, audit and journal are the absorbing instance's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import format_datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

VIETNAM = timezone(timedelta(hours=7))
MERGED_AT = datetime(2025, 7, 1, tzinfo=VIETNAM)
"""NQ 202/2025/QH15 takes effect: the old provinces' bases are deprecated from then."""


def deprecation_value(moment: datetime) -> str:
    """RFC 9745: a structured-field Date, `@` and the Unix time."""
    return f"@{int(moment.timestamp())}"


def sunset_value(day: date) -> str:
    """RFC 8594: an HTTP-date, midnight UTC of `day`."""
    return format_datetime(datetime.combine(day, time(), tzinfo=UTC), usegmt=True)


class LegacyPathMiddleware:
    """Serves each old base (`/lgsp/{alias}`) with the instance that absorbed it, marked old."""

    def __init__(
        self, app: ASGIApp, *, moved: Mapping[str, str], public_url: str, sunset: date
    ) -> None:
        self.app = app
        self._moved = dict(moved)  # old mount path → new mount path
        self._public_url = public_url.rstrip("/")
        self._deprecation = deprecation_value(MERGED_AT)
        self._sunset = sunset_value(sunset)

    def _old_base(self, path: str) -> str | None:
        for old in self._moved:
            if path == old or path.startswith(old + "/"):
                return old
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        old = self._old_base(scope["path"]) if scope["type"] == "http" else None
        if old is None:
            await self.app(scope, receive, send)
            return
        new = self._moved[old]
        path = new + scope["path"][len(old) :]
        raw = scope.get("raw_path")
        scope = {
            **scope,
            "path": path,
            "raw_path": None if raw is None else new.encode() + raw[len(old.encode()) :],
        }
        link = f'<{self._public_url}{new}>; rel="successor-version"'

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Deprecation", self._deprecation)
                headers.append("Sunset", self._sunset)
                headers.append("Link", link)
            await send(message)

        await self.app(scope, receive, send_marked)
