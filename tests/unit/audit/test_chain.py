from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lgsp.audit.chain import (
    GENESIS_HASH,
    AuditEntry,
    canonical_record,
    canonical_timestamp,
    record_hash,
)
from tests.fixtures.audit import audit_entry

ICT = timezone(timedelta(hours=7))  # Indochina Time, the gateways' local time


def make_entry(**overrides: Any) -> AuditEntry:
    return audit_entry(**overrides)


def test_hash_is_sha256_of_the_documented_canonical_json() -> None:
    # Pinned: changing the serialisation would make every stored chain fail verification.
    expected = (
        '{"caller":"qlvb-client","hop":"inbound","instance":"lgsp-91","latency_us":1234,'
        '"method":"GET","occurred_at":"2024-05-01T08:30:00.123456+00:00",'
        '"path":"/services/dancu.lookup/citizens/091*******23",'
        f'"prev_hash":"{GENESIS_HASH}","request_id":"req-1","request_sha256":"{"a" * 64}",'
        f'"response_sha256":"{"b" * 64}","seq":1,"service":"dancu.lookup","status":200,'
        '"target":"lgsp-91"}'
    ).encode()

    assert canonical_record(make_entry(), seq=1, prev_hash=GENESIS_HASH) == expected
    assert record_hash(make_entry(), seq=1, prev_hash=GENESIS_HASH) == (
        hashlib.sha256(expected).hexdigest()
    )


def test_hash_is_deterministic() -> None:
    first = record_hash(make_entry(), seq=7, prev_hash="c" * 64)
    second = record_hash(make_entry(), seq=7, prev_hash="c" * 64)

    assert first == second
    assert len(first) == 64


CHANGED_FIELDS = {
    "request_id": "req-2",
    "instance": "lgsp-82",
    "hop": "upstream",
    "caller": None,
    "target": "dancu",
    "service": None,
    "method": "POST",
    "path": "/services/dancu.lookup/citizens",
    "status": 503,
    "latency_us": 1235,
    "request_sha256": "c" * 64,
    "response_sha256": "d" * 64,
    "occurred_at": datetime(2024, 5, 1, 8, 30, 0, 123457, tzinfo=UTC),
    "notes": '{"warnings":["document_id_mismatch"]}',
}


def test_changed_fields_table_covers_every_field() -> None:
    assert set(CHANGED_FIELDS) == {f.name for f in dataclasses.fields(AuditEntry)}


@pytest.mark.parametrize(("field", "value"), CHANGED_FIELDS.items(), ids=list(CHANGED_FIELDS))
def test_changing_any_field_changes_the_hash(field: str, value: object) -> None:
    original = record_hash(make_entry(), seq=1, prev_hash=GENESIS_HASH)

    assert record_hash(make_entry(**{field: value}), seq=1, prev_hash=GENESIS_HASH) != original


def test_a_record_without_notes_hashes_as_records_did_before_notes_existed() -> None:
    entry = make_entry()
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(AuditEntry)}
    del fields["notes"]
    fields["occurred_at"] = canonical_timestamp(entry.occurred_at)
    before = json.dumps(
        {**fields, "seq": 1, "prev_hash": GENESIS_HASH},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )

    assert canonical_record(entry, seq=1, prev_hash=GENESIS_HASH) == before.encode()


def test_changing_seq_or_prev_hash_changes_the_hash() -> None:
    original = record_hash(make_entry(), seq=1, prev_hash=GENESIS_HASH)

    assert record_hash(make_entry(), seq=2, prev_hash=GENESIS_HASH) != original
    assert record_hash(make_entry(), seq=1, prev_hash="1" + GENESIS_HASH[1:]) != original


def test_same_instant_in_another_time_zone_hashes_the_same() -> None:
    utc = make_entry(occurred_at=datetime(2024, 5, 1, 1, 30, tzinfo=UTC))
    local = make_entry(occurred_at=datetime(2024, 5, 1, 8, 30, tzinfo=ICT))

    assert record_hash(utc, seq=1, prev_hash=GENESIS_HASH) == record_hash(
        local, seq=1, prev_hash=GENESIS_HASH
    )


def test_naive_occurred_at_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_entry(occurred_at=datetime(2024, 5, 1, 8, 30))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("field", ["status", "latency_us"])
def test_float_in_an_integer_field_is_refused(field: str) -> None:
    with pytest.raises(TypeError, match=field):
        make_entry(**{field: 200.0})


# Small alphabets, JSON's own punctuation included, so that distinct entries often differ in
# only one place and naive concatenation would collide.
_text = st.text(alphabet='ab",:\\{}ạ', max_size=4)


def _entries_of(
    text: st.SearchStrategy[str],
    *,
    status: st.SearchStrategy[int],
    latency_us: st.SearchStrategy[int],
    occurred_at: st.SearchStrategy[datetime],
    notes: st.SearchStrategy[str | None] | None = None,
) -> st.SearchStrategy[AuditEntry]:
    return st.builds(
        AuditEntry,
        request_id=text,
        instance=text,
        hop=text,
        caller=st.none() | text,
        target=text,
        service=st.none() | text,
        method=text,
        path=text,
        status=status,
        latency_us=latency_us,
        request_sha256=text,
        response_sha256=text,
        occurred_at=occurred_at,
        notes=st.none() if notes is None else notes,
    )


_entries = _entries_of(
    _text,
    status=st.integers(0, 999),
    latency_us=st.integers(0, 2**63 - 1),
    occurred_at=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive
        max_value=datetime(2100, 1, 1),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, ICT]),
    ),
)
_links = st.tuples(_entries, st.integers(1, 2**63 - 1), _text)


@settings(max_examples=300)
@given(_links)
def test_canonical_record_decodes_back_to_its_input(link: tuple[AuditEntry, int, str]) -> None:
    # A serialisation that can be decoded is injective: no two inputs share a hash input.
    entry, seq, prev_hash = link
    decoded = json.loads(canonical_record(entry, seq=seq, prev_hash=prev_hash))

    assert decoded.pop("seq") == seq
    assert decoded.pop("prev_hash") == prev_hash
    decoded["occurred_at"] = datetime.fromisoformat(decoded["occurred_at"])
    assert AuditEntry(**decoded) == entry


@settings(max_examples=300)
@given(_links, _links)
def test_distinct_links_have_distinct_canonical_records(
    first: tuple[AuditEntry, int, str], second: tuple[AuditEntry, int, str]
) -> None:
    (entry_a, seq_a, prev_a), (entry_b, seq_b, prev_b) = first, second
    same_input = first == second
    same_bytes = canonical_record(entry_a, seq=seq_a, prev_hash=prev_a) == canonical_record(
        entry_b, seq=seq_b, prev_hash=prev_b
    )

    assert same_input == same_bytes


_any_text = st.text(max_size=12)  # every code point: controls, surrogates, emoji
_wide_entries = _entries_of(
    _any_text,
    status=st.integers(-(2**70), 2**70),
    latency_us=st.integers(0, 2**70),
    occurred_at=st.datetimes(timezones=st.sampled_from([UTC, ICT])),
    notes=st.none() | _any_text,
)


@settings(max_examples=500)
@given(_wide_entries, st.integers(1, 2**70), _any_text)
def test_canonical_record_is_the_stdlib_json_byte_for_byte(
    entry: AuditEntry, seq: int, prev_hash: str
) -> None:
    """orjson writes the record (issue 21); every stored chain was hashed over the stdlib's
    bytes, so the two must never differ, whatever the text (or it fails the same way)."""
    fields = {f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)}
    if fields["notes"] is None:
        del fields["notes"]
    fields |= {"occurred_at": canonical_timestamp(entry.occurred_at), "seq": seq}
    fields["prev_hash"] = prev_hash
    try:
        expected: bytes | type[Exception] = json.dumps(
            fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no record could be written before either
        expected = UnicodeEncodeError

    if isinstance(expected, bytes):
        assert canonical_record(entry, seq=seq, prev_hash=prev_hash) == expected
    else:
        with pytest.raises(expected):
            canonical_record(entry, seq=seq, prev_hash=prev_hash)


@given(
    st.datetimes(
        # hypothesis takes naive bounds; a day inside, so that either zone converts to UTC
        min_value=datetime(1, 1, 2),  # noqa: DTZ001
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from([UTC, ICT]),
    )
)
def test_canonical_timestamp_is_isoformat_in_utc(moment: datetime) -> None:
    """The once-a-second shortcut writes what `isoformat` writes, for any aware time (years
    before 1000 too); twice, so that the second call reads the kept seconds."""
    expected = moment.astimezone(UTC).isoformat(timespec="microseconds")
    assert canonical_timestamp(moment) == expected
    assert canonical_timestamp(moment) == expected
