"""Masks citizen id numbers in text, so that logs never hold a whole CCCD or CMND.

A CCCD (citizen identity card) number has 12 digits, an old CMND (identity card) 9. We keep the
first 3 digits (the province code of a CCCD) and the last 2, which is enough to tell two people's
records apart while debugging, and hide the rest.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import TypeVar
from urllib.parse import unquote_plus

_K = TypeVar("_K")
_V = TypeVar("_V")

# A whole run of exactly 12 or 9 digits: the digits inside a longer number are not an id.
# Found as every run of 9 or more (greedy, so whole runs), measured by `_mask_plain`: half the
# time of a pattern with lookarounds, which tries them at every character (issue 21). Spelt
# `\d\d{8,}`, not `\d{9,}`: a pattern that opens with one character class lets `re` skip to
# the next digit in C, where a repeat has it try a match at every character (a third of the
# cost on a line of text). `[0-9]` is the same class for ASCII text, checked without asking
# the Unicode database for each character.
_ID_RUN = re.compile(r"\d\d{8,}")
_ASCII_ID_RUN = re.compile(r"[0-9][0-9]{8,}")
_ASCII_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x2E for b in range(256))
"""`bytes.translate` table: an ASCII digit becomes `0`, any other byte `.`."""
_NINE_DIGITS = b"0" * 9
_KEEP_HEAD, _KEEP_TAIL = 3, 2
# A digit as a request target or a body may spell it: itself, percent-encoded (RFC 3986 §2.1;
# `%30` is 0) or an XML character reference (`&#48;`, `&#x30;`). Each is read as its digit
# before the run is measured, or `/citizens/%3091048993438` would be logged whole (F13).
# A full-width digit (U+FF10…FF19, which `\d` matches as it is) percent-encoded is
# `%EF%BC%90`…`%EF%BC%99`, in either case: a CCCD so spelt is refused 422, and was logged whole.
_ENCODED_DIGIT = re.compile(r"%3(\d)|&#0*(4[89]|5[0-7]);|&#[xX]0*3(\d);|%[eE][fF]%[bB][cC]%9(\d)")
_DIGIT_RUN = re.compile(r"(?:\d|%3\d|&#0*(?:4[89]|5[0-7]);|&#[xX]0*3\d;|%[eE][fF]%[bB][cC]%9\d)+")
_FULL_WIDTH = re.compile(r"%[eE][fF]%[bB][cC]%9")


def _mask_digits(digits: str) -> str:
    hidden = len(digits) - _KEEP_HEAD - _KEEP_TAIL
    return digits[:_KEEP_HEAD] + "*" * hidden + digits[-_KEEP_TAIL:]


_HIDDEN = ("",) * 9 + ("****", "", "", "*******")
"""What hides the middle of a run of 9 or 12 digits, by the run's length (`_mask_digits`)."""


def _mask_plain(match: re.Match[str]) -> str:
    run = match.group()
    size = len(run)
    if size == 12 or size == 9:
        return f"{run[:_KEEP_HEAD]}{_HIDDEN[size]}{run[-_KEEP_TAIL:]}"
    return run


def _decoded(match: re.Match[str]) -> str:
    percent, decimal, hexadecimal, full_width = match.groups()
    return percent or hexadecimal or full_width or chr(int(decimal))


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    digits = _ENCODED_DIGIT.sub(_decoded, run)
    return _mask_digits(digits) if len(digits) in (12, 9) else run


def mask_digit_run(digits: str) -> str:
    """A whole run of ASCII digits (9 or more) as `mask_personal_data` masks it: an id's
    length (12 or 9) masked, any other left, with no look at the text (the journal has found
    the run already)."""
    size = len(digits)
    if size == 12 or size == 9:
        return f"{digits[:_KEEP_HEAD]}{_HIDDEN[size]}{digits[-_KEEP_TAIL:]}"
    return digits


def mask_personal_data(text: str) -> str:
    """Replace each standalone 12- or 9-digit run: `091087000123` becomes `091*******23`, and
    so does `%3091087000123` (a run with an encoded digit is written decoded, then masked)."""
    if len(text) < 9:  # too short for an id, however it is spelt
        return text
    if text.isdecimal():  # one run: an id field's value, or a number the journal was given
        size = len(text)
        if size == 12 or size == 9:
            return f"{text[:_KEEP_HEAD]}{_HIDDEN[size]}{text[-_KEEP_TAIL:]}"
        return text
    if "%3" in text or "&#" in text or ("%" in text and _FULL_WIDTH.search(text)):
        return _DIGIT_RUN.sub(_mask_run, text)
    if not text.isascii():
        return _ID_RUN.sub(_mask_plain, text)
    # Where the runs of 9 are, found in C on bytes (`re` costs ~90 instructions a character):
    # most text has none, or one (a path, an access line), masked here with no `re` at all.
    classes = text.encode("ascii").translate(_ASCII_DIGITS)
    start = classes.find(_NINE_DIGITS)
    if start == -1:
        return text
    if classes.find(_NINE_DIGITS, start + 9) != -1:  # another run: each found by `re`
        return _ASCII_ID_RUN.sub(_mask_plain, text)
    end = classes.find(b".", start + 9)
    if end == -1:
        end = len(text)
    size = end - start
    if size == 12 or size == 9:
        return f"{text[: start + _KEEP_HEAD]}{_HIDDEN[size]}{text[end - _KEEP_TAIL :]}"
    return text


# A request id is the caller's own token, often a hex id or a uuid: a digit run inside one is
# no citizen's number, and `mask_personal_data` would change `0c268470460442df` (security
# re-probe #9; the 9+ digit rule was reverted for it). Here a run of exactly 9 or 12 digits is
# masked only where it stands on its own: between delimiters or the id's ends, or beside a
# letter no hex id holds (`cccd-091203001234`, `citizen091203001234`); a run beside a hex
# letter is part of a hex id, and a canonical uuid (8-4-4-4-12 hex) is never touched.
_NINE_DIGITS_RUN = re.compile(r"[0-9]{9}")
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_HEX_ID = re.compile(r"[0-9A-Fa-f]+")
_STANDING_RUN = re.compile(r"(?<![0-9A-Fa-f])(?:[0-9]{12}|[0-9]{9})(?![0-9A-Fa-f])")


def mask_request_id(request_id: str) -> str:
    """The id as logs, audit records and journal entries keep it: a citizen's number standing
    on its own masked (`cccd-091*******34`), a hex id or a uuid unchanged."""
    if _NINE_DIGITS_RUN.search(request_id) is None:  # most ids: nothing to look at
        return request_id
    # A hex id, such as the bus's own (a hop passes it on): a run of digits that stands on its
    # own would be all of it, and only 9 or 12 digits are masked (issue 21: the bus's ids end
    # in a zero-padded counter, and every hop after the first looked for uuids in them).
    if len(request_id) not in (9, 12) and _HEX_ID.fullmatch(request_id):
        return request_id
    uuids = [uuid.span() for uuid in _UUID.finditer(request_id)]

    def mask(run: re.Match[str]) -> str:
        inside_uuid = any(start <= run.start() < end for start, end in uuids)
        return run.group() if inside_uuid else _mask_digits(run.group())

    return _STANDING_RUN.sub(mask, request_id)


# Field names (JSON keys, form fields, XML elements, query parameters) whose value names or
# reaches a person: each phrase is a run of whole words of the name, however the name joins
# them (`SoDienThoaiNguoiThan`, `so_dien_thoai`, `sodienthoai`, `HO-TEN`), anywhere in it. A
# word alone is a word of the name: `phoneme`, `hotel`, `emails_sent` are not `phone`, `ho_ten`,
# `email`. `ten` and `name` are a person's only with a word saying whose (`HoTen`, `TenNguoi…`,
# `full_name`): `TenThuTuc`, `TenCoQuan`, `ServiceName` are the names of things. A phrase right
# before an organisation's word is the organisation's (`DiaChiCoQuan`, `EmailDonVi`), and a name
# ending in `id`, `ids` or `count` refers to a record rather than holding it (`full_name_id`),
# and a machine's address is no one's (`ip_address`, `remote_addr`).
PERSONAL_PHRASES = (
    # names
    "full_name", "applicant_name", "family_name", "given_name", "first_name", "last_name",
    "middle_name", "person_name", "citizen_name", "contact_name", "owner_name", "holder_name",
    "applicant", "actor", "staff", "ho_va_ten", "ho_ten", "ten_nguoi", "ten_cong_dan",
    "ten_chu_ho", "ten_can_bo", "ten_khai_sinh", "chu_ho", "nguoi_xu_ly", "nguoi_nop",
    "nguoi_ky", "nguoi_nhan", "nguoi_than", "nguoi_uy_quyen", "nguoi_dai_dien", "nguoi_khai",
    "nguoi_lien_he", "nguoi_yeu_cau",
    # contact
    "so_dien_thoai", "dien_thoai", "sdt", "di_dong", "phone", "mobile", "telephone", "tel",
    "email", "e_mail", "thu_dien_tu",
    # address
    "dia_chi", "address", "addr", "noi_o", "cho_o", "noi_cu_tru", "thuong_tru", "tam_tru",
    "que_quan", "noi_sinh",
    # birth
    "ngay_sinh", "nam_sinh", "birth", "birthday", "dob",
    # identity documents
    "cccd", "cmnd", "dinh_danh", "identity", "passport", "ho_chieu",
)  # fmt: skip
_ORGANISATION = r"(?:co_?quan|don_?vi|to_?chuc|doanh_?nghiep|organ|organi[sz]ation|agency)_"
_FIELD_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
"""A word of a field name: `SoCCCDNguoiUyQuyen` is So, CCCD, Nguoi, Uy, Quyen."""
_PERSONAL_PHRASE = re.compile(
    "_(?:{})_(?!{})".format(
        "|".join(phrase.replace("_", "_?") for phrase in PERSONAL_PHRASES), _ORGANISATION
    )
)
"""Searched in a name's words, lower case, each between `_`: `_so_dien_thoai_nguoi_than_`."""
_NOT_PERSONAL = re.compile(
    r"_(?:ids?|count)_$|_(?:ip|mac|remote|local|server|peer|host)_addr(?:ess)?_"
)
QUERY_NAMES = frozenset({"name", "ten"})
"""Query parameters named so alone hold a person's name: a query names whom it looks for, where
a body's `name` is as often a service's or an office's."""
_MAX_KNOWN_FIELDS = 4096
"""Field names whose answer is remembered at most (then forgotten together)."""
_MAX_KNOWN_FIELD_LENGTH = 64
"""A longer name is asked about every time (4,096 names each a body long would be a lot)."""
_personal_fields: dict[str, bool] = {}
_QUERY_ESCAPES = str.maketrans(
    {" ": "+", "+": "%2B", "%": "%25", "&": "%26", "#": "%23", '"': "%22"}
)
"""A masked value put back in a query string: a first letter kept cannot end the parameter or
the access line's quoted request (`"GET /x?name=" 200`)."""


def is_personal_field(name: str) -> bool:
    """Whether a field named `name` (a JSON key, a form field, an XML element, a query
    parameter) holds what names or reaches a person (`PERSONAL_PHRASES`); remembered, up to a
    bound, as the same few names come call after call."""
    known = _personal_fields.get(name)
    if known is not None:
        return known
    words = f"_{'_'.join(_FIELD_WORD.findall(_folded(name))).lower()}_"
    personal = _PERSONAL_PHRASE.search(words) is not None and not _NOT_PERSONAL.search(words)
    if len(name) <= _MAX_KNOWN_FIELD_LENGTH:
        remember(_personal_fields, name, personal, _MAX_KNOWN_FIELDS)
    return personal


def _folded(name: str) -> str:
    """`name` without Vietnamese accents (`HọTên` is `HoTen`, `ĐịaChỉ` `DiaChi`), as the word
    splitter reads ASCII letters only: `đ` has no decomposition and is mapped by hand."""
    if name.isascii():  # most names
        return name
    decomposed = unicodedata.normalize("NFKD", name.translate(_D_BAR))
    return "".join([char for char in decomposed if not unicodedata.combining(char)])


_D_BAR = str.maketrans("đĐ", "dD")


def remember(answers: dict[_K, _V], key: _K, answer: _V, most: int) -> None:
    """`answers[key] = answer`, the `answers` forgotten together first when they are `most`:
    the keys a caller can make up are endless."""
    if len(answers) >= most:
        answers.clear()
    answers[key] = answer


def mask_name(name: str) -> str:
    """Each word keeps its first letter: `Nguyễn Hữu Quang` becomes `N***** H** Q****`."""
    return " ".join([word[0].ljust(len(word), "*") for word in name.split()])


def mask_field(value: str) -> str:
    """The value of a personal field: an id number as everywhere (`091*******38`), anything
    else word by word (`mask_name`: `0*********`, `N***** H** Q****`)."""
    if value.isdecimal() and (len(value) == 12 or len(value) == 9):
        return mask_digit_run(value)
    return mask_name(value)


def mask_query(query: str, *, personal: bool = True) -> str:
    """A query string (no `?`) with the value of each parameter named like a personal field
    (or `QUERY_NAMES`) masked, `phone=0*********&name=N*****+H**+Q****`, unless not `personal`,
    and that of each named like a credential hidden in any case (`access_token=***`, RFC 6750
    §2.3): no log is a place for secrets. Which parameters are is remembered by the names a
    query has, in order: a client sends the same few shapes."""
    names = _QUERY_VALUE.sub("", query)  # `a=1&b=2` is `a&b`: its shape, found in C
    plan = _query_plans.get(names)
    if plan is None:
        plan = _query_plan(names, known=len(query) <= _MAX_KNOWN_QUERY_LENGTH)
    if not plan:  # most queries: a page, a filter
        return query
    parameters = query.split("&")
    for index, secret in plan:
        name, _, value = parameters[index].partition("=")
        if secret:
            parameters[index] = f"{name}=***"
        elif value and personal:
            masked = mask_field(unquote_plus(value)).translate(_QUERY_ESCAPES)
            parameters[index] = f"{name}={masked}"
    return "&".join(parameters)


_QUERY_VALUE = re.compile(r"=[^&]*")
_query_plans: dict[str, tuple[tuple[int, bool], ...]] = {}
_MAX_KNOWN_QUERY_LENGTH = 512
"""A longer query's shape is worked out every time (4,096 shapes of at most this much)."""
_SECRET_NAME = re.compile(r"token|secret|password|passwd|api[_-]?key|signature", re.IGNORECASE)


def _query_plan(names: str, *, known: bool) -> tuple[tuple[int, bool], ...]:
    """The parameters of a query, by their names (`a&b`), that are masked: each one's index and
    whether it is a credential (else it names or reaches a person)."""
    plan = []
    for index, name in enumerate(names.split("&")):
        if "%" in name or "+" in name:
            name = unquote_plus(name)
        if _SECRET_NAME.search(name):
            plan.append((index, True))
        elif is_personal_field(name) or name.lower() in QUERY_NAMES:
            plan.append((index, False))
    if known:
        remember(_query_plans, names, tuple(plan), _MAX_KNOWN_FIELDS)
    return tuple(plan)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_AUDIT_TEXT = 2048


def audit_text(text: str, *, limit: int = MAX_AUDIT_TEXT) -> str:
    """A caller-influenced value (path, claimed client id) as the audit log may hold it.

    Personal numbers masked, control characters percent-escaped (PostgreSQL text refuses NUL,
    and a record that cannot be written would turn the answer into a 503), at most `limit`
    characters, the last of a cut value being `…`.
    """
    masked = mask_personal_data(text)
    # Printable text has no control character: most values skip the substitution.
    escaped = (
        masked
        if masked.isprintable()
        else _CONTROL.sub(lambda match: f"%{ord(match.group()):02X}", masked)
    )
    return escaped if len(escaped) <= limit else escaped[: limit - 1] + "…"


_traceback_formatter = logging.Formatter()


class PersonalDataFilter(logging.Filter):
    """Masks id numbers in the rendered message, the traceback and the stack of each record.

    The message is rendered here, with its arguments, and stored as `msg` with no `args`: that
    also masks arguments that are not strings, such as the `httpx.URL` objects httpx logs.
    Attach it to a handler, not a logger: a logger's filters skip records from child loggers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A bad format string must still be logged, masked, rather than raise from logging.
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = mask_personal_data(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal_data(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal_data(record.stack_info)
        return True
