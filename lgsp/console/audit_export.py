"""`/console/{instance}/audit/export`: Xuất nhật ký kiểm toán — the instance's audit records as
JSON Lines, for a signed-in admin of that instance (issue 19, screen 7).

Like every screen it is a client of the admin API: each page is one `GET {base}/admin/audit`
with the same filters, so the records, their masking and the filters' checks are the API's.
Pages are read one at a time while the download streams, so memory stays bounded however long
the chain; records appended meanwhile (the export's own calls among them) are left for the
next export, as `lgsp audit export` does.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from lgsp.audit.repository import AuditRepository
from lgsp.audit.router import MAX_PAGE_SIZE
from lgsp.audit.schemas import AuditRecordOut
from lgsp.console._kit import Console, admin_api, problem_text
from lgsp.deps import BusDep
from lgsp.state import BusState

NDJSON = "application/x-ndjson"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

Filter = Annotated[str, Field(max_length=128)]


class ExportFilters(BaseModel):
    """The filters of `GET {base}/admin/audit` the export passes on (the API checks them); an
    empty one filters nothing."""

    request_id: Filter = ""
    since: Filter = ""
    until: Filter = ""
    client: Filter = ""
    service: Filter = ""
    status: Filter = ""
    hop: Filter = ""


EXPORT_FILTERS = tuple(ExportFilters.model_fields)


class ExportBroken(RuntimeError):
    """A page after the first was refused: the download is cut off rather than left looking
    whole."""


def add_audit_export_routes(router: APIRouter, console: Console) -> None:
    @router.get("/{instance}/audit/export")
    async def export_audit(
        request: Request, bus: BusDep, instance: str, filters: Annotated[ExportFilters, Query()]
    ) -> Response:
        """Every record the filters admit, in chain order (one request's hops in the order they
        happened), one JSON object a line, shaped as `lgsp audit export` writes them."""
        session = console.administered(request, bus, instance)
        given = filters.model_dump()
        query = {name: value.strip() for name, value in given.items() if value.strip()}
        head = await _head_seq(bus, instance)
        paged = "request_id" not in query  # one request's hops come in one answer
        params: dict[str, Any] = {**query, "after": 0, "limit": MAX_PAGE_SIZE} if paged else query
        async with admin_api(request, bus, session) as api:
            first = await api.call_or_back(
                instance, "GET", "/admin/audit", back="audit", ok=200, params=params
            )
        records: list[dict[str, Any]] = first.json()["records"]

        async def lines() -> AsyncIterator[str]:
            page = records
            while True:
                for record in page:
                    if paged and record["seq"] > head:
                        return
                    yield AuditRecordOut.model_validate(record).model_dump_json() + "\n"
                if not paged or len(page) < MAX_PAGE_SIZE:
                    return
                params["after"] = page[-1]["seq"]
                async with admin_api(request, bus, session) as api:
                    answer = await api.call(instance, "GET", "/admin/audit", params=params)
                if answer.status_code != 200:
                    raise ExportBroken(f"audit export of {instance}: {problem_text(answer)}")
                page = answer.json()["records"]

        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"audit-{_UNSAFE.sub('_', instance)}-{stamp}.jsonl"
        return StreamingResponse(
            lines(),
            media_type=NDJSON,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
            },
        )


async def _head_seq(bus: BusState, instance: str) -> int:
    """The chain's newest seq when the export begins: the export ends there."""
    async with bus.session_factory() as session:
        head = await AuditRepository(session).head(instance)
    return 0 if head is None else head.seq
