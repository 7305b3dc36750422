"""Old provinces' paths in today's era: `/lgsp/kiengiang/…` answered by `/lgsp/angiang`.

Since 1 July 2025 Kiên Giang is part of An Giang, and the bus's An Giang instance holds its
records. An integrator's code that still calls the old base keeps working, and every answer
says that base is deprecated (RFC 9745 `Deprecation`, structured date `@<epoch>`), when it
stops answering (RFC 8594 `Sunset`, an assigned setting) and where to go instead (`Link:
<new base>; rel="successor-version"`). Pure ASGI: the path is rewritten before the gateways
see it, so tokens, audit and journal are the absorbing instance's.

An old name given where a province is named in a header (`X-LGSP-Target`, and `RECEIVER_CODE`
at the `lgspaccesstoken` door) is the same old base: the header is rewritten to the absorbing
instance's name, and the answer marked the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import format_datetime

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.dialects.lgspaccesstoken import RECEIVER_HEADER
from lgsp.routing.resolver import TARGET_HEADER
from lgsp.topology import InstanceSpec

VIETNAM = timezone(timedelta(hours=7))
TARGET_HEADERS = frozenset(name.lower().encode() for name in (TARGET_HEADER, RECEIVER_HEADER))
"""Headers that name a province by its instance's name: an old one is moved like its path."""
MERGED_AT = datetime(2025, 7, 1, tzinfo=VIETNAM)
"""NQ 202/2025/QH15 takes effect: the old provinces' bases are deprecated from then."""


def deprecation_value(moment: datetime) -> str:
    """RFC 9745: a structured-field Date, `@` and the Unix time."""
    return f"@{int(moment.timestamp())}"


def sunset_value(day: date) -> str:
    """RFC 8594: an HTTP-date, midnight UTC of `day`."""
    return format_datetime(datetime.combine(day, time(), tzinfo=UTC), usegmt=True)


class LegacyPathMiddleware:
    """Serves each old base (`/lgsp/{alias}`, or its name in a target header) with the instance
    that absorbed it, marked old."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        moved: Mapping[str, str],
        renamed: Mapping[str, InstanceSpec],
        public_url: str,
        sunset: date,
    ) -> None:
        self.app = app
        self._moved = dict(moved)  # old mount path → new mount path
        # old name → (successor's name, its base, for the Link)
        self._renamed = {
            old.encode(): (new.name.encode(), new.mount_path) for old, new in renamed.items()
        }
        self._public_url = public_url.rstrip("/")
        self._deprecation = deprecation_value(MERGED_AT)
        self._sunset = sunset_value(sunset)

    def _old_base(self, path: str) -> str | None:
        for old in self._moved:
            if path == old or path.startswith(old + "/"):
                return old
        return None

    def _renamed_headers(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], str | None]:
        """The request's headers with each old province name in a target header replaced by
        its successor's, and the successor's base (None when no header names an old one)."""
        headers, successor = [], None
        for name, value in scope["headers"]:
            new = self._renamed.get(value.strip()) if name in TARGET_HEADERS else None
            if new is not None:
                value, successor = new
            headers.append((name, value))
        return headers, successor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        old = self._old_base(scope["path"])
        new: str | None = None
        if old is not None:
            new = self._moved[old]
            raw = scope.get("raw_path")
            scope = {
                **scope,
                "path": new + scope["path"][len(old) :],
                "raw_path": None if raw is None else new.encode() + raw[len(old.encode()) :],
            }
        headers, successor = self._renamed_headers(scope) if self._renamed else ([], None)
        if successor is not None:
            scope = {**scope, "headers": headers}
            new = new or successor
        if new is None:
            await self.app(scope, receive, send)
            return
        link = f'<{self._public_url}{new}>; rel="successor-version"'

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Deprecation", self._deprecation)
                headers.append("Sunset", self._sunset)
                headers.append("Link", link)
            await send(message)

        await self.app(scope, receive, send_marked)
