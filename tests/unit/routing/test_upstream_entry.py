"""The upstream hop's audit entry: every field where `AuditEntry` reads it (built by position)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from adapters.base import SystemRequest, SystemResponse
from lgsp.audit.context import EMPTY_SHA256, AuditContext
from lgsp.errors import UpstreamTimeout
from lgsp.logging import request_id_var
from lgsp.routing.router import _call_audited

pytestmark = pytest.mark.anyio

INSTANCE = cast(Any, SimpleNamespace(spec=SimpleNamespace(name="kiengiang")))
SERVICE = cast(Any, SimpleNamespace(id="dancu"))


class Answering:
    def __init__(self, answer: SystemResponse | None) -> None:
        self.answer = answer

    async def send(
        self, request: SystemRequest, extra_headers: Mapping[str, str] | None = None
    ) -> SystemResponse:
        if self.answer is None:
            raise UpstreamTimeout("The system did not answer in time.")
        return self.answer


async def test_each_field_of_the_upstream_entry_is_the_hops() -> None:
    audit = AuditContext()
    token = request_id_var.set("req-1")
    before = datetime.now(UTC)
    try:
        await _call_audited(
            Answering(SystemResponse(200, b'{"ok":1}', "application/json")),
            SystemRequest("POST", "/api/congdan/091123456789", (), b"claim"),
            audit,
            INSTANCE,
            SERVICE,
            hop="upstream",
            target="the-dancu",
        )
    finally:
        request_id_var.reset(token)

    (entry,) = audit.upstream
    assert (entry.request_id, entry.instance, entry.hop, entry.caller) == (
        "req-1",
        "kiengiang",
        "upstream",
        "kiengiang",
    )
    assert (entry.target, entry.service, entry.method, entry.status) == (
        "the-dancu",
        "dancu",
        "POST",
        200,
    )
    assert entry.path == "/api/congdan/091*******89"
    assert entry.request_sha256 == hashlib.sha256(b"claim").hexdigest()
    assert entry.response_sha256 == hashlib.sha256(b'{"ok":1}').hexdigest()
    assert type(entry.latency_us) is int
    assert entry.latency_us >= 0
    assert before <= entry.occurred_at <= datetime.now(UTC)
    assert entry.notes is None


async def test_a_failed_hop_is_recorded_with_the_status_the_client_gets() -> None:
    audit = AuditContext()

    with pytest.raises(UpstreamTimeout):
        await _call_audited(
            Answering(None),
            SystemRequest("GET", "/api/congdan/1"),
            audit,
            INSTANCE,
            SERVICE,
            hop="upstream",
            target="the-dancu",
        )

    (entry,) = audit.upstream
    assert (entry.status, entry.request_sha256, entry.response_sha256) == (
        504,
        EMPTY_SHA256,
        EMPTY_SHA256,
    )
