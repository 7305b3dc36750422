"""`/console/{instance}/tools…`: Công cụ — a connection test, the seeded samples, and reset.

The connection test asks whether the bus reaches a URL (an integrator's system plugged in in
place of a mock, `url` in the topology) and shows what it answered: one GET from the bus's
process, no redirect followed, a short timeout, at most `MAX_READ` bytes read, http(s) only.
It runs for a signed-in admin's form (POST with the session's CSRF token) and is never
retried. The bus-wide admin may try any URL; an instance's own admin only the URLs its
topology gives (its systems', the gateways'): else the bus's process would fetch, for
whoever administers one instance, what only that process reaches (security re-probe
2026-12-07 #10). Samples and reset are the admin API's (`GET {base}/admin/samples`,
`POST {base}/admin/reset`) behind a button.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import Response

from lgsp.console._kit import Console, admin_api, to
from lgsp.deps import BusDep
from lgsp.journal.capture import mask_text
from lgsp.state import BusState

MAX_URL = 2000
_NOT_IN_TOPOLOGY = (
    "Client quản trị của {0} chỉ thử được URL của các hệ thống và cổng trong topology của bus "
    "(admin toàn bus thử được mọi URL)."
)
MAX_READ = 4096
PROBE_TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SHOWN_HEADERS = ("content-type", "server", "www-authenticate", "x-request-id", "location")
RESET_SCOPES = ("instance", "bus")


@dataclass(frozen=True)
class Probe:
    """What the bus got when it called a URL: an answer, or the reason there was none."""

    url: str
    reached: bool
    status: int | None
    headers: dict[str, str]
    body: str
    took_ms: float
    reason: str


async def probe(url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> Probe:
    """One GET of `url`; any failure to get an answer is named, never raised."""
    started = time.perf_counter()

    def failed(reason: str) -> Probe:
        took = round((time.perf_counter() - started) * 1000, 1)
        return Probe(url, False, None, {}, "", took, reason)

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > MAX_URL:
        return failed("Chỉ thử được một URL http:// hoặc https:// có tên máy (tối đa 2000 ký tự).")
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=0)
    try:
        async with (
            httpx.AsyncClient(
                timeout=PROBE_TIMEOUT,
                limits=limits,
                follow_redirects=False,
                trust_env=False,
                transport=transport,
            ) as http,
            http.stream("GET", url, headers={"Accept": "*/*"}) as answer,
        ):
            body = bytearray()
            async for chunk in answer.aiter_bytes():
                body += chunk
                if len(body) >= MAX_READ:
                    break
            shown = {k: v for k, v in answer.headers.items() if k.lower() in SHOWN_HEADERS}
            took = round((time.perf_counter() - started) * 1000, 1)
            text = mask_text(bytes(body[:MAX_READ]).decode("utf-8", errors="replace"))
            return Probe(url, True, answer.status_code, shown, text, took, "")
    except httpx.TimeoutException:
        return failed("Hết giờ: hệ thống không trả lời trong 5 giây.")
    except httpx.ConnectError as error:
        return failed(f"Không kết nối được (DNS, cổng đóng, TLS): {error}"[:300])
    except httpx.HTTPError as error:
        return failed(f"Lỗi HTTP: {type(error).__name__}: {error}"[:300])


def probe_bases(bus: BusState, instance: str) -> list[str]:
    """What an instance's own admin may try: its systems' URLs and every gateway's."""
    systems = [system.url for system in bus.instances[instance].spec.systems]
    gateways = [spec.url for spec in bus.topology.instances]
    return [str(url) for url in (*systems, *gateways) if url is not None]


def within(url: str, bases: list[str]) -> bool:
    """Whether `url` is at or below one of `bases`: the same scheme, host and port, and a path
    under the base's."""
    try:
        wanted = urlsplit(url)
        wanted_port = wanted.port
    except ValueError:
        return False
    for base in bases:
        allowed = urlsplit(base)
        root = allowed.path.rstrip("/")
        if (wanted.scheme, wanted.hostname, wanted_port) == (
            allowed.scheme,
            allowed.hostname,
            allowed.port,
        ) and (wanted.path == root or wanted.path.startswith(root + "/")):
            return True
    return False


def add_tool_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/tools")
    async def tools(request: Request, bus: BusDep, instance: str, error: str = "") -> Response:
        """Công cụ: connection test, samples, reset."""
        return await _tools_page(request, bus, console, instance, error=error)

    @router.post("/{instance}/tools/connection")
    async def connection(request: Request, bus: BusDep, instance: str) -> Response:
        posted = await console.posted(request, bus, instance, back="tools")
        url = str(posted.form.get("url", "")).strip()[: MAX_URL + 1]
        bus_wide = posted.session.client_id == bus.settings.demo_client_id
        if bus_wide or within(url, probe_bases(bus, instance)):
            result = await probe(url)
        else:
            result = Probe(url, False, None, {}, "", 0.0, _NOT_IN_TOPOLOGY.format(instance))
        return await _tools_page(request, bus, console, instance, probe=result)

    @router.post("/{instance}/tools/reset")
    async def reset(request: Request, bus: BusDep, instance: str) -> Response:
        posted = await console.posted(request, bus, instance, back="tools")
        session, scope = posted.session, str(posted.form.get("scope", "instance"))
        if scope not in RESET_SCOPES:
            return to(f"/{instance}/tools", error="Phạm vi đặt lại phải là instance hoặc bus.")
        async with admin_api(request, bus, session) as api:
            answer = await api.call_or_back(
                instance, "POST", "/admin/reset", back="tools", ok=200, params={"scope": scope}
            )
        return await _tools_page(request, bus, console, instance, report=answer.json())


async def _tools_page(
    request: Request,
    bus: BusState,
    console: Console,
    instance: str,
    *,
    error: str = "",
    probe: Probe | None = None,
    report: dict[str, Any] | None = None,
) -> Response:
    session = console.administered(request, bus, instance)
    async with admin_api(request, bus, session) as api:
        samples = await api.get(instance, "/admin/samples")
    remote = [
        {"name": system.name, "url": str(system.url)}
        for system in bus.instances[instance].spec.systems
        if system.url is not None
    ]
    return console.page(
        request,
        bus,
        "tools.html",
        instance=instance,
        error=error,
        probe=probe,
        report=report,
        samples={} if samples is None else samples.get("samples", {}),
        remote=remote,
        bus_wide=session.client_id == bus.settings.demo_client_id,
    )
