"""`{base}/admin/audit`: an instance's audit records, for admin clients: every hop of one
request id, or the log browsed by page with filters (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query, Request
from pydantic import AwareDatetime

from lgsp.audit.repository import AuditFilters, AuditRepository
from lgsp.audit.schemas import AuditRecordOut, AuditTrail
from lgsp.db import MAX_BIGINT
from lgsp.deps import InstanceDep, SessionDep, admin_router
from lgsp.errors import InvalidRequest, problem_responses
from lgsp.masking import mask_request_id

router = admin_router("/admin")

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""As `lgsp audit export` reads them: a page is one bounded query."""


@router.get("/audit", responses=problem_responses(InvalidRequest))
async def audit_trail(
    request: Request,
    instance: InstanceDep,
    session: SessionDep,
    request_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=128,
            pattern=r"^[A-Za-z0-9._:*-]+$",
            description="Every hop of this request, in the order they began (`occurred_at`, "
            "then `seq`), not in chain order (no paging). A citizen's number in it is kept "
            "masked; either form finds it.",
        ),
    ] = None,
    since: Annotated[
        AwareDatetime | None,
        Query(description="Records that occurred at or after this time (ISO 8601, with offset)."),
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="Records that occurred before this time.")
    ] = None,
    client: Annotated[
        str | None, Query(min_length=1, max_length=64, description="The caller's client id.")
    ] = None,
    service: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="A service id.")
    ] = None,
    status: Annotated[
        str | None,
        Query(pattern=r"^[1-5](\d\d|xx)$", description="A status (`404`) or a class (`5xx`)."),
    ] = None,
    hop: Annotated[
        str | None,
        Query(pattern=r"^[a-z_]{1,32}$", description="`inbound`, `upstream`, `fault`, …"),
    ] = None,
    after: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_BIGINT,
            description="The `seq` the previous page ended with (`next` has it).",
        ),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Records per page.")] = (
        PAGE_SIZE
    ),
) -> AuditTrail:
    """This instance's audit records: one request's hops, or a page of the log in chain order."""
    filters = AuditFilters(
        since=since,
        until=until,
        client=client,
        service=service,
        statuses=_statuses(status),
        hop=hop,
    )
    _check_range(since, until)
    repository = AuditRepository(session)
    if request_id is not None:
        request_id = mask_request_id(request_id)
        hops = await repository.by_request_id(request_id, instance=instance.spec.name)
        return AuditTrail(
            request_id=request_id,
            records=[AuditRecordOut.model_validate(r) for r in hops if filters.admit(r)],
        )
    records = await repository.page(instance.spec.name, filters, after=after, limit=limit)
    following = None
    if len(records) == limit:
        url = request.url.include_query_params(after=records[-1].seq)
        following = f"{url.path}?{url.query}"  # relative: the host the client used is its own
    return AuditTrail(
        request_id=None,
        records=[AuditRecordOut.model_validate(record) for record in records],
        next=following,
    )


def _statuses(status: str | None) -> tuple[int, int] | None:
    if status is None:
        return None
    if status.endswith("xx"):
        first = int(status[0]) * 100
        return first, first + 99
    return int(status), int(status)


def _check_range(since: datetime | None, until: datetime | None) -> None:
    for name, moment in (("since", since), ("until", until)):
        try:
            _ = moment and moment.astimezone(UTC)  # stored and compared in UTC
        except OverflowError:
            raise InvalidRequest(f"`{name}` is outside the years a time can have.") from None
    if since is not None and until is not None and since >= until:
        raise InvalidRequest("`since` must be earlier than `until`.")
