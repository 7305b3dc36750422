"""The recorder's inbound audit entry and journal entry: every field where its class reads it
(both are built by position, issue 21)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from lgsp.audit.chain import AuditEntry
from lgsp.audit.context import AUDIT_SCOPE_KEY, AuditContext
from lgsp.audit.recorder import AuditRecorder
from lgsp.journal.capture import JournalEntry
from lgsp.logging import request_id_var
from lgsp.metrics import Metrics
from lgsp.settings import Settings
from lgsp.state import BUS_STATE_KEY, BusState

pytestmark = pytest.mark.anyio

CCCD = "091048993438"
ANSWER = b'{"cccd":"091048993438","full_name":"Nguyen Huu Quang"}'


class Keeping:
    """An audit writer that keeps what it is given."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []
        self.journal: list[JournalEntry] = []

    async def append(
        self, entries: Sequence[AuditEntry], *, journal: Sequence[JournalEntry] = ()
    ) -> None:
        self.entries += entries
        self.journal += journal


async def test_each_field_of_the_inbound_and_journal_entries_is_the_calls() -> None:
    writer = Keeping()
    bus = BusState.__new__(BusState)
    bus.settings, bus.audit_writer, bus.metrics = Settings(), cast(Any, writer), Metrics()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        context: AuditContext = scope[AUDIT_SCOPE_KEY]
        context.caller, context.service = "vendor-1", "dancu"
        context.notes["warnings"] = ["R1"]
        await receive()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": ANSWER})

    messages = iter([{"type": "http.request", "body": b'{"q":1}', "more_body": False}])

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "http",
        "method": "POST",
        "path": f"/lgsp/kiengiang/dancu/v1/citizens/{CCCD}",
        "root_path": "/lgsp/kiengiang",
        "query_string": b"at=1",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"7")],
        "state": {BUS_STATE_KEY: bus},
    }
    token = request_id_var.set("req-1")
    before = datetime.now(UTC)
    try:
        await AuditRecorder(app, instance="kiengiang")(scope, receive, send)
    finally:
        request_id_var.reset(token)

    (entry,) = writer.entries
    fields = {name: getattr(entry, name) for name in AuditEntry.__dataclass_fields__}
    latency, occurred_at = fields.pop("latency_us"), fields.pop("occurred_at")
    assert fields == {
        "request_id": "req-1",
        "instance": "kiengiang",
        "hop": "inbound",
        "caller": "vendor-1",
        "target": "kiengiang",
        "service": "dancu",
        "method": "POST",
        "path": "/lgsp/kiengiang/dancu/v1/citizens/091*******38",
        "status": 201,
        "request_sha256": hashlib.sha256(b'{"q":1}').hexdigest(),
        "response_sha256": hashlib.sha256(ANSWER).hexdigest(),
        "notes": '{"warnings":["R1"]}',
    }
    assert type(latency) is int
    assert latency >= 0
    assert before <= occurred_at <= datetime.now(UTC)

    (row,) = writer.journal
    assert (row.instance, row.request_id, row.client_id, row.service, row.method) == (
        "kiengiang",
        "req-1",
        "vendor-1",
        "dancu",
        "POST",
    )
    assert (row.path, row.query, row.status) == ("/dancu/v1/citizens/091*******38", "at=1", 201)
    assert (row.request_content_type, row.request_body, row.request_truncated) == (
        "application/json",
        '{"q":1}',
        False,
    )
    assert (row.response_content_type, row.response_truncated) == ("application/json", False)
    assert row.response_body == '{"cccd":"091*******38","full_name":"N***** H** Q****"}'
    assert (row.latency_us, row.occurred_at) == (entry.latency_us, entry.occurred_at)
