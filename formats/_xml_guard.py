"""Parse untrusted XML into a small tree, refusing everything that makes XML dangerous to read.

edXML arrives from other agencies' systems, so it is hostile until proven otherwise. We use the
standard library's expat directly (no ElementTree parse, no DOM) and refuse, before and while
parsing: any DOCTYPE (hence every DTD, entity declaration and external entity, so neither
billion laughs nor XXE can start), entity references other than the five predefined ones
(character references such as `&#13;` are fine), processing instructions, encodings other than
UTF-8, and inputs past the size, depth, element-count and attribute limits. The tree keeps
element names and text only: no attribute carries anything edXML 102 needs (DOMAIN.md §3.1).

One tag, comment or other piece of markup is bounded in bytes while it arrives, before expat
has read it whole: expat (before 2.6) scans an unfinished token again from its start at every
chunk, and one start tag of 1.5 million attributes held the event loop for 8 s
(SECURITY-PROBE-2026-12 F7).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any, NoReturn
from xml.parsers import expat

from formats.errors import TranslationError

# Fed in chunks so that a limit tripped early stops the work early: pyexpat keeps parsing the
# rest of the current buffer (without handlers) after a handler raises.
_CHUNK = 64 * 1024
_MIB = 1024 * 1024


@dataclass(frozen=True)
class EdxmlLimits:
    """Bounds on one edXML message; the defaults fit a real document with attachments."""

    max_bytes: int = 20 * _MIB
    max_depth: int = 32
    max_elements: int = 10_000
    max_attributes: int = 64  # of one element; edXML's carry none we read
    max_markup_bytes: int = 64 * 1024  # of one tag, comment or declaration, while it arrives
    max_attachments: int = 50
    max_attachment_bytes: int = 10 * _MIB  # decoded size of each attachment
    # A subject ("trích yếu") is a line or two; four of 6 MiB made an agency's inbox page larger
    # than any gateway passes on (SECURITY-PROBE-2026-12 F12). Content is the letter's text.
    max_subject_chars: int = 1_000
    max_content_chars: int = 100_000


DEFAULT_LIMITS = EdxmlLimits()


class InvalidEdxml(TranslationError):
    """An edXML message or its canonical JSON that breaks a rule; `rule` says which one.

    Details name elements and fields, never their values: documents carry personal data.
    """

    code = "INVALID_EDXML"
    status = 422
    title = "The edXML message is invalid"

    def __init__(self, detail: str, *, rule: str, **extensions: Any) -> None:
        super().__init__(detail, rule=rule, **extensions)
        self.rule = rule


@dataclass(eq=False)
class Node:
    """One element: `tag` is `{namespace}local` (or `local` outside any namespace)."""

    tag: str
    children: list[Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def local(self) -> str:
        return self.tag.rpartition("}")[2]


def parse_xml(data: bytes, limits: EdxmlLimits = DEFAULT_LIMITS) -> Node:
    """The root of `data`'s element tree, or InvalidEdxml with a stable rule."""
    if len(data) > limits.max_bytes:
        raise InvalidEdxml(
            f"The message is larger than the limit of {limits.max_bytes} bytes.", rule="too_large"
        )
    _refuse_declarations(data)
    builder = _TreeBuilder(limits)
    parser = expat.ParserCreate(encoding="utf-8", namespace_separator="}")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    builder.install(parser)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        view = memoryview(data)  # chunks without copying the message
        silent = 0  # bytes fed since expat last reported anything: one unfinished token
        for start in range(0, max(len(data), 1), _CHUNK):
            chunk, final = view[start : start + _CHUNK], start + _CHUNK >= len(data)
            decoder.decode(chunk, final)  # only to refuse non-UTF-8 with a clear rule
            events = builder.events
            parser.Parse(chunk, final)
            silent = silent + len(chunk) if builder.events == events else 0
            if silent > limits.max_markup_bytes:
                raise InvalidEdxml(
                    f"A tag, comment or declaration is longer than {limits.max_markup_bytes} "
                    "bytes.",
                    rule="markup_too_long",
                )
    except UnicodeDecodeError:
        raise InvalidEdxml("The message is not UTF-8 text.", rule="not_utf8") from None
    except expat.ExpatError as error:
        raise _expat_error(error) from None
    if builder.root is None:  # expat reports "no element found" first; kept for the type checker
        raise InvalidEdxml("The message has no root element.", rule="not_well_formed")
    return builder.root


def _refuse_declarations(data: bytes) -> None:
    """Refuse DTDs before expat sees a byte: no DTD, no entity expansion, no external fetch.

    Exact because the input must be UTF-8 and expat is forced to read it as UTF-8, so no other
    encoding can hide the markup. A comment that merely mentions these words is refused too: a
    false positive we accept.
    """
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise InvalidEdxml(
            "Document type declarations (DTDs) and entity declarations are not accepted.",
            rule="dtd_forbidden",
        )


def _expat_error(error: expat.ExpatError) -> InvalidEdxml:
    # Expat's messages name the fault, not the content, so they are safe to repeat.
    where = f"line {error.lineno}, column {error.offset}"
    message = expat.ErrorString(error.code)
    if error.code == expat.errors.codes[expat.errors.XML_ERROR_UNDEFINED_ENTITY]:
        return InvalidEdxml(
            f"Only the five predefined XML entities are accepted ({where}).",
            rule="entity_forbidden",
        )
    return InvalidEdxml(
        f"The message is not well-formed XML: {message} ({where}).", rule="not_well_formed"
    )


_DOCTYPE_HANDLERS = (
    "StartDoctypeDeclHandler",
    "EntityDeclHandler",
    "UnparsedEntityDeclHandler",
    "NotationDeclHandler",
    "ExternalEntityRefHandler",
    "SkippedEntityHandler",
)
"""Every expat event a DTD, an entity or a notation raises: each one refuses the message."""


class _TreeBuilder:
    def __init__(self, limits: EdxmlLimits) -> None:
        self._limits = limits
        self._stack: list[Node] = []
        self._count = 0
        self.events = 0
        self.root: Node | None = None

    def install(self, parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.CommentHandler = self._comment
        parser.XmlDeclHandler = self._xml_decl
        parser.ProcessingInstructionHandler = self._processing_instruction
        # Unreachable after the pre-scan; kept so that the refusal never rests on one check.
        for handler in _DOCTYPE_HANDLERS:
            setattr(parser, handler, self._doctype)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        self.events += 1
        if len(attributes) > self._limits.max_attributes:
            raise InvalidEdxml(
                f"An element has more than {self._limits.max_attributes} attributes.",
                rule="too_many_attributes",
            )
        self._count += 1
        if self._count > self._limits.max_elements:
            raise InvalidEdxml(
                f"The message has more than {self._limits.max_elements} elements.",
                rule="too_many_elements",
            )
        if len(self._stack) >= self._limits.max_depth:
            raise InvalidEdxml(
                f"Elements are nested deeper than {self._limits.max_depth} levels.",
                rule="too_deep",
            )
        uri, separator, local = name.rpartition("}")
        node = Node(f"{{{uri}}}{local}" if separator else local)
        if self._stack:
            self._stack[-1].children.append(node)
        else:
            self.root = node
        self._stack.append(node)

    def _end(self, _name: str) -> None:
        self.events += 1
        self._stack.pop()

    def _data(self, text: str) -> None:
        self.events += 1
        self._stack[-1].text_parts.append(text)

    def _comment(self, _text: str) -> None:
        self.events += 1

    def _xml_decl(self, _version: str, encoding: str | None, _standalone: int) -> None:
        if encoding is not None and encoding.lower() not in ("utf-8", "utf8"):
            raise InvalidEdxml(
                "The message declares an encoding other than UTF-8.", rule="not_utf8"
            )

    def _processing_instruction(self, _target: str, _data: str) -> NoReturn:
        raise InvalidEdxml("Processing instructions are not accepted.", rule="pi_forbidden")

    def _doctype(self, *_args: object) -> NoReturn:
        raise InvalidEdxml(
            "Document type declarations (DTDs) and entities are not accepted.",
            rule="dtd_forbidden",
        )
