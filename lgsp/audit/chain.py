"""The audit hash chain as pure functions: what one hop is, and how its record is hashed.

Each record's hash covers its own fields, its sequence number and the previous record's hash,
so editing, deleting or inserting a record breaks every later link (DESIGN.md §3 "Audit log").
No I/O here: the writer and `verify` share these functions, so both compute the same bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import operator
from datetime import UTC, datetime
from typing import Any

import orjson

from kit.values import value_object

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first record of every instance's chain."""


@value_object
class AuditEntry:
    """What the gateway knows about one hop of one request, before it joins a chain."""

    request_id: str
    instance: str
    hop: str
    """`inbound` for client -> gateway, `upstream` for gateway -> owning system or NDXP."""
    caller: str | None
    """Client id, or the calling instance on a gateway-to-gateway hop."""
    target: str
    """Instance or system name the hop went to."""
    service: str | None
    method: str
    path: str
    status: int
    latency_us: int
    """Integer microseconds: floats have no single canonical text, so none are hashed."""
    request_sha256: str
    response_sha256: str
    occurred_at: datetime
    """Timezone-aware; hashed and stored as UTC."""
    notes: str | None = None
    """What the call's message was found to be, as compact JSON (edXML `warnings`: their rule
    codes); hashed only when present, so records written before it existed verify unchanged."""

    def __post_init__(self) -> None:
        # Fail on the request path, not later as a false "tampered" alarm from verify.
        if self.occurred_at.tzinfo is not UTC and self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")
        if type(self.status) is not int or type(self.latency_us) is not int:
            name = "status" if type(self.status) is not int else "latency_us"
            raise TypeError(f"{name} must be an int")


_ENTRY_FIELDS = tuple(field.name for field in dataclasses.fields(AuditEntry))
entry_values = operator.attrgetter(*_ENTRY_FIELDS)
"""An entry's fields in their order, as a tuple, in one call (for a row or a canonical record)."""


_Second = tuple[int, int, int, int, int, int]
_last_second: tuple[_Second, str] = ((0, 0, 0, 0, 0, 0), "")
"""The text up to the seconds of the last time `canonical_timestamp` wrote, and its fields."""


def canonical_timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with microseconds: the one text form of a time inside a hash.

    `isoformat(timespec="microseconds")`'s text (tests/unit/audit/test_chain.py holds them
    equal), at half its cost: the part up to the seconds is written once a second, and a
    call's times (its entries, its journal row) fall in the same second (issue 21)."""
    global _last_second
    if moment.tzinfo is not UTC:  # the gateway's own times are UTC already: no conversion
        if moment.utcoffset() is None:
            raise ValueError("a naive datetime has no single UTC form")
        moment = moment.astimezone(UTC)
    second = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    seen, head = _last_second  # one read: another thread may replace it meanwhile
    if second != seen:
        head = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.".format(*second)
        _last_second = (second, head)
    return f"{head}{moment.microsecond:06d}+00:00"


def canonical_record(
    entry: AuditEntry, *, seq: int, prev_hash: str, timestamp: str | None = None
) -> bytes:
    """The exact bytes that are hashed: JSON of every field plus `seq` and `prev_hash`.

    Sorted keys, no whitespace and JSON string escaping make the form unambiguous (no field can
    bleed into the next); `ensure_ascii=False` keeps Vietnamese text readable when debugging.
    Written by orjson, whose output for these values (text, integers, null) is the stdlib's
    byte for byte at a tenth of its time (issue 21; `tests/unit/audit/test_chain.py` holds
    them equal); what orjson refuses (a lone surrogate, an integer past 64 bits) goes to the
    stdlib, as before. The keys are written in their sorted order, so orjson need not sort
    them, and field by field rather than looped over by name: a third of the record's cost
    (issue 21; the same test fails if a field is missing or out of order). `timestamp`:
    `canonical_timestamp(entry.occurred_at)`, when the caller has it already (the SQLite
    writer stores it too).
    """
    fields = {
        "caller": entry.caller,
        "hop": entry.hop,
        "instance": entry.instance,
        "latency_us": entry.latency_us,
        "method": entry.method,
        "notes": entry.notes,
        "occurred_at": timestamp or canonical_timestamp(entry.occurred_at),
        "path": entry.path,
        "prev_hash": prev_hash,
        "request_id": entry.request_id,
        "request_sha256": entry.request_sha256,
        "response_sha256": entry.response_sha256,
        "seq": seq,
        "service": entry.service,
        "status": entry.status,
        "target": entry.target,
    }
    if entry.notes is None:
        del fields["notes"]
    try:
        return orjson.dumps(fields)
    except TypeError:
        return stdlib_canonical_json(fields)


def stdlib_canonical_json(fields: dict[str, Any]) -> bytes:
    """The canonical form as the stdlib writes it: the definition orjson's output must meet."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def record_hash(
    entry: AuditEntry, *, seq: int, prev_hash: str, timestamp: str | None = None
) -> str:
    """SHA-256 hex of `canonical_record`: the record's link in its instance's chain."""
    record = canonical_record(entry, seq=seq, prev_hash=prev_hash, timestamp=timestamp)
    return hashlib.sha256(record).hexdigest()
