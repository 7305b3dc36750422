"""What the journal keeps of one exchange, and how bodies are bounded and masked before storage.

The journal exists so that a test can see what its client really sent and got back, and check
it (`POST {base}/admin/journal/verify`), as with WireMock's request journal. Unlike the audit
log it holds bodies; so each body is cut at `LGSP_JOURNAL_MAX_BODY_BYTES` and, unless the dev
profile asks otherwise (`LGSP_JOURNAL_UNMASKED`), masked: id numbers as in the logs
(`lgsp.masking`) and the values of fields that hold a person's name.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lgsp.masking import mask_personal_data

NAME_FIELDS = frozenset(
    {
        "full_name",  # canonical JSON (dancu, dvc, dvcqg)
        "applicant_name",
        "family_name",
        "given_name",
        "ho_va_ten",
        "HoVaTen",  # the citizen database's native envelope
        "HoTen",
        "ChuHoSo",  # DVCQG's applicant
        "FullName",  # edXML's SignerInfo
    }
)
"""Keys (JSON) and elements (XML) whose text is a person's name."""

_XML_NAME = re.compile(
    r"<(?P<tag>(?:[\w.-]+:)?(?:" + "|".join(sorted(NAME_FIELDS)) + r"))(?P<attrs>\s[^>]*)?>"
    r"(?P<text>[^<]*)</(?P=tag)>"
)
_MAX_JSON_DEPTH = 64
"""Deeper JSON is kept as text (masked as text): walking it must stay bounded."""


@dataclass(frozen=True, slots=True)
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
    """The first `limit` bytes of a streamed body, and whether there was more."""

    __slots__ = ("_chunks", "_kept", "limit", "truncated")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._chunks: list[bytes] = []
        self._kept = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.limit - self._kept
        if len(chunk) > room:
            self.truncated = True
            chunk = chunk[: max(room, 0)]
        if chunk:
            self._chunks.append(chunk)
            self._kept += len(chunk)

    @property
    def data(self) -> bytes:
        return b"".join(self._chunks)


def stored_body(data: bytes, content_type: str | None, *, masked: bool) -> str:
    """The text the journal stores for a body: UTF-8 (invalid bytes replaced), masked if asked.

    JSON is masked field by field and kept in its compact form; other text (XML, forms) is
    masked as text. NUL becomes U+FFFD: PostgreSQL's text type refuses it, and a journal row
    the database refuses would fail the call's audit transaction.
    """
    text = data.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    if not masked:
        return text
    if _is_json(content_type):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            document = None
        if document is not None and _depth_within(document, _MAX_JSON_DEPTH):
            return json.dumps(mask_document(document), ensure_ascii=False, separators=(",", ":"))
    return mask_text(text)


def mask_document(value: Any) -> Any:
    """A JSON value with id numbers masked in every string and names masked by key."""
    if isinstance(value, dict):
        return {
            key: mask_name(item)
            if key in NAME_FIELDS and isinstance(item, str)
            else mask_document(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_document(item) for item in value]
    if isinstance(value, str):
        return mask_personal_data(value)
    return value


def mask_text(text: str) -> str:
    """Id numbers anywhere, and the text of XML elements that hold a name."""
    named = _XML_NAME.sub(
        lambda match: (
            f"<{match['tag']}{match['attrs'] or ''}>{mask_name(match['text'])}</{match['tag']}>"
        ),
        text,
    )
    return mask_personal_data(named)


def mask_name(name: str) -> str:
    """Each word keeps its first letter: `Nguyễn Hữu Quang` becomes `N***** H** Q****`."""
    return " ".join(word[:1] + "*" * (len(word) - 1) for word in name.split())


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _depth_within(value: Any, limit: int) -> bool:
    """Iterative, so that checking a deep document cannot itself overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return False
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return True
