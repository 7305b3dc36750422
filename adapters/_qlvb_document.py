"""The canonical document a client sends (`send_document`, DOMAIN.md §8.3), for the contract.

`formats.edxml.validate_document` is the judge: the bus renders the body to edXML with it, and
refuses what it refuses (422 with its `rule`). These models say the same in JSON Schema, so
that a client generated from `openapi/` builds a body the bus takes and a contract test's
generated bodies are ones the validator takes: each member, its type, whether it must be there
(a required member may not be null; an optional one may be null or absent), its pattern,
enumeration and bounds. Unknown members are refused at every level, as the validator refuses
them (`unknown_field`): `additionalProperties: false`. The identifiers' patterns are
`formats.codes`' and the limits `formats.edxml.DEFAULT_LIMITS`; the character classes are
written out here, as the validator's cannot be (it reads code points, a JSON Schema pattern
may read UTF-16), and `tests/unit/adapters/test_qlvb_document.py` holds them to it.

What no JSON Schema keyword says is in the descriptions (CanonicalDocument's lists them): a
trace timestamp's date must exist, content ids are unique, a declared size is the content's,
numbers are written without a fraction. The DocumentId derived when none is given must be one:
an `if`/`else` on `code` says so.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from formats.codes import ORGAN_ID
from formats.edxml import DEFAULT_LIMITS

# Characters XML 1.0 cannot carry (§2.2 Char), which no text member may hold (`bad_character`).
# Also refused, and not written here (Rust's and other validators' regexes refuse the escape): a
# lone surrogate, which JSON's `\uD800` can spell but is no Unicode text.
_BARRED = r"\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF"
_CHAR = rf"[^{_BARRED}]"
# What Python's str.strip() strips, less what is barred anyway: a name must hold another.
_SPACE = r"\x20\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
_VISIBLE = rf"[^{_BARRED}\x09\x0A\x0D{_SPACE}]"

TEXT = rf"^{_CHAR}*$"
NAME = rf"^{_CHAR}*{_VISIBLE}{_CHAR}*$"
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"  # 0001-9999
DATE = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
DATETIME = (
    rf"^{_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)
# `{organId},{yyyy/MM/dd},{number}/{notation}` (§3.2), the organ id strict; the notation may not
# end in whitespace, which edXML readers strip from ids.
_DOCUMENT_ID_NOTATION = rf"[^,{_BARRED}]*[^,\x09\x0A\x0D\x20{_BARRED}]"
DOCUMENT_ID = (
    rf"^{ORGAN_ID.strip('^$')},[0-9]{{4}}/[0-9]{{2}}/[0-9]{{2}},[0-9]+/{_DOCUMENT_ID_NOTATION}$"
)
# 1-128 printable ASCII characters, `cid:` before them or not (RFC 2392), which may not begin
# with `cid:` again: spelt out letter by letter, as a lookahead is not every reader's regex.
_CONTENT_ID = (
    r"(?:[!-bd-~][!-~]{0,127}|c(?:[!-hj-~][!-~]{0,126})?|ci(?:[!-ce-~][!-~]{0,125})?"
    r"|cid(?:[!-9;-~][!-~]{0,124})?)"
)
CONTENT_ID = rf"^(?:cid:)?{_CONTENT_ID}$"
# Base64 (RFC 4648 §4, padded), spaces, tabs and line breaks allowed anywhere, as in MIME.
_B64 = r"[\x20\x09\x0D\x0A]*[A-Za-z0-9+/]"
_PAD = r"[\x20\x09\x0D\x0A]*="
BASE64 = (
    rf"^(?:(?:{_B64}){{4}})*(?:(?:{_B64}){{2}}(?:{_PAD}){{2}}|(?:{_B64}){{3}}{_PAD})?"
    r"[\x20\x09\x0D\x0A]*$"
)
MAX_INT = 2**31 - 1
"""The reference SDK holds edXML's numbers in Java ints."""

Text = Annotated[str, Field(pattern=TEXT)]
OrganId = Annotated[str, Field(pattern=ORGAN_ID)]

_LIMITS = DEFAULT_LIMITS


def _text(description: str | None = None, **bounds: Any) -> Any:
    return Field(default=None, pattern=TEXT, description=description, **bounds)


def _name(description: str | None = None) -> Any:
    return Field(pattern=NAME, description=description)


def _number(description: str | None = None, *, default: Any = ...) -> Any:
    return Field(default=default, ge=0, le=MAX_INT, description=description)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class DocumentOrganisation(_Record):
    """From or To (DOMAIN.md §3.2): the organisation, by its organ id (QCVN 102 OrganId)."""

    organ_id: str = Field(pattern=ORGAN_ID, description="OrganId, strict: `NNN.NN.NN.XNN`.")
    organization_in_charge: str | None = _text("OrganizationInCharge: the body above it.")
    organ_name: str = _name("OrganName, not blank.")
    organ_add: str | None = _text("OrganAdd: its address.")
    email: str | None = _text()
    telephone: str | None = _text()
    fax: str | None = _text()
    website: str | None = _text()


class DocumentCode(_Record):
    """Code: the document's number and notation (số, ký hiệu), `42/STP-VP`."""

    code_number: str = _name(
        "CodeNumber. Unless `document_id` is given, the DocumentId is derived from it and must "
        "hold: digits, then nothing or `/` and more, no comma."
    )
    code_notation: str = Field(
        pattern=TEXT,
        description="CodeNotation. Unless `document_id` is given: no comma, not ending in "
        "whitespace, and not empty after a number of digits only.",
    )


class Promulgation(_Record):
    """PromulgationInfo: where and when the document was issued."""

    place: str = Field(pattern=TEXT, description="Place.")
    date: str = Field(
        pattern=DATE,
        json_schema_extra={"format": "date"},
        description="PromulgationDate, a real date, yyyy-mm-dd (written yyyy/MM/dd in edXML).",
    )


class DocumentType(_Record):
    """DocumentType: the kind of document (công văn, quyết định, …)."""

    type: int = _number("Type.")
    type_detail: int | None = _number("TypeDetail.", default=None)
    type_name: str = _name("TypeName, not blank: `Công văn`.")


class Signer(_Record):
    """SignerInfo: who signed it."""

    competence: str | None = _text("Competence.")
    position: str = Field(pattern=TEXT, description="Position.")
    full_name: str = _name("FullName, not blank.")


class OtherInfo(_Record):
    """OtherInfo."""

    priority: int = _number("Priority.")
    sphere_of_promulgation: str | None = _text("SphereOfPromulgation.")
    typer_notation: str | None = _text("TyperNotation.")
    promulgation_amount: int | None = _number("PromulgationAmount.", default=None)
    page_amount: int | None = _number("PageAmount.", default=None)
    direction: bool | None = Field(default=None, description="Direction.")
    appendixes: list[Text] | None = Field(
        default=None, description="Appendixes/Appendix, each text (null: none)."
    )


class TraceHeader(_Record):
    """TraceHeaderList/TraceHeader: an organisation the document passed, and when."""

    organ_id: str = Field(pattern=ORGAN_ID)
    timestamp: str = Field(
        pattern=DATETIME,
        description="Timestamp: local (Vietnam) time, yyyy-mm-ddTHH:MM:SS, no offset; the date "
        "must exist.",
    )


class BusinessStaffInfo(_Record):
    """Bussiness/StaffInfo: who handles the revocation, update or replacement."""

    department: str | None = _text()
    staff: str | None = _text()
    mobile: str | None = _text()
    email: str | None = _text()


class Replacement(_Record):
    """Bussiness/ReplacementInfoList/ReplacementInfo: a document replaced, and who received it."""

    document_id: str = Field(pattern=DOCUMENT_ID, description="DocumentId of that document.")
    organ_ids: list[OrganId] | None = Field(
        default=None, description="OrganIdList/OrganId: each an organ id, strict."
    )


class Business(_Record):
    """TraceHeaderList/Bussiness (DOMAIN.md §3.3; edXML's own spelling): what the message does."""

    business_doc_type: Literal[0, 1, 2, 3] = Field(
        description="BussinessDocType: 0 a new document, 1 a revocation, 2 an update, 3 a "
        "replacement of the document `document_id` names."
    )
    business_doc_reason: str | None = _text("BussinessDocReason.")
    document_id: str | None = Field(
        default=None, pattern=DOCUMENT_ID, description="DocumentId of the document it is about."
    )
    paper: Literal[0, 1] | None = Field(default=None, description="Paper: 1 sent on paper too.")
    staff_info: BusinessStaffInfo | None = None
    replacement_info: list[Replacement] | None = Field(default=None, description="(null: none)")


class Attachment(_Record):
    """An attached file, its bytes in base64 (AttachmentEncoded/Attachment and its manifest
    Reference, §3.1). Content ids are unique within the document (`duplicate_field`)."""

    content_id: str = Field(
        pattern=CONTENT_ID,
        description="ContentId: 1-128 printable ASCII characters, `cid:` before them or not "
        "(not twice).",
    )
    attachment_name: str = _name("AttachmentName, not blank.")
    description: str | None = _text("Description.")
    content_type: str = _name("ContentType, not blank: `application/pdf`.")
    content_base64: str = Field(
        pattern=BASE64,
        json_schema_extra={"contentEncoding": "base64"},
        description=f"The content, base64 (padded; whitespace is ignored), at most "
        f"{_LIMITS.max_attachment_bytes} bytes decoded.",
    )
    size_bytes: int | None = Field(
        default=None, ge=0, description="Its decoded size, if given; it must be that."
    )


# A document without its own `document_id` travels under one derived from its sender, date and
# code, which must then be a DocumentId (`bad_document_id`); `validate_document` derives it.
_DERIVED_ID_HOLDS: JsonDict = {
    "if": {"properties": {"document_id": {"type": "string"}}, "required": ["document_id"]},
    "else": {
        "properties": {
            "code": {
                "properties": {
                    "code_number": {"pattern": "^[0-9]+(?:/[^,]*)?$"},
                    "code_notation": {"pattern": r"^(?:[^,]*[^,\x09\x0A\x0D\x20])?$"},
                },
                "not": {
                    "properties": {
                        "code_number": {"pattern": "^[0-9]+$"},
                        "code_notation": {"maxLength": 0},
                    }
                },
            }
        }
    },
}


class CanonicalDocument(_Record):
    """The canonical document of DOMAIN.md §8.3, as `formats.edxml.validate_document` takes it
    (or, as application/xml, the edXML itself). Members are edXML's MessageHeader, TraceHeaderList
    and attachments under snake_case names; unknown members are refused (422 `unknown_field`),
    a required member may not be null. Also refused, which no keyword here says: a number written
    with a fraction (`1.0`), a lone surrogate (`\\uD800`) in text, a trace timestamp on a date
    that does not exist, two attachments with one content id, a `size_bytes` other than the
    content's. Each refusal is 422 INVALID_EDXML naming the member and the `rule`."""

    model_config = ConfigDict(json_schema_extra=_DERIVED_ID_HOLDS)

    from_: DocumentOrganisation = Field(alias="from", description="From: the sender.")
    to: list[DocumentOrganisation] = Field(min_length=1, description="To: the recipients.")
    document_id: str | None = Field(
        default=None,
        pattern=DOCUMENT_ID,
        description="DocumentId `{organId},{yyyy/MM/dd},{number}/{notation}`; absent or null: "
        "derived from `from.organ_id`, `promulgation.date` and `code`.",
    )
    code: DocumentCode
    promulgation: Promulgation
    document_type: DocumentType
    subject: str = Field(
        pattern=NAME,
        max_length=_LIMITS.max_subject_chars,
        description="Subject (trích yếu), not blank.",
    )
    content: str | None = _text("Content: the letter's text.", max_length=_LIMITS.max_content_chars)
    signer: Signer
    due_date: str | None = Field(
        default=None,
        pattern=DATE,
        json_schema_extra={"format": "date"},
        description="DueDate, a real date, yyyy-mm-dd.",
    )
    to_places: list[Text] | None = Field(
        default=None, description="ToPlaces/Place, each text (null: none)."
    )
    other_info: OtherInfo
    steering_type: Literal[0, 1] | None = Field(default=None, description="SteeringType.")
    trace_headers: list[TraceHeader] | None = Field(default=None, description="(null: none)")
    business: Business | None = Field(
        default=None, description="Absent or null: a new document (as BussinessDocType 0)."
    )
    attachments: list[Attachment] | None = Field(
        default=None,
        max_length=_LIMITS.max_attachments,
        description="(null: none) Content ids unique.",
    )
