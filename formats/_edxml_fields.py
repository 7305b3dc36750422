"""The building blocks of formats/edxml.py: one leaf's rules, shared by both directions.

Each edXML leaf is described once (`Field`: canonical key, element name, kind, required) and the
same kind-specific check runs on the JSON value and on the XML text. That shared check is what
makes the round trip lossless by construction rather than by care.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, time
from types import MappingProxyType
from typing import Any

from formats._xml_guard import EdxmlLimits, InvalidEdxml, Node

NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
PREFIX = "edXML:"  # the prefix the reference SDK writes (DOMAIN.md §3.1)

# edXML StatusCode (DOMAIN.md §3.6, two independent codebases agree; names from §8.3).
STATUS_CODES: Mapping[str, str] = MappingProxyType(
    {
        "01": "ARRIVED",
        "02": "REJECTED",
        "03": "ACCEPTED",
        "04": "ASSIGNED",
        "05": "PROCESSING",
        "06": "DONE",
        "13": "RECALL_REQUESTED",
        "15": "RECALL_ACCEPTED",
        "16": "RECALL_REFUSED",
    }
)
# ASCII digits only (`\d` also matches other scripts' digits); forms from DOMAIN.md §8.2.
_ORGAN_ID = re.compile(r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}")
# What the national axis carries anyway (FIDELITY-2026 §2: the SDK's own samples hold
# `28.22.H17` and `01.02.G22`): printable ASCII without commas or spaces, which would break a
# DocumentId, and short enough for the systems' columns. Anything else is refused outright.
_LOOSE_ORGAN_ID = re.compile(r"[!-+\--~]{1,16}")
_LOOSE_DOCUMENT_ID = re.compile(r"[!-+\--~]{1,16},[0-9]{4}/[0-9]{2}/[0-9]{2},[^,]*[^, \t\r\n]")
MAX_WARNINGS = 20
# `{organId},{yyyy/MM/dd},{number}/{notation}`. The date is checked for shape, not as a calendar
# date: the VPCP sample edoc_new.edxml itself carries `2014/02/30` in Bussiness/DocumentId. The
# notation may not end in whitespace, which edXML readers (this one too) strip from ids.
_DOCUMENT_ID = re.compile(
    r"[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2},"  # organ id (strict form)
    r"[0-9]{4}/[0-9]{2}/[0-9]{2},"  # promulgation date
    r"[0-9]+/[^,]*[^, \t\r\n]"  # number / notation
)
_DATE = {
    "json": re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"),
    "xml": re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2})"),
}
_DATETIME = {
    "json": re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"),
    "xml": re.compile(r"([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})"),
}
_DAY_FIRST_DATETIME = re.compile(
    r"([0-9]{2})/([0-9]{2})/([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2})"
)
"""`dd/MM/yyyy HH:mm:ss`: how a C# client writes a status Timestamp (DOMAIN.md §3.4, "Real
systems vary"); read as a nonconformity (`bad_date`), refused by a strict reader."""
_DIGITS = re.compile(r"[0-9]{1,10}")
# RFC 2392 content ids are ASCII; one without spaces also survives `cid:` prefixing.
_CONTENT_ID = re.compile(r"[!-~]{1,128}")
# Characters XML 1.0 cannot carry at all (§2.2 Char), not even as character references.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML_SPACE = str.maketrans("", "", " \t\r\n")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_MAX_INT = 2**31 - 1  # the reference SDK holds these numbers in Java ints
# flag: Paper and SteeringType, 0 or 1; business_type: BussinessDocType 0 new, 1 revocation,
# 2 update, 3 replacement (DOMAIN.md §3.3).
_CHOICES = {"flag": range(2), "business_type": range(4)}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}  # xs:boolean lexical forms


@dataclass(frozen=True)
class Nonconformity:
    """A departure from QCVN 102 the national axis carries anyway: `rule` is the code a strict
    reader refuses it with, `detail` names the element, never its value."""

    rule: str
    detail: str


# The nonconformities of the message being read leniently; None: read strictly (refuse them).
_NOTED: ContextVar[list[Nonconformity] | None] = ContextVar("edxml_noted", default=None)


@contextmanager
def noting() -> Iterator[list[Nonconformity]]:
    """Read leniently inside: nonconformities are collected (at most MAX_WARNINGS) not raised."""
    found: list[Nonconformity] = []
    token = _NOTED.set(found)
    try:
        yield found
    finally:
        _NOTED.reset(token)


def nonconforming(detail: str, *, rule: str) -> None:
    """Refuse a departure from the standard, or note it when reading leniently (`noting`)."""
    found = _NOTED.get()
    if found is None:
        raise InvalidEdxml(detail, rule=rule)
    note = Nonconformity(rule, detail)
    if len(found) < MAX_WARNINGS and note not in found:
        found.append(note)


@dataclass(frozen=True)
class Field:
    """One leaf: its canonical key, its edXML element, how to check it, whether it must exist.

    Kinds: text (kept exactly), name (text that is not blank), int, flag, business_type, bool,
    date, datetime, organ_id, document_id, status_code, content_id.
    """

    key: str
    tag: str
    kind: str = "text"
    required: bool = False
    essential: bool = False
    """Needed to route or identify the message: missing, it is refused even when reading
    leniently. Other required fields missing are a nonconformity (`missing_field`)."""


def json_object(
    value: Any, where: str, keys: Sequence[str], spec: Sequence[Field] = ()
) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidEdxml(f"{where} must be an object.", rule="bad_value")
    allowed = {*keys, *(f.key for f in spec)}
    unknown = sorted(str(key)[:40] for key in value if key not in allowed)
    if unknown:  # a misspelt key would otherwise vanish silently
        raise InvalidEdxml(
            f"{where} has unknown fields: {', '.join(unknown[:5])}.", rule="unknown_field"
        )
    return value


def json_required(record: Mapping[str, Any], key: str, where: str) -> Any:
    if record.get(key) is None:
        raise InvalidEdxml(f"{where} has no {key}.", rule="missing_field")
    return record[key]


MAX_REPORTED_FIELDS = 50
"""A body missing more required fields than this is reported by its first ones."""


def missing_required(
    record: Mapping[str, Any], required: Sequence[tuple[str, Sequence[Field] | None]]
) -> list[dict[str, Any]]:
    """Every required key absent from `record`, and every required field absent from those
    records that are present, as `errors` entries shaped like the other services'
    (`{"loc": ["body", …], "msg", "type": "missing"}`): one answer names them all. `required`
    pairs a key with the fields of its record, or None for a value (a list counts as absent
    when empty). Values of other types are left to the field-by-field check."""
    errors: list[dict[str, Any]] = []
    for key, spec in required:
        value = record.get(key)
        if value is None or (spec is None and isinstance(value, list) and not value):
            errors.append({"loc": ["body", key], "msg": "Field required", "type": "missing"})
        elif spec is not None and isinstance(value, Mapping):
            errors.extend(
                {"loc": ["body", key, f.key], "msg": "Field required", "type": "missing"}
                for f in spec
                if f.required and value.get(f.key) is None
            )
    return errors[:MAX_REPORTED_FIELDS]


def refuse_missing(where: str, errors: list[dict[str, Any]]) -> None:
    """InvalidEdxml `missing_field` naming every field of `errors` (`missing_required`)."""
    if errors:
        names = ", ".join(".".join(error["loc"][1:]) for error in errors)
        raise InvalidEdxml(
            f"{where} lacks required fields: {names}; see `errors`.",
            rule="missing_field",
            errors=errors,
        )


def json_list(value: Any, where: str, *, required: bool = False) -> list[Any]:
    if value is None:
        value = []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidEdxml(f"{where} must be a list.", rule="bad_value")
    if required and not value:
        raise InvalidEdxml(f"{where} must name at least one entry.", rule="missing_field")
    return list(value)


def record_from_json(
    value: Any, spec: Sequence[Field], where: str, extra: Sequence[str] = ()
) -> dict[str, Any]:
    record = json_object(value, where, extra, spec)
    return {f.key: field_from_json(f, record.get(f.key), f"{where}.{f.key}") for f in spec}


def field_from_json(f: Field, value: Any, where: str) -> Any:
    if value is None:
        if f.required:
            raise InvalidEdxml(f"{where} is missing.", rule="missing_field")
        return None
    if f.kind in ("int", *_CHOICES):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidEdxml(f"{where} must be an integer.", rule="bad_number")
        return _check_int(f.kind, value, where)
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise InvalidEdxml(f"{where} must be true or false.", rule="bad_value")
        return value
    if not isinstance(value, str):
        raise InvalidEdxml(f"{where} must be a string.", rule="bad_value")
    if f.kind in ("text", "name"):
        return _check_text(f.kind, value, where)
    if f.kind in ("date", "datetime"):
        return _check_moment(f.kind, value, "json", where)
    return check_code(f.kind, value, where)


def text_list_from_json(value: Any, where: str) -> list[str]:
    entry = Field("", "", "text", True)
    return [
        field_from_json(entry, item, f"{where}[{i}]")
        for i, item in enumerate(json_list(value, where))
    ]


def children(parent: Node, tag: str) -> list[Node]:
    qualified = f"{{{NAMESPACE}}}{tag}"
    return [child for child in parent.children if child.tag == qualified]


def one(parent: Node, tag: str, where: str, *, required: bool) -> Node | None:
    found = children(parent, tag)
    if len(found) > 1:  # two Subjects would let two readers see two documents
        raise InvalidEdxml(f"{where} has more than one {tag}.", rule="duplicate_field")
    if not found and required:
        raise InvalidEdxml(f"{where} has no {tag}.", rule="missing_field")
    return found[0] if found else None


def need(parent: Node, tag: str, where: str) -> Node:
    node = one(parent, tag, where, required=False)
    if node is None:
        raise InvalidEdxml(f"{where} has no {tag}.", rule="missing_field")
    return node


def leaf_text(node: Node, where: str) -> str:
    if node.children:
        raise InvalidEdxml(f"{where} must hold text, not elements.", rule="bad_value")
    return node.text


def record_from_xml(node: Node, spec: Sequence[Field], where: str) -> dict[str, Any]:
    return {f.key: field_from_xml(node, f, where) for f in spec}


def field_from_xml(parent: Node, f: Field, where: str) -> Any:
    child = one(parent, f.tag, where, required=f.required and f.essential)
    if child is None:
        if f.required:
            nonconforming(f"{where} has no {f.tag}.", rule="missing_field")
        return None
    path = f"{where}/{f.tag}"
    text = leaf_text(child, path)
    if f.kind in ("text", "name"):
        return _check_text(f.kind, text, path)
    bare = text.strip(" \t\r\n")
    if f.kind in ("int", *_CHOICES):
        if not _DIGITS.fullmatch(bare):
            raise InvalidEdxml(f"{path} must be a whole number.", rule="bad_number")
        return _check_int(f.kind, int(bare), path)
    if f.kind == "bool":
        if bare not in _BOOLEANS:
            raise InvalidEdxml(f"{path} must be true or false.", rule="bad_value")
        return _BOOLEANS[bare]
    if f.kind in ("date", "datetime"):
        return _check_moment(f.kind, bare, "xml", path)
    return check_code(f.kind, bare, path)


def text_list_from_xml(parent: Node, container: str, tag: str, where: str) -> list[str]:
    node = one(parent, container, where, required=False)
    if node is None:
        return []
    items = []
    for i, item in enumerate(children(node, tag)):
        path = f"{where}/{container}/{tag}[{i}]"
        items.append(_check_text("text", leaf_text(item, path), path))
    return items


class Writer:
    """Indented edXML; leaf text goes in verbatim (escaped), so its whitespace survives."""

    def __init__(self) -> None:
        self._lines = ['<?xml version="1.0" encoding="UTF-8"?>']
        self._depth = 0

    def open(self, tag: str, attributes: str = "") -> None:
        self._lines.append(f"{'  ' * self._depth}<{tag}{attributes}>")
        self._depth += 1

    def close(self, tag: str) -> None:
        self._depth -= 1
        self._lines.append(f"{'  ' * self._depth}</{tag}>")

    def leaf(self, tag: str, text: str) -> None:
        self._lines.append(f"{'  ' * self._depth}<{tag}>{text.translate(_ESCAPES)}</{tag}>")

    def fields(
        self, spec: Sequence[Field], record: Mapping[str, Any], prefix: str = PREFIX
    ) -> None:
        for f in spec:
            value = record[f.key]
            if value is not None:
                self.leaf(f"{prefix}{f.tag}", xml_text(f.kind, value))

    def record(self, tag: str, spec: Sequence[Field], record: Mapping[str, Any]) -> None:
        self.open(f"{PREFIX}{tag}")
        self.fields(spec, record)
        self.close(f"{PREFIX}{tag}")

    def text_list(self, container: str, tag: str, items: Sequence[str]) -> None:
        if items:
            self.open(f"{PREFIX}{container}")
            for item in items:
                self.leaf(f"{PREFIX}{tag}", item)
            self.close(f"{PREFIX}{container}")

    def to_bytes(self) -> bytes:
        return ("\n".join(self._lines) + "\n").encode("utf-8")


def _check_text(kind: str, value: str, where: str) -> str:
    if _NOT_XML_CHAR.search(value):
        raise InvalidEdxml(f"{where} holds a character XML 1.0 cannot carry.", rule="bad_character")
    if kind == "name" and not value.strip():
        raise InvalidEdxml(f"{where} is blank.", rule="missing_field")
    return value


def _check_int(kind: str, value: int, where: str) -> int:
    if not 0 <= value <= _MAX_INT:
        raise InvalidEdxml(f"{where} must be between 0 and {_MAX_INT}.", rule="bad_number")
    choices = _CHOICES.get(kind)
    if choices is not None and value not in choices:
        raise InvalidEdxml(f"{where} must be one of {list(choices)}.", rule="bad_value")
    return value


def _check_moment(kind: str, text: str, side: str, where: str) -> str:
    """An ISO date or datetime from either side's form; only real calendar values pass."""
    match = (_DATE if kind == "date" else _DATETIME)[side].fullmatch(text)
    shown = {"json": "yyyy-mm-dd", "xml": "yyyy/MM/dd"}[side]
    if kind == "datetime":
        shown += {"json": "THH:MM:SS", "xml": " HH:mm:ss"}[side]
    day_first = _DAY_FIRST_DATETIME.fullmatch(text) if kind == "datetime" else None
    if match is not None:
        numbers = [int(group) for group in match.groups()]
    elif side == "xml" and day_first is not None:
        nonconforming(f"{where} is written dd/MM/yyyy HH:mm:ss, not {shown}.", rule="bad_date")
        day_, month, year, *clock = (int(group) for group in day_first.groups())
        numbers = [year, month, day_, *clock]
    else:
        raise InvalidEdxml(f"{where} must be written {shown}.", rule="bad_date")
    try:
        day = date(numbers[0], numbers[1], numbers[2])
        moment = time(numbers[3], numbers[4], numbers[5]) if kind == "datetime" else time()
    except ValueError:
        raise InvalidEdxml(f"{where} is not a real date or time.", rule="bad_date") from None
    return day.isoformat() if kind == "date" else f"{day.isoformat()}T{moment.isoformat()}"


def check_code(kind: str, value: str, where: str) -> str:
    if kind == "organ_id" and not _ORGAN_ID.fullmatch(value):
        detail = f"{where} is not an organisation id like 000.00.00.H30."
        if not _LOOSE_ORGAN_ID.fullmatch(value):
            raise InvalidEdxml(detail, rule="bad_organ_id")
        nonconforming(detail, rule="bad_organ_id")
    if kind == "document_id" and (not _DOCUMENT_ID.fullmatch(value) or _NOT_XML_CHAR.search(value)):
        detail = f"{where} is not a DocumentId like 000.00.00.H30,2024/03/15,123/UBND-VP."
        if not _LOOSE_DOCUMENT_ID.fullmatch(value) or _NOT_XML_CHAR.search(value):
            raise InvalidEdxml(detail, rule="bad_document_id")
        nonconforming(detail, rule="bad_document_id")
    if kind == "status_code" and value not in STATUS_CODES:
        raise InvalidEdxml(
            f"{where} must be one of {', '.join(STATUS_CODES)}.", rule="bad_status_code"
        )
    if kind == "content_id":
        value = value.removeprefix("cid:")  # `cid:` in the manifest, either way elsewhere (§3.5)
        if not _CONTENT_ID.fullmatch(value) or value.startswith("cid:"):
            raise InvalidEdxml(
                f"{where} must be 1-128 printable ASCII characters.", rule="bad_value"
            )
    return value


def xml_text(kind: str, value: Any) -> str:
    if kind == "bool":
        return "true" if value else "false"
    if kind == "date":
        return str(value).replace("-", "/")
    if kind == "datetime":
        return str(value).replace("-", "/").replace("T", " ")
    if kind == "content_id":
        return f"cid:{value}"
    return str(value)


def decode_base64(text: str, where: str, limits: EdxmlLimits) -> bytes:
    compact = text.translate(_XML_SPACE)  # MIME-style line breaks are common in the wild
    padding = len(compact) - len(compact.rstrip("="))
    if len(compact) * 3 // 4 - min(padding, 2) > limits.max_attachment_bytes:  # before decoding
        raise InvalidEdxml(
            f"{where} decodes to more than {limits.max_attachment_bytes} bytes.",
            rule="attachment_too_large",
        )
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEdxml(f"{where} is not valid base64.", rule="bad_base64") from None
