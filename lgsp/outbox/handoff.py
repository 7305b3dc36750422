"""Store-and-forward as a service of the gateway: a system hands over a call to make later.

A system that must not lose a call — a document for another province, a dossier change for
the national portal — makes it through its LGSP as any call, adding `Prefer: respond-async`
(RFC 7240 §4.1) and an `Idempotency-Key`. The gateway checks it as any call (token, service,
operation, the client's right, the target), stores it in the instance's outbox and answers
202 once the row is committed; the instance's worker then delivers it through the gateway, on
behalf of the same client and under the same request id, with retries until the recipient
acknowledges it (`lgsp.outbox.worker`). So a system reached at a URL, a real one included,
gets store-and-forward by HTTP alone, and no system writes into the bus's tables.

Handing over the same key again with the same call answers as the first time (the system may
retry after a lost answer); with another call, or from another client, it is 422
IDEMPOTENCY_KEY_REUSED.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.base import IdempotencyKeyReused
from lgsp.errors import InvalidRequest
from lgsp.outbox.models import OutboxMessage
from lgsp.outbox.producer import MAX_KEY_LENGTH, DeferredCall, enqueue
from lgsp.outbox.receipts import same_body
from lgsp.routing.callers import scoped_key

PREFER_HEADER = "Prefer"
RESPOND_ASYNC = "respond-async"
ORDERING_HEADER = "X-LGSP-Ordering-Key"
"""Optional: hand-overs sharing it are delivered one after the other, in the order taken."""
PATH_SAFE = "/:@!$&'()*+,;=~"
"""Characters a stored path keeps as they are (RFC 3986 `pchar` and `/`, less `%`)."""
MAX_PREFER_LENGTH = 256


def prefers_respond_async(prefer: str | None) -> bool:
    """Whether a `Prefer` header asks for `respond-async` (RFC 7240 §2: tokens are
    case-insensitive, separated by commas, each with optional `;`-parameters)."""
    if not prefer or len(prefer) > MAX_PREFER_LENGTH:
        return False
    return any(
        token.split(";", 1)[0].split("=", 1)[0].strip().lower() == RESPOND_ASYNC
        for token in prefer.split(",")
    )


@dataclass(frozen=True)
class Handover:
    """A call a system hands over, as the gateway checked it."""

    service: str
    version: str
    method: str
    path: str
    """Below `{service}/{version}`, as the gateway decoded it; stored percent-encoded again."""
    query: tuple[tuple[str, str], ...]
    body: bytes
    content_type: str | None
    idempotency_key: str | None
    ordering_key: str | None
    target_instance: str | None


@dataclass(frozen=True)
class Taken:
    """The stored message: its id, its delivery state, and whether this hand-over repeated one."""

    message_id: int
    state: str
    duplicate: bool


async def take(
    sessions: async_sessionmaker[AsyncSession],
    handover: Handover,
    *,
    instance: str,
    client_id: str,
    request_id: str,
    now: datetime,
) -> Taken:
    """Store `handover` in `instance`'s outbox, committed before this returns."""
    if handover.idempotency_key is None:
        raise InvalidRequest(
            "A call handed over with Prefer: respond-async needs an Idempotency-Key: it is what "
            "makes a retried hand-over, and every delivery attempt, count once."
        )
    ordering_key = handover.ordering_key
    if ordering_key is not None and not 0 < len(ordering_key) <= MAX_KEY_LENGTH:
        raise InvalidRequest(f"{ORDERING_HEADER} must have 1 to {MAX_KEY_LENGTH} characters.")
    if ordering_key is not None:  # the client's own line: no one else's message holds it up
        ordering_key = scoped_key(client_id, ordering_key)
    path = quote(handover.path, safe=PATH_SAFE)
    if handover.query:
        path = f"{path}?{urlencode(handover.query)}"
    # The hand-over's own fields as they came, but the two it stores in the outbox's form.
    given = {f.name: getattr(handover, f.name) for f in fields(DeferredCall)}
    call = DeferredCall(**{**given, "path": path, "ordering_key": ordering_key})
    async with sessions.begin() as session:
        added = await enqueue(
            session, call, instance=instance, client_id=client_id, request_id=request_id, now=now
        )
        stored = await _stored(session, instance=instance, key=call.idempotency_key)
        if not added and not _same_call(stored, call, client_id=client_id):
            raise IdempotencyKeyReused(
                "This Idempotency-Key was handed over before with another call."
            )
    return Taken(message_id=stored.id, state=stored.state, duplicate=not added)


async def _stored(session: AsyncSession, *, instance: str, key: str) -> OutboxMessage:
    statement = select(OutboxMessage).where(
        OutboxMessage.instance == instance, OutboxMessage.idempotency_key == key
    )
    return (await session.execute(statement)).scalar_one()


def _same_call(stored: OutboxMessage, call: DeferredCall, *, client_id: str) -> bool:
    return (
        stored.client_id == client_id
        and (stored.service, stored.version, stored.method, stored.path)
        == (call.service, call.version, call.method, call.path)
        and stored.target_instance == call.target_instance
        and stored.content_type == call.content_type
        and same_body(stored, call.body)
    )
