"""What the journal keeps of one exchange, and how bodies are bounded and masked before storage.

The journal exists so that a test can see what its client really sent and got back, and check
it (`POST {base}/admin/journal/verify`), as with WireMock's request journal. Unlike the audit
log it holds bodies; so each body is cut at `LGSP_JOURNAL_MAX_BODY_BYTES` and, unless the dev
profile asks otherwise (`LGSP_JOURNAL_UNMASKED`), masked: id numbers as in the logs
(`lgsp.masking`) and the values of fields that name or reach a person (`is_personal_field`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

import orjson

from kit.values import value_object
from lgsp.json_text import compact_json_text
from lgsp.masking import (
    is_personal_field,
    mask_digit_run,
    mask_field,
    mask_personal_data,
    mask_query,
    remember,
)
from lgsp.masking import (
    mask_name as mask_name,  # the console's, from here
)

# Every field of a text is found; `is_personal_field` (which remembers) says which to mask.
# Linear: `[^<>]*` cannot run past the next tag, so an unclosed `<FullName ` costs one scan.
_XML_FIELD = re.compile(
    r"<(?P<tag>(?:[\w.-]+:)?(?P<name>[\w.-]+))(?P<attrs>\s[^<>]*)?>"
    r"(?:<!\[CDATA\[(?P<cdata>[^\]]{0,500})\]\]>|(?P<text>[^<]*))</(?P=tag)\s*>",
    re.IGNORECASE,  # `</fullname>` closes `<FullName>` as it did
)
# A start tag with attributes (`<Citizen HoTen="…">`, `<Chu DiaChi='…'/>`), and each attribute
# in it: one named like a personal field has its value masked. Linear, as `_XML_FIELD` is: a
# name is tried only after a space, so a tag of one long word is read once.
_XML_TAG = re.compile(r"<[\w.:-]+\s[^<>]*>")
_XML_ATTRIBUTE = re.compile(
    r"""(?P<lead>\s(?P<name>[\w.:-]+)\s*=\s*(?P<quote>["']))(?P<text>[^"'<>]*)(?P=quote)"""
)
# What is left of JSON that did not parse (a cut body, a wrong content type): `"key": "value"`.
_JSON_FIELD = re.compile(r'"(?P<name>[\w.-]+)"\s*:\s*"(?P<text>(?:[^"\\]|\\.)*)"?')
_FORM_FIELD = re.compile(r"(?P<lead>(?:^|&)(?P<name>[\w.%+-]+)=)(?P<text>[^&]*)")
_field_plans: dict[str, tuple[str, bool]] = {}
"""`_field_plan`'s answers."""
_MAX_KNOWN_KEYS = 4096
"""Keys remembered at most (then forgotten together): keys a caller makes up are endless."""
_MAX_KNOWN_KEY_LENGTH = 64
"""A longer key is planned every time: remembered, 4,096 keys of a body's length each would
hold gigabytes (a field name is short; a made-up key may be the whole body)."""
MASK_MARGIN = 96
"""Bytes captured past the journal's limit, so that what is cut at the limit was masked whole:
a CCCD across the limit is masked before the cut, and one across the capture's end is beyond
the limit and cut away. 12 digits spelt `&#x30;` take 72 bytes."""
_MAX_JSON_DEPTH = 64
"""Deeper JSON is kept as text (masked as text): walking it must stay bounded."""


@value_object
class JournalEntry:
    """One exchange as the journal stores it: bodies already bounded and masked."""

    instance: str
    request_id: str
    client_id: str | None
    service: str | None
    method: str
    path: str
    """Relative to the instance's base, as integrators write it: `/dancu/v1/citizens/…`."""
    query: str
    status: int
    request_content_type: str | None
    request_body: str
    request_truncated: bool
    response_content_type: str | None
    response_body: str
    response_truncated: bool
    latency_us: int
    occurred_at: datetime


class BodyCapture:
    """The first bytes of a streamed body, and whether all of it was seen.

    Keeps `MASK_MARGIN` bytes more than `limit`: `stored_body` masks, then cuts at `limit`.
    """

    __slots__ = ("_chunks", "_kept", "complete", "limit", "over_limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: list[bytes] = []
        self._kept = 0
        self.over_limit = False
        self.complete = False
        """The last chunk arrived (a refused call may end before its body was read)."""

    def add(self, chunk: bytes, *, more: bool = False) -> None:
        if not more:
            self.complete = True
        if self._kept + len(chunk) > self.limit:
            self.over_limit = True
        room = self.limit + MASK_MARGIN - self._kept
        chunk = chunk[: max(room, 0)]
        if chunk:
            self._chunks.append(chunk)
            self._kept += len(chunk)

    @property
    def data(self) -> bytes:
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)

    def holds(self, body: bytes) -> bool:
        """All that was captured is `body` (compared without joining a one-chunk body)."""
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0] == body
        return b"".join(chunks) == body


def stored_document(
    capture: BodyCapture, document: Any, rendered: bytes, *, masked: bool
) -> str | None:
    """`stored_body` of a JSON answer from the value it was rendered from, when the captured
    body is all of `rendered` and is not cut: masking the value skips parsing the body again
    (issue 21). None when that does not hold (a fault changed the body, or it is too long)."""
    if not masked or not capture.complete or capture.over_limit or not capture.holds(rendered):
        return None
    try:
        document = _masked_document(document, _MAX_JSON_DEPTH, _string_masker(rendered))
    except _TooDeep:
        return None
    return _bounded_json(document, capture.limit)


def stored_body(capture: BodyCapture, content_type: str | None, *, masked: bool) -> str:
    """The text the journal stores for a body: valid UTF-8, masked if asked, then cut.

    JSON (whatever the content type says) is masked field by field and kept compact; anything
    else is masked as text: XML elements, `"key": "value"` pairs of broken JSON and form fields
    that name a person, and id numbers anywhere. Masking comes before the cut, so a cut never
    leaves most of a number. NUL and lone surrogates are replaced: the database refuses them,
    and a journal row the database refuses would fail the call's audit transaction.
    """
    data = capture.data
    if not data:  # most calls: a GET's request body
        return ""
    if masked and (data.lstrip()[:1] in (b"{", b"[") or _is_json(content_type)):
        stored = _stored_json(data, capture.limit)
        if stored is not None:
            return stored
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if masked:
        text = _masked(text, content_type, data)
    return _cut(valid_text(text), capture.limit)


def stored_path(path: str, *, masked: bool) -> str:
    return valid_text(mask_personal_data(path) if masked else path)


def stored_query(query: str, *, masked: bool) -> str:
    """Numbers and the values of parameters named like a personal field masked, and the value
    of any parameter named like a credential hidden, masked or not (`lgsp.masking.mask_query`)."""
    if not query:
        return ""
    return stored_path(mask_query(query, personal=masked), masked=masked)


def _stored_json(data: bytes, limit: int) -> str | None:
    """`stored_body` of JSON that orjson reads (from the bytes, in C: a forwarded answer, a
    request), or None for the text path, where the stdlib reads what orjson refuses (invalid
    UTF-8, NaN, a lone surrogate) as before (issue 21). orjson reads an integer past 64 bits
    as a float: a run of 19 digits (or bytes past ASCII) is left to the stdlib too."""
    classes = data.translate(_DIGIT_OR_WIDE)
    if classes.find(_NINETEEN) != -1:
        return None
    try:
        document = orjson.loads(data)
    except ValueError:  # orjson's JSONDecodeError
        return None
    if document is None:  # `null`: kept as text, as the stdlib path keeps it
        return None
    try:
        document = _masked_document(document, _MAX_JSON_DEPTH, _string_masker(data, classes))
    except _TooDeep:
        return None
    return _bounded_json(document, limit)


def _masked(text: str, content_type: str | None, data: bytes) -> str:
    """`text` (decoded from `data`) masked: as JSON if it parses, else as text."""
    if text.lstrip()[:1] in ("{", "[") or _is_json(content_type):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if document is not None:
            try:
                masked = _masked_document(document, _MAX_JSON_DEPTH, _string_masker(data))
            except _TooDeep:
                pass
            else:
                return compact_json_text(masked)
    return mask_text(text)


def mask_document(value: Any) -> Any:
    """A JSON value with id numbers masked (in strings and in numbers) and personal fields
    masked by key."""
    return _masked_document(value, sys.maxsize, _each_masked)


class _TooDeep(Exception):
    """Nested deeper than the journal walks: the body is kept as text (masked as text)."""


_Mask = Callable[[str, str], str]
"""How the walk masks a string, called with it twice (`mask(text, text)`): `_each_masked`, or
`_string_masker`'s shortcut, a dict's `get` (the string itself when it is not a key), which
runs in C where a function of one argument would be a Python call for every string of an
answer (issue 21)."""
_NOTHING_TO_MASK: dict[str, str] = {}


def _each_masked(text: str, _: str) -> str:
    """The walk's `_Mask` that masks each string by `mask_personal_data`."""
    return mask_personal_data(text)


_SPELT = ((ord("%"), b"%3"), (ord("&"), b"&#"), (ord("\\"), b"\\u"))
"""Where a digit may be spelt otherwise: percent-encoded, a character reference, a `\\u` escape."""
_LEADS = frozenset(lead for lead, _ in _SPELT)
_DIGIT_OR_WIDE = bytes(
    0x30 if 0x30 <= b <= 0x39 or b >= 0x80 else 0x25 if b in _LEADS else 0x2E for b in range(256)
)
"""`bytes.translate` table: an ASCII digit, or any byte of a character past ASCII (which may be
a digit of another script: `\\d` matches `٣`), becomes `0`; a byte that may lead a digit spelt
otherwise (`_SPELT`) `%`; any other byte `.`."""
_NINE = b"0" * 9
_NINETEEN = b"0" * 19
_QUOTE, _BACKSLASH, _LEAD_CLASS = 0x22, 0x5C, 0x25


def _string_masker(data: bytes, classes: bytes | None = None) -> _Mask:
    """What masks each string of the JSON document `data` renders (or was parsed from), as
    `mask_personal_data` would, with one pass over `data` in C instead of a regex scan per
    string: most documents hold no run of 9 digits but whole id numbers (`"091048993438"`),
    and those scans were most of the journal's cost (issue 21).

    A string `mask_personal_data` changes holds `%3` or `&#`, or a run of 9 or more digits;
    none of these is escaped in JSON but by `\\u` (ASCII digits never; others when written
    ASCII-only), so each shows in `data`. When every run of 9 there is a whole string of ASCII
    digits, its opening quote not escaped (`\\"` is a quote inside a string), the strings to
    mask are those numbers: they are looked up. Else each string is scanned. `classes`:
    `data` translated by `_DIGIT_OR_WIDE`, if the caller has it.

    The pairs are looked for only when the classes hold a lead byte (one `in` for the three:
    most answers have none), and each number is masked by `mask_digit_run`, which need not
    look for what this pass has found (−3.7k instructions of 20k an answer, issue 21). A run
    followed by a lead byte runs on to the next `.` class here, where it stopped at the lead
    before: it is then no whole string of digits, as before (that byte is no quote).
    """
    if classes is None:
        classes = data.translate(_DIGIT_OR_WIDE)
    # A pair only where its first byte is: `int in bytes` is a memchr (`bytes in bytes` first
    # fails to read its operand as an int, an exception each time).
    if _LEAD_CLASS in classes:
        for lead, pair in _SPELT:
            if lead in data and data.find(pair) != -1:
                return _each_masked
    numbers: dict[str, str] = {}
    start = classes.find(_NINE)
    while start != -1:
        end = classes.find(b".", start)
        if (
            end == -1
            or start < 1
            or data[start - 1] != _QUOTE
            or data[end] != _QUOTE
            or (start > 1 and data[start - 2] == _BACKSLASH)
        ):
            return _each_masked
        run = data[start:end]
        if not run.isdigit():
            return _each_masked
        number = run.decode("ascii")
        numbers[number] = mask_digit_run(number)
        start = classes.find(_NINE, end)
    return (numbers or _NOTHING_TO_MASK).get  # with none, each string as it is


def _masked_document(value: Any, depth: int, mask: _Mask) -> Any:
    """`mask_document` that gives up (`_TooDeep`) past `depth` levels, in the same walk, each
    string masked by `mask` (`_each_masked`, or `_string_masker`'s shortcut).

    Exact types are tried before `isinstance` (a `bool` is no `int` here): the journal masks
    every answer, and this walk was most of its cost (issue 21)."""
    if depth < 1:
        raise _TooDeep
    kind = type(value)
    if kind is str:
        return mask(value, value)
    if kind is dict:
        return _masked_fields(value, depth, mask)
    if kind is list or kind is tuple:  # a tuple: a value not yet rendered (`stored_document`)
        return _masked_items(value, depth, mask)
    if kind is int or (isinstance(value, int) and kind is not bool):
        text = str(value)
        masked = mask_personal_data(text)
        return value if masked == text else masked
    if isinstance(value, dict):
        return _masked_fields(value, depth, mask)
    if isinstance(value, list | tuple):
        return _masked_items(value, depth, mask)
    if isinstance(value, str):
        return mask_personal_data(value)
    return value


def _masked_fields(fields: dict[Any, Any], depth: int, mask: _Mask) -> dict[Any, Any]:
    """An object's fields: a string masked here rather than by a call of the walk per value
    (most of an answer's values are strings), a name by its key; a key is masked too (a map
    keyed by CCCD)."""
    if depth == 1 and fields:  # its values are one level too deep
        raise _TooDeep
    plans = _field_plans
    masked: dict[Any, Any] = {}
    for key, item in fields.items():
        plan = plans.get(key)
        name, personal = _field_plan(key) if plan is None else plan
        if name in masked:  # two keys masked alike (two CCCDs): both kept, told apart
            name = _unused(name, masked)
        if type(item) is str:
            masked[name] = mask_field(item) if personal else mask(item, item)
        elif personal:  # an address as an object, phones as a list, a phone as a number
            masked[name] = _masked_personal(item, depth - 1)
        else:
            masked[name] = _masked_document(item, depth - 1, mask)
    return masked


def _masked_personal(value: Any, depth: int) -> Any:
    """A value under a personal key: every string and number below it masked as a personal
    field's (`mask_field`; a number becomes a string), whatever the keys below say; `true`,
    `false` and `null` kept. Keys are kept as `_field_plan` keeps them."""
    if depth < 1:
        raise _TooDeep
    if isinstance(value, str):
        return mask_field(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return mask_field(str(value))
    if isinstance(value, dict):
        if depth == 1 and value:
            raise _TooDeep
        fields: dict[Any, Any] = {}
        for key, item in value.items():
            plan = _field_plans.get(key)
            name = (_field_plan(key) if plan is None else plan)[0]
            if name in fields:
                name = _unused(name, fields)
            fields[name] = _masked_personal(item, depth - 1)
        return fields
    if isinstance(value, list | tuple):
        if depth == 1 and value:
            raise _TooDeep
        return [_masked_personal(item, depth - 1) for item in value]
    return value


def _unused(name: Any, taken: dict[Any, Any]) -> str:
    """`name` with the first ` (n)` that no key in `taken` has."""
    number = 2
    while f"{name} ({number})" in taken:
        number += 1
    return f"{name} ({number})"


def _masked_items(items: list[Any] | tuple[Any, ...], depth: int, mask: _Mask) -> list[Any]:
    if depth == 1 and items:
        raise _TooDeep
    return [
        mask(item, item) if type(item) is str else _masked_document(item, depth - 1, mask)
        for item in items
    ]


def mask_text(text: str) -> str:
    """Personal fields of XML (elements and attributes), of broken JSON and of forms, then id
    numbers anywhere."""
    if "=" in text:  # attributes: their tags are looked at only if some text could hold one
        text = _XML_TAG.sub(_masked_tag, text)
    text = _XML_FIELD.sub(_masked_element, text)
    text = _JSON_FIELD.sub(_masked_pair, text)
    text = _FORM_FIELD.sub(_masked_form_field, text)
    return mask_personal_data(text)


def _masked_element(element: re.Match[str]) -> str:
    if not is_personal_field(element["name"]):
        cdata = element["cdata"]
        if not cdata or "<" not in cdata:  # no XML inside to mask (ids are masked after)
            return element[0]
        # A document wrapped in CDATA (a SOAP body's): its fields are masked as text. It holds
        # no `]`, so no CDATA of its own: this goes one level deep.
        start, end = element.span("cdata")
        whole, offset = element[0], element.start()
        return f"{whole[: start - offset]}{mask_text(cdata)}{whole[end - offset :]}"
    value = mask_field(element["cdata"] or element["text"] or "")
    return f"<{element['tag']}{element['attrs'] or ''}>{value}</{element['tag']}>"


def _masked_tag(tag: re.Match[str]) -> str:
    return _XML_ATTRIBUTE.sub(_masked_attribute, tag[0])


def _masked_attribute(attribute: re.Match[str]) -> str:
    if not attribute["text"] or not is_personal_field(attribute["name"]):
        return attribute[0]
    return f"{attribute['lead']}{mask_field(attribute['text'])}{attribute['quote']}"


def _masked_pair(pair: re.Match[str]) -> str:
    if not is_personal_field(pair["name"]):
        return pair[0]
    return f'"{pair["name"]}":"{mask_field(pair["text"])}"'


def _masked_form_field(field: re.Match[str]) -> str:
    if not is_personal_field(unquote_plus(field["name"])):
        return field[0]
    return field["lead"] + mask_field(unquote_plus(field["text"]))


def _field_plan(key: Any) -> tuple[Any, bool]:
    """A key as the journal keeps it (its id numbers masked: a map keyed by CCCD), and whether
    its value names or reaches a person (`lgsp.masking.is_personal_field`); remembered, as an
    answer's keys are the same few from call to call, up to a bound (keys a caller makes up)."""
    if type(key) is not str:
        return key, False
    plan = (mask_personal_data(key), is_personal_field(key))
    if len(key) <= _MAX_KNOWN_KEY_LENGTH:
        remember(_field_plans, key, plan, _MAX_KNOWN_KEYS)
    return plan


def valid_text(text: str) -> str:
    """Lone surrogates (from a JSON `\\ud800` escape) cannot be encoded: replace them."""
    if text.isascii():
        return text
    return text.encode("utf-8", errors="replace").decode("utf-8")


def _bounded_json(value: Any, limit: int) -> str:
    """`_cut(valid_text(compact_json_text(value)), limit)` without encoding the text again:
    orjson writes valid UTF-8 (it refuses a lone surrogate, and the stdlib takes over)."""
    try:
        data = orjson.dumps(value)
    except TypeError:
        return _cut(valid_text(compact_json_text(value)), limit)
    if len(data) > limit:
        data = data[:limit]
        return data.decode("utf-8", errors="ignore")
    return data.decode("utf-8")


def _cut(text: str, limit: int) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")
