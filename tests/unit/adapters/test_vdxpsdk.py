"""The VDXP SDK's `XroadVnpt-*` signature, as SDKVXP-2.0.1's VnptService makes it (issue 17)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest

from adapters.dialects import vdxpsdk as sdk
from formats.dates import VIETNAM_TIME

NOW = datetime(2026, 12, 6, 20, 15, 30, 123000, VIETNAM_TIME)
SKEW = timedelta(minutes=5)
SYSTEM, SECRET = "vxp.saas.02", "AwyOIWljooz1hxgZsxpEBjCoj5rg9dMMsLJl0YydfZpd"  # the SDK's sample
ENTRIES = {"Content-Type": "application/octet-stream", "from": "000.00.01.H33",
           "messagetype": "edoc", "hash-file": "ab"}  # fmt: skip


def sent(**entries: str) -> dict[str, str]:
    headers = sdk.signed_headers(
        SYSTEM, SECRET, {**ENTRIES, **entries}, timestamp=sdk.format_timestamp(NOW)
    )
    return {name.lower(): value for name, value in headers.items()}


def test_the_hmac_is_over_the_signed_json_keyed_by_the_secret() -> None:
    headers = sent()
    document = headers[sdk.SIGN_HEADER.lower()]

    expected = hmac.new(SECRET.encode(), document.encode(), hashlib.sha256).hexdigest()

    assert headers[sdk.HASH_HEADER.lower()] == expected
    assert json.loads(document)["XroadVnpt-timestamp"] == "06122026T201530+0123"
    assert headers[sdk.SIGN_HEADER_KEY.lower()].split(";")[:2] == ["timestamp", "systemid"]


def test_without_a_window_a_long_lived_sdk_clients_stamp_is_taken() -> None:
    """The jar stamps once per service object: a month later its stamp is still the same."""
    later = NOW + timedelta(days=30)

    signed = sdk.verify(sent(), SECRET, now=later, max_skew=None, require=("hash-file",))

    assert signed.timestamp == NOW


def test_a_call_signed_as_the_sdk_signs_is_verified() -> None:
    signed = sdk.verify(sent(), SECRET, now=NOW, max_skew=SKEW, require=("hash-file",))

    assert (signed.system_id, signed.entries["from"]) == (SYSTEM, "000.00.01.H33")
    assert signed.timestamp == NOW


def test_the_file_hash_is_read_in_the_sdks_unpadded_hex_and_in_plain_hex() -> None:
    data = b"<edXML/>"  # its SHA-256 has bytes below 0x10
    digest = hashlib.sha256(data).digest()

    assert sdk.sdk_hex(digest) != digest.hex()
    assert sdk.file_matches(data, sdk.sdk_hex(digest))
    assert sdk.file_matches(data, digest.hex().upper())
    assert not sdk.file_matches(data + b" ", sdk.sdk_hex(digest))


def _with(headers: dict[str, str], **changes: str) -> dict[str, str]:
    return {**headers, **{k.replace("_", "-").lower(): v for k, v in changes.items()}}


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("other secret", "SIGNATURE_INVALID"),
        ("hmac not hex", "SIGNATURE_INVALID"),
        ("entry changed", "SIGNATURE_INVALID"),
        ("key list differs", "SIGNATURE_INVALID"),
        ("no hash-file signed", "SIGNATURE_MISSING"),
        ("no hash header", "SIGNATURE_MISSING"),
        ("stale", "TIMESTAMP_STALE"),
        ("timestamp garbled", "TIMESTAMP_INVALID"),
        ("sign header too long", "SIGNATURE_INVALID"),
    ],
)
def test_a_call_that_does_not_hold_is_refused_with_a_stable_code(case: str, code: str) -> None:
    headers, secret, now = sent(), SECRET, NOW
    if case == "other secret":
        secret = SECRET + "x"
    elif case == "hmac not hex":
        headers = _with(headers, XroadVnpt_hash_header="z" * 64)
    elif case == "entry changed":
        headers = _with(headers, XroadVnpt_from="000.00.03.H33")
    elif case == "key list differs":
        headers = _with(headers, XroadVnpt_sign_header_key="timestamp;systemid")
    elif case == "no hash-file signed":
        entries = {k: v for k, v in ENTRIES.items() if k != "hash-file"}
        headers = {
            k.lower(): v
            for k, v in sdk.signed_headers(
                SYSTEM, SECRET, entries, timestamp=sdk.format_timestamp(NOW)
            ).items()
        }
    elif case == "no hash header":
        del headers[sdk.HASH_HEADER.lower()]
    elif case == "stale":
        now = NOW + SKEW + timedelta(seconds=1)
    elif case == "timestamp garbled":
        headers = sent()
        stamp = "32132026T201530+0123"
        document = headers[sdk.SIGN_HEADER.lower()].replace("06122026T201530+0123", stamp)
        mac = hmac.new(SECRET.encode(), document.encode(), hashlib.sha256).hexdigest()
        headers = _with(headers, XroadVnpt_sign_header=document, XroadVnpt_hash_header=mac,
                        XroadVnpt_timestamp=stamp)  # fmt: skip
    elif case == "sign header too long":
        headers = _with(headers, XroadVnpt_sign_header="{" + " " * sdk.MAX_SIGN_HEADER + "}")

    with pytest.raises(sdk.SdkRefusal) as refused:
        sdk.verify(headers, secret, now=now, max_skew=SKEW, require=("hash-file",))

    assert refused.value.code == code
    assert SECRET not in str(refused.value)


def test_a_stamp_ahead_of_the_clock_is_taken_within_the_drift_only() -> None:
    """Security review 2026-12: the window was checked both ways, so a stamp a day ahead
    made a captured call replayable for two days."""
    day, ahead = timedelta(days=1), timedelta(minutes=5)

    drifted = sdk.verify(sent(), SECRET, now=NOW - timedelta(minutes=4), max_skew=day,
                         max_ahead=ahead, require=("hash-file",))  # fmt: skip
    with pytest.raises(sdk.SdkRefusal) as refused:
        sdk.verify(sent(), SECRET, now=NOW - timedelta(hours=6), max_skew=day, max_ahead=ahead,
                   require=("hash-file",))  # fmt: skip

    assert drifted.timestamp == NOW
    assert refused.value.code == "TIMESTAMP_STALE"


# --- the jar's calls without a file -----------------------------------------------------------

JAR_CALLS = [
    (sdk.GET_RECEIVED, {"servicetype": "eDoc", "messagetype": "edoc"}),
    (sdk.COUNT_RECEIVED, {}),
    (sdk.GET_EDOC, {"filePath": "xml", "docId": "MDAw"}),
    (sdk.DOWNLOAD_EDOC, {"filePath": "xml", "docId": "MDAw"}),
    (sdk.UPDATE_STATUS, {"status": "done", "docid": "MDAw"}),
    (sdk.GET_SENT, {"servicetype": "eDoc", "messagetype": "edoc", "docId": "MDAw"}),
    (sdk.GET_AGENCIES_QD20, {"level": "1"}),
]
"""Each call with the header argument the jar signs for it (module docstring)."""


@pytest.mark.parametrize(("operation", "entries"), JAR_CALLS)
def test_each_call_takes_the_fields_the_jar_signs_for_it(
    operation: str, entries: dict[str, str]
) -> None:
    sdk.check_call(operation, {"timestamp": "t", "systemid": SYSTEM,
                               "Content-Type": "application/json", **entries})  # fmt: skip


@pytest.mark.parametrize(
    ("operation", "entries", "code"),
    [
        (sdk.GET_RECEIVED, {"servicetype": "eDoc"}, "SIGNATURE_MISSING"),
        (sdk.GET_RECEIVED, {"status": "done", "docId": "MDAw"}, "SIGNATURE_INVALID"),
        (sdk.GET_RECEIVED, {**ENTRIES, "servicetype": "eDoc"}, "SIGNATURE_INVALID"),  # sendEdoc
        (sdk.GET_EDOC, {"status": "processing", "docId": "MDAw"}, "SIGNATURE_INVALID"),
        (sdk.GET_EDOC, {"servicetype": "eDoc", "docId": "MDAw"}, "SIGNATURE_INVALID"),
        (sdk.UPDATE_STATUS, {"filePath": "xml", "docId": "MDAw"}, "SIGNATURE_INVALID"),
        (sdk.COUNT_STATUS, {"docId": "MDAw"}, "SIGNATURE_INVALID"),
        (sdk.GET_UNITS, {"servicetype": "eDoc", "messagetype": "edoc"}, "SIGNATURE_INVALID"),
    ],
)
def test_a_call_signed_for_another_operation_is_refused(
    operation: str, entries: dict[str, str], code: str
) -> None:
    with pytest.raises(sdk.SdkRefusal) as refused:
        sdk.check_call(operation, entries)

    assert refused.value.code == code


@pytest.mark.parametrize(
    ("entries", "path"),
    [
        ({"docId": "MDAw"}, "documents/MDAw"),
        ({"docid": '"MDAw"'}, "documents/MDAw"),  # ServiceTest's `"docid":` + unquoted id
        ({"docId": "MDAw/000.00.03.H33/2"}, "documents/MDAw/recipients/000.00.03.H33/statuses/2"),
    ],
)
def test_a_doc_id_names_a_document_or_a_status_message(entries: dict[str, str], path: str) -> None:
    assert sdk.doc_ref(entries).path == path


@pytest.mark.parametrize("value", ["", "../admin", "MDAw/x/0", "MDAw?x=1", "a" * 401])
def test_a_doc_id_of_another_shape_is_refused(value: str) -> None:
    with pytest.raises(sdk.SdkRefusal) as refused:
        sdk.doc_ref({"docId": value})

    assert refused.value.code == "DOCID_INVALID"


def test_update_status_takes_the_sdks_three_transport_statuses() -> None:
    assert [sdk.transport_status({"status": s}) for s in ("processing", "done", "fail")] == [
        "processing",
        "done",
        "fail",
    ]
    with pytest.raises(sdk.SdkRefusal):
        sdk.transport_status({"status": "06"})  # an edXML code is not the SDK's


def test_a_knobstick_leaves_out_what_is_unknown_the_jar_cannot_read_a_null() -> None:
    item = {"id": "MDAw", "document_id": "x", "from": {"organ_id": "000.00.01.H33"},
            "subject": "V/v", "received_at": "2026-12-06T20:00", "status": None}  # fmt: skip

    stick = sdk.knobstick(item, messagetype="edoc")

    assert stick["docId"] == "MDAw"
    assert (stick["status"], stick["status_desc"]) == ("initial", "")
    assert "statusCode" not in stick
    assert all(isinstance(value, str) for value in stick.values())


def test_a_knobstick_names_the_organ_id_its_document_was_addressed_to() -> None:
    """A successor's inbox lists its closed predecessor's documents: `to` says which code."""
    item = {"id": "MDAw", "document_id": "x", "organ_id": "000.00.03.H33",
            "from": {"organ_id": "000.00.01.H33"}, "subject": "V/v",
            "received_at": "2026-12-06T20:00", "status": None}  # fmt: skip

    stick = sdk.knobstick(item, messagetype="edoc")

    assert stick["to"] == "000.00.03.H33"


def test_a_status_knobstick_names_the_party_the_message_is_for() -> None:
    """`to` is the status message's addressee: the sender for a recipient's report, the
    recipient for the sender's recall; `organ_id` names the delivery in `docId` only."""
    report = {"id": "MDAw", "document_id": "x", "organ_id": "000.00.03.H33", "position": 1,
              "status_code": "01", "status_name": "ARRIVED", "reported_by": "000.00.03.H33",
              "addressee": "000.00.01.H33", "received_at": "2026-12-06T20:00"}  # fmt: skip
    recall = {**report, "position": 2, "status_code": "13", "reported_by": "000.00.01.H33",
              "addressee": "000.00.03.H33"}  # fmt: skip

    sticks = [sdk.knobstick(item, messagetype="status") for item in (report, recall)]

    assert [(s["docId"], s["from"], s["to"]) for s in sticks] == [
        ("MDAw/000.00.03.H33/1", "000.00.03.H33", "000.00.01.H33"),
        ("MDAw/000.00.03.H33/2", "000.00.01.H33", "000.00.03.H33"),
    ]


def test_sent_results_give_each_recipients_transport_and_edxml_status() -> None:
    view = {
        "document": {"from": {"organ_id": "000.00.01.H33"}, "subject": "V/v",
                     "code": {"code_number": "15", "code_notation": "STP-VP"},
                     "promulgation": {"date": "2026-12-06"}},
        "recipients": [
            {"organ_id": "000.00.03.H33", "status": "03",
             "delivery": {"state": "delivered", "reason": None},
             "history": [{"timestamp": "2026-12-06T10:00:00"}]},
            {"organ_id": "000.00.01.H58", "status": None,
             "delivery": {"state": "undeliverable", "reason": "HTTP 503"}, "history": []},
        ],
    }  # fmt: skip

    here, there = sdk.sent_results(view, "MDAw")

    assert (here["sendStatus"], here["receiveStatus"], here["receiveStatusDesc"]) == (
        "done",
        "03",
        "ACCEPTED",
    )
    assert (here["notation"], here["receivedTime"]) == ("15/STP-VP", "2026-12-06T10:00:00")
    assert (there["sendStatus"], there["sendStatusDesc"]) == ("fail", "HTTP 503")
    assert "receiveStatus" not in there


def test_the_sdks_answers_carry_no_doc_id_without_a_document() -> None:
    assert sdk.failure("NOT_FOUND", "No such call.") == {
        "status": "FAIL",
        "ErrorCode": "NOT_FOUND",
        "ErrorDesc": "No such call.",
    }
    assert "DocId" not in sdk.success(None)
    assert sdk.success("doc-1")["DocId"] == "doc-1"


def test_without_nulls_leaves_out_every_null_at_any_depth() -> None:
    answer = {"DocId": None, "Answer": {"id": "a", "reason": None, "items": [None, {"x": None}]}}

    assert sdk.without_nulls(answer) == {"Answer": {"id": "a", "items": [{}]}}
    assert "null" not in json.dumps(sdk.without_nulls(answer))


def test_unsigned_entries_read_the_sdks_header_argument() -> None:
    """Through API Manager no HMAC covers the fields: the jar's `XroadVnpt-*` headers first,
    then plain headers, then a JSON body; anything else (the signature headers) is left out."""
    headers = {
        "xroadvnpt-messagetype": "edoc",
        "docid": "abc",
        "xroadvnpt-sign-header": "{}",
        "xroadvnpt-status": "x" * (sdk.MAX_VALUE + 1),
    }
    body = b'{"servicetype": "eDoc", "docId": "ignored", "page": 2}'

    assert sdk.unsigned_entries(headers, body) == {
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "docId": "abc",
    }
    assert sdk.unsigned_entries({}, b"[1") == {}
