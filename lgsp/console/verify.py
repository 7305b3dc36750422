"""`/console/{instance}/journal/{entry_id}/verify`: Kiểm chứng — from one exchange, the
expectation that matches it, as a curl of `POST {base}/admin/journal/verify` and as the
pytest assertion an integrator's suite makes with the `lgsp` fixture (`lgsp.testing`).

The expectation is the exchange's service, method, status and path, with each id number in
the path (a CCCD, a dossier's serial, …) turned into `*`: a test's next run sends other ids,
and a snippet to paste into a test must carry no one's personal data. The request id and the
client are left out for the same reason: they change with every run.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lgsp.console._kit import Console, admin_api
from lgsp.db import MAX_BIGINT
from lgsp.deps import BusDep
from lgsp.journal.capture import mask_text

_SEGMENT = re.compile(r"(?<=/)[^/]+")


def _generalised(segment: re.Match[str]) -> str:
    """An identifier (four digits or more, or digits masked with `*`) becomes `*`; a word of
    the API (`citizens`, `v1`) stays."""
    text = segment.group(0)
    return "*" if "*" in text or sum(c.isdigit() for c in text) >= 4 else text


def expectation_of(entry: dict[str, Any]) -> dict[str, Any]:
    """What `verify` and `wait_for` take to match this exchange (and others like it)."""
    expected: dict[str, Any] = {"method": entry["method"], "status": entry["status"]}
    if entry.get("service"):
        expected = {"service": entry["service"], **expected}
    expected["path"] = _SEGMENT.sub(_generalised, entry["path"])
    return expected


def curl_of(base: str, expectation: dict[str, Any]) -> str:
    body = json.dumps(expectation, ensure_ascii=False)
    return (
        f"curl -sS -X POST {shlex.quote(base + '/admin/journal/verify')} \\\n"
        '  -H "Authorization: Bearer $ADMIN_TOKEN" -H "Content-Type: application/json" \\\n'
        f"  --data {shlex.quote(body)}"
    )


def pytest_of(instance: str, expectation: dict[str, Any]) -> str:
    """A test using the plugin's `lgsp` fixture: `wait_for` answers as soon as the journal holds
    a matching exchange, and fails showing the near misses when none comes."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in expectation.items())
    return (
        "def test_the_call_reaches_the_bus(lgsp):\n"
        "    ...  # the code under test calls the bus here\n"
        f"    assert lgsp.wait_for({instance!r}, {arguments}) >= 1\n"
    )


def add_verify_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/journal/{entry_id}/verify")
    async def verify_builder(
        request: Request, bus: BusDep, instance: str, entry_id: int
    ) -> Response:
        """The curl and the pytest assertion that would match one exchange."""
        session = console.administered(request, bus, instance)
        entry = None
        if 0 < entry_id < MAX_BIGINT:
            async with admin_api(request, bus, session) as api:
                found = await api.get(
                    instance, "/admin/journal", {"before": entry_id + 1, "limit": 1}
                )
            entries = [] if found is None else found.get("entries", [])
            entry = next((e for e in entries if e["id"] == entry_id), None)
        expectation = None if entry is None else expectation_of(entry)
        served = bus.instances[instance]
        return console.page(
            request,
            bus,
            "verify.html",
            instance=instance,
            entry_id=entry_id,
            shown=None if entry is None else f"{entry['method']} {mask_text(entry['path'])}",
            status=None if entry is None else entry["status"],
            curl=None if expectation is None else curl_of(served.issuer, expectation),
            test=None if expectation is None else pytest_of(instance, expectation),
        )
